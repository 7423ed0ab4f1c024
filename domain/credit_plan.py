"""What a credit memo takes back on each invoice line: a quantity of the sources it billed, or
an amount (a concession, ADR 0027).

- A quantity credit takes back hours or units with their value; issued, it releases them to be
  billed again unless the memo says `write_off`.
- An amount credit takes back value and no quantity; it is a concession (written off, leakage)
  unless the request says it releases. On a time or expense line a releasing amount credit is
  a price correction (no hours return); on a milestone or installment line it makes that
  amount billable again on that part (ADR 0026).

Either way the total credited on a line, drafts reserved, never exceeds what the line billed
net of earlier credits; a quantity credit after an amount credit takes the value that is left
in proportion, so the two together never exceed the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from domain.billing import Allocation, SourceKind, SourceRef
from domain.document import DocumentLine
from domain.errors import DomainError, OverCreditError
from domain.invoice import Invoice
from domain.money import EXACT, Money, dsum, largest_remainder
from domain.plausibility import HoursTooPreciseError, check_hours

ZERO = Decimal(0)


class CreditRequestError(DomainError):
    """A credit request names either a quantity or an amount, and only an amount credit says
    whether it releases."""

    code = "invalid_credit_request"


class UncreditableLineError(DomainError):
    """A credit takes back what a line billed: a negative line (a withheld retention, a credit
    adjustment) billed nothing to take back."""

    code = "line_not_creditable"


@attrs.frozen
class CreditRequest:
    """What to credit on one invoice line.

    - `source` and `quantity`: that quantity of that source (e.g. 3 h of one time entry);
    - `source` alone: all that is left of that source on the line;
    - `quantity` alone: that quantity, taken from the line's last allocations first;
    - `amount` (with or without `source`): that value and no quantity, a concession unless
      `releases` says the amount is to be billed again (ADR 0027);
    - none of these: the whole line (what is left of it).
    """

    line_no: int
    source: SourceRef | None = None
    quantity: Decimal | None = None
    amount: Decimal | None = None
    releases: bool = False

    def __attrs_post_init__(self) -> None:
        if self.quantity is not None and self.amount is not None:
            raise CreditRequestError(
                f"line {self.line_no}: credit a quantity or an amount, not both"
            )
        if self.amount is not None and self.amount <= 0:
            raise CreditRequestError(f"line {self.line_no}: a credited amount is positive")
        if self.releases and self.amount is None:
            raise CreditRequestError(
                f"line {self.line_no}: a quantity credit releases unless the memo writes it "
                "off; `releases` belongs to an amount credit"
            )

    @property
    def is_concession(self) -> bool:
        """An amount credit that does not release is forgiven for good."""
        return self.amount is not None and not self.releases


@attrs.frozen
class PlannedCredit:
    """One credit line to be: the invoice line, what it takes back, and whether it is written
    off whatever the memo says (an amount concession)."""

    line: DocumentLine
    allocations: tuple[Allocation, ...]
    conceded: bool = False


def plan_credit(invoice: Invoice, requests: Sequence[CreditRequest]) -> list[PlannedCredit]:
    """Which quantity or amount of which allocation each request takes back."""
    planner = _CreditPlanner(invoice)
    planned = []
    for request in requests:
        line = invoice.line(request.line_no)
        if line.amount.is_negative() or any(a.amount.is_negative() for a in line.allocations):
            raise UncreditableLineError(
                f"line {line.line_no} of invoice {invoice.number} is negative "
                f"({line.amount}): there is nothing on it to credit"
            )
        if request.quantity is not None and request.quantity <= 0:
            raise CreditRequestError(
                f"line {line.line_no}: a credited quantity is positive, not {request.quantity}"
            )
        if request.quantity is not None and _bills_hours(line, request.source):
            left = planner.quantity_left(line, request.source)
            _check_credited_hours(line.line_no, request.quantity, left)
        if request.amount is not None:
            allocations = planner.take_amount(line, request.source, request.amount)
        elif request.source is not None:
            quantity = request.quantity
            if quantity is None:
                quantity = planner.left(line.line_no, request.source)[0]
            allocations = [planner.take(line, request.source, quantity)]
        else:
            allocations = planner.spread(line, request.quantity)
        if not allocations:
            raise OverCreditError(
                f"line {line.line_no} of invoice {invoice.number} is already fully credited"
            )
        planned.append(PlannedCredit(line, tuple(allocations), request.is_concession))
    return planned


def _bills_hours(line: DocumentLine, source: SourceRef | None) -> bool:
    """Whether the quantity credited is hours of time entries (from one source, or spread over
    a line of time)."""
    if source is not None:
        return source.kind is SourceKind.TIME_ENTRY
    return bool(line.allocations) and all(
        a.source.kind is SourceKind.TIME_ENTRY for a in line.allocations
    )


def _check_credited_hours(line_no: int, hours: Decimal, left: Decimal) -> None:
    """Hours credited carry the precision of the hours recorded: at most two decimals (0.01 h),
    as every time entry does; a finer quantity would release a sliver no entry can hold. All
    that is left of a source or a line is always creditable, however fine: a payer's share of
    split hours may be."""
    if hours == left:
        return
    try:
        check_hours(hours)
    except HoursTooPreciseError as error:
        raise CreditRequestError(f"line {line_no}: {error}") from None


class _CreditPlanner:
    """Checks each take against what is left on the line, earlier requests included."""

    def __init__(self, invoice: Invoice) -> None:
        self.invoice = invoice
        self.taken: dict[tuple[int, SourceRef], tuple[Decimal, Decimal]] = {}

    def left(self, line_no: int, source: SourceRef) -> tuple[Decimal, Decimal]:
        qty, amount = self.invoice.creditable(line_no, source)
        used_qty, used_amount = self.taken.get((line_no, source), (ZERO, ZERO))
        return EXACT.subtract(qty, used_qty), EXACT.subtract(amount, used_amount)

    def quantity_left(self, line: DocumentLine, source: SourceRef | None) -> Decimal:
        """What is left to credit of one source on the line, or of the whole line."""
        sources = [source] if source is not None else [a.source for a in line.allocations]
        return dsum(self.left(line.line_no, s)[0] for s in sources)

    def _record(self, line_no: int, source: SourceRef, quantity: Decimal, amount: Decimal) -> None:
        used_qty, used_amount = self.taken.get((line_no, source), (ZERO, ZERO))
        self.taken[(line_no, source)] = (
            EXACT.add(used_qty, quantity),
            EXACT.add(used_amount, amount),
        )

    def _allocation(
        self, line: DocumentLine, source: SourceRef, qty: Decimal, amount: Decimal
    ) -> Allocation:
        self._record(line.line_no, source, qty, amount)
        billed = next(a for a in line.allocations if a.source == source)
        return Allocation(
            source, qty, Money(amount, self.invoice.currency), billed.terms, billed.payer
        )

    def _spent(self, line: DocumentLine, source: SourceRef) -> bool:
        """An allocation whose value amount credits have taken in full has nothing left to
        credit, whatever quantity it still shows."""
        billed = next(a.amount for a in line.allocations if a.source == source)
        return billed.is_positive() and self.left(line.line_no, source)[1] <= 0

    def take(self, line: DocumentLine, source: SourceRef, quantity: Decimal) -> Allocation:
        qty_left, amount_left = self.left(line.line_no, source)
        if quantity <= 0 or quantity > qty_left or self._spent(line, source):
            raise OverCreditError(
                f"line {line.line_no} of invoice {self.invoice.number} has {qty_left} of "
                f"{source} (worth {amount_left}) left to credit, not {quantity}"
            )
        # The last of an allocation takes its exact remaining value: no residue is left behind;
        # after an amount credit a quantity takes its share of the value that is left.
        amount = (
            amount_left
            if quantity == qty_left
            else EXACT.divide(EXACT.multiply(amount_left, quantity), qty_left)
        )
        return self._allocation(line, source, quantity, amount)

    def spread(self, line: DocumentLine, quantity: Decimal | None) -> list[Allocation]:
        """A quantity without a source comes off the line's last allocations first; no
        quantity means all that is left of the line."""
        taken: list[Allocation] = []
        remaining = quantity
        for alloc in reversed(line.allocations):
            if remaining is not None and remaining <= 0:
                break
            available = self.left(line.line_no, alloc.source)[0]
            if available <= 0 or self._spent(line, alloc.source):
                continue
            portion = available if remaining is None else min(available, remaining)
            taken.append(self.take(line, alloc.source, portion))
            if remaining is not None:
                remaining = EXACT.subtract(remaining, portion)
        if remaining is not None and remaining > 0:
            raise OverCreditError(
                f"line {line.line_no} of invoice {self.invoice.number} has less than "
                f"{quantity} left to credit"
            )
        return list(reversed(taken))

    def take_amount(
        self, line: DocumentLine, source: SourceRef | None, amount: Decimal
    ) -> list[Allocation]:
        """An amount and no quantity: from one source, or spread over the line's allocations
        in proportion to the value each has left, by largest remainder on minor units."""
        currency = self.invoice.currency
        if Money(amount, currency).quantized().amount != amount:
            raise CreditRequestError(
                f"line {line.line_no}: {amount} is not a whole number of {currency} minor units"
            )
        sources = [source] if source is not None else [a.source for a in line.allocations]
        if source is not None:
            self.invoice.creditable(line.line_no, source)  # the line must have billed it
        left = [max(self.left(line.line_no, s)[1], ZERO) for s in sources]
        available = dsum(left)
        if amount > available:
            raise OverCreditError(
                f"line {line.line_no} of invoice {self.invoice.number} has "
                f"{Money(available, currency)} left to credit, not {Money(amount, currency)}"
            )
        shares = _shares(Money(amount, currency), left)
        return [
            self._allocation(line, s, ZERO, share)
            for s, share in zip(sources, shares, strict=True)
            if share > 0
        ]


def _shares(amount: Money, left: Sequence[Decimal]) -> list[Decimal]:
    """`amount` split over what each allocation has left: everything when it takes it all,
    otherwise by largest remainder on minor units, no share above what is left (a cent that
    would overshoot an allocation's exact remainder goes to the next one with room)."""
    total = dsum(left)
    if amount.amount == total:
        return list(left)
    minor = largest_remainder(amount.minor, left)
    shares = [Money.from_minor(m, amount.currency).amount for m in minor]
    excess = ZERO
    for i, share in enumerate(shares):
        if share > left[i]:
            excess = EXACT.add(excess, EXACT.subtract(share, left[i]))
            shares[i] = left[i]
    for i, share in enumerate(shares):
        if excess <= 0:
            break
        room = EXACT.subtract(left[i], share)
        moved = min(room, excess)
        shares[i] = EXACT.add(share, moved)
        excess = EXACT.subtract(excess, moved)
    return shares
