"""Fee schedules that always sum to the fee: installments of a fixed fee, milestones of a
milestone fee.

Parts already billed keep exactly what they billed; whatever is left of the fee (after a
change order, the new fee) is split over the unbilled parts by largest remainder on integer
minor units, in proportion to their weights (percentages or amounts).

What a part "billed" is what its first document (invoice or debit memo) billed, never net of
credits (ADR 0026): a credit changes that part only. A write-off credit is forgiven; a
releasing credit makes exactly the credited value billable again on the same part.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from domain.billing import (
    Allocation,
    BilledLedger,
    LineKind,
    ObligationHistory,
    ProposedLine,
    SourceRef,
)
from domain.errors import DomainError
from domain.ids import ObligationId
from domain.money import EXACT, Currency, Money, dsum, largest_remainder

K = TypeVar("K", bound=Hashable)


class FeeBelowBilledError(DomainError):
    """A fee cannot be lowered below what its schedule has already billed."""

    code = "fee_below_billed"


class UnscheduledFeeError(DomainError):
    """Fee left over once every part is billed has no part to bill it."""

    code = "fee_not_scheduled"


def split_fee(
    owner: str,
    fee: Money,
    parts: Sequence[tuple[K, Decimal]],
    already_billed: Mapping[K, Money],
) -> dict[K, Money]:
    """Each part's amount, summing exactly to the fee (see the module docstring)."""
    billed_minor = sum(amount.minor for amount in already_billed.values())
    remaining = fee.minor - billed_minor
    if remaining < 0:
        billed = Money.from_minor(billed_minor, fee.currency)
        raise FeeBelowBilledError(
            f"{owner}: the fee {fee} is below the {billed} already billed; "
            "a credit memo is needed to give the difference back"
        )
    unbilled = [(key, weight) for key, weight in parts if key not in already_billed]
    if not unbilled and remaining:
        raise UnscheduledFeeError(
            f"{owner}: every part of the schedule is billed but "
            f"{Money.from_minor(remaining, fee.currency)} of the fee is not; "
            "add an installment or milestone for it"
        )
    # While the fee is unchanged, the parts not billed yet keep their shares of the whole fee:
    # splitting only the rest again could move a rounding cent between them.
    whole = dict(zip((key for key, _ in parts), _split(fee.minor, parts), strict=True))
    shares = [whole[key] for key, _ in unbilled]
    if sum(shares) != remaining:
        shares = _split(remaining, unbilled)
    by_key = {key: share for (key, _), share in zip(unbilled, shares, strict=True)}
    schedule: dict[K, Money] = {}
    for key, _ in parts:
        if key in already_billed:
            schedule[key] = already_billed[key]
        else:
            schedule[key] = Money.from_minor(by_key[key], fee.currency)
    # A part a change order dropped after it was billed still keeps its amount.
    for key, amount in already_billed.items():
        schedule.setdefault(key, amount)
    return schedule


def _split(total: int, parts: Sequence[tuple[K, Decimal]]) -> list[int]:
    """`total` minor units over the parts by their weights (evenly if none weighs anything)."""
    weights = [weight for _, weight in parts]
    if total == 0 or not parts:
        return [0] * len(parts)
    if dsum(weights) == 0:
        return largest_remainder(total, [1] * len(parts))
    return largest_remainder(total, weights)


def kept_by_parts(
    ledger: BilledLedger, sources: Mapping[K, SourceRef], currency: Currency
) -> dict[K, Money]:
    """What each part already on an invoice keeps on the schedule: what its first document
    billed, whatever credits took back since (a credit never re-spreads onto other parts)."""
    kept = {}
    for key, source in sources.items():
        standing = ledger.standing(source)
        if standing.is_invoiced:
            kept[key] = Money(standing.first_billed, currency)
    return kept


def billed_again(
    ledger: BilledLedger,
    source: SourceRef,
    currency: Currency,
    terms: str,
    obligation_id: ObligationId,
    kind: LineKind,
    description: str,
) -> list[ProposedLine]:
    """A releasing credit on a scheduled part is billed again on that part: exactly the value
    released and not billed since, with the quantity it released (none for an amount credit),
    as a line of the part's kind; none when nothing was released."""
    standing = ledger.standing(source)
    if not standing.is_invoiced or standing.open_release <= 0:
        return []
    quantity = max(EXACT.subtract(standing.first_quantity, ledger.settled(source)), Decimal(0))
    again = Allocation(source, quantity, Money(standing.open_release, currency), terms)
    unit = again.amount
    if again.quantity > 0:
        unit = Money(EXACT.divide(again.amount.amount, again.quantity), unit.currency)
    described = f"{description} (billed again after a credit)"
    return [
        ProposedLine.from_allocations(obligation_id, kind, described, unit.quantized(), [again])
    ]


def conceded_on(ledger: BilledLedger, source: SourceRef, currency: Currency) -> Money:
    """What write-off credits forgave on a part, rounded half-up to minor units as its credit
    memo lines round it: revenue the part will never earn."""
    return Money(ledger.standing(source).conceded, currency).quantized()


def fee_value(history: ObligationHistory[Any], as_of: date) -> Money | None:
    """A fee billed by a schedule (installments, milestones) is worth its fee, as the terms in
    force on `as_of` set it; the terms name it `fee`, in their `currency`."""
    terms = history.latest_by(as_of).terms
    return Money(terms.fee, terms.currency)
