"""Split billing: an obligation's lines shared between several payers.

An obligation may name payers (the customer and, say, a parent company or a grant), each with a
share: a percentage, or a fixed amount per billing period. The billing models still produce
unsplit lines; the run splits them here, one set of lines per payer:

- a quantity a credit released from one payer's invoice goes back to that payer only, so each
  payer's billed share of a source returns to its contractual share;
- fixed-amount payers, in the order listed, take their amount of the period from what is left,
  never more than the obligation's lines of the period;
- the rest is shared by percentage.

Each line's amount is split on integer minor units by largest remainder, ties to the payer listed
first, so the parts sum exactly to the unsplit line. Every allocation is split too (quantity and
exact value, each part stamped with its payer), the parts of a source summing exactly to the
source, and each payer line's allocations rounding to exactly that line's amount, so a credit of
the whole payer line takes back exactly what it billed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import attrs

from domain.billing import LedgerEntry, ProposedLine, SourceRef
from domain.errors import InvalidTermsError
from domain.ids import CustomerId, ObligationId
from domain.money import EXACT, Currency, Money, dsum, largest_remainder

HUNDRED = Decimal(100)
#: Where a split quantity or value does not terminate (a third of an hour), it is cut here; the
#: last part takes the remainder, so parts still sum exactly.
SPLIT_PLACES = Decimal("1e-20")


@attrs.frozen
class Payer:
    """One party paying part of an obligation: a percentage of each line, or a fixed amount per
    billing period (exactly one of the two). Taxed by its own profile with our legal entity."""

    payer_id: CustomerId
    percent: Decimal | None = None
    fixed_amount: Money | None = None

    @classmethod
    def percentage(cls, payer_id: CustomerId, percent: Decimal | int | str) -> Payer:
        """A payer of a percentage of every line of the obligation."""
        return cls(payer_id, percent=Decimal(percent))

    @classmethod
    def fixed(cls, payer_id: CustomerId, amount: Money) -> Payer:
        """A payer of a fixed amount per billing period, taken before the percentages."""
        return cls(payer_id, fixed_amount=amount)

    @property
    def is_fixed(self) -> bool:
        return self.fixed_amount is not None


@attrs.frozen
class ObligationPayers:
    """The payers of one obligation, as a contract version declares them (order matters: ties
    go to the payer listed first, fixed amounts are taken in this order)."""

    obligation_id: ObligationId
    payers: tuple[Payer, ...]

    @classmethod
    def of(
        cls, obligation_id: ObligationId, payers: Iterable[Payer], currency: Currency
    ) -> ObligationPayers:
        """Payers are validated when declared: unique, one kind of share each, percentages of
        the percentage payers summing to exactly 100, fixed amounts positive in the contract's
        currency and whole minor units."""
        chosen = tuple(payers)
        where = f"obligation {obligation_id}"
        if not chosen:
            raise InvalidTermsError(f"{where}: name at least one payer, or none at all")
        ids = [p.payer_id for p in chosen]
        if len(set(ids)) != len(ids):
            raise InvalidTermsError(f"{where}: a payer is listed twice ({sorted(ids)})")
        for payer in chosen:
            _check_share(where, payer, currency)
        percents = [p.percent for p in chosen if p.percent is not None]
        if not percents:
            raise InvalidTermsError(
                f"{where}: at least one payer needs a percentage, to take what the fixed "
                "amounts leave"
            )
        total = dsum(percents)
        if total != HUNDRED:
            raise InvalidTermsError(
                f"{where}: the percentages of the percentage payers sum to {total}, not 100"
            )
        return cls(obligation_id, chosen)


def _check_share(where: str, payer: Payer, currency: Currency) -> None:
    if (payer.percent is None) == (payer.fixed_amount is None):
        raise InvalidTermsError(
            f"{where}: payer {payer.payer_id} needs either a percentage or a fixed amount"
        )
    if payer.percent is not None and not Decimal(0) < payer.percent <= HUNDRED:
        raise InvalidTermsError(
            f"{where}: payer {payer.payer_id} has {payer.percent} %; a share is more than 0 "
            "and at most 100"
        )
    fixed = payer.fixed_amount
    if fixed is not None:
        if fixed.currency != currency:
            raise InvalidTermsError(
                f"{where}: payer {payer.payer_id} pays in {fixed.currency}, the contract is in "
                f"{currency}"
            )
        if not fixed.is_positive() or fixed.quantized() != fixed:
            raise InvalidTermsError(
                f"{where}: payer {payer.payer_id} needs a positive fixed amount in whole "
                f"{currency} minor units, not {fixed.amount}"
            )


@attrs.frozen
class PayerLines:
    """What one payer is billed for one obligation in one run."""

    payer_id: CustomerId
    lines: tuple[ProposedLine, ...]


def split_lines(
    payers: ObligationPayers,
    lines: Sequence[ProposedLine],
    billed: Sequence[LedgerEntry],
    customer_id: CustomerId,
    fixed_already: Mapping[CustomerId, Money] | None = None,
) -> list[PayerLines]:
    """Split an obligation's lines of one run between its payers: released quantities back to
    the payer they were credited from, then fixed amounts (less what earlier invoices of the
    same period already billed them), then percentages; every line and every allocation split
    exactly."""
    order = [p.payer_id for p in payers.payers]
    open_releases = _open_releases(billed, customer_id)
    open_values = _open_value_releases(billed, customer_id)
    weights = [_allocation_weights(line, payers, open_releases, open_values) for line in lines]
    _take_fixed_amounts(payers, lines, weights, fixed_already or {})
    _share_by_percentage(payers, weights)
    per_payer: dict[CustomerId, list[ProposedLine]] = {p: [] for p in order}
    for line, line_weights in zip(lines, weights, strict=True):
        for payer_id, part in _split_line(line, order, line_weights).items():
            per_payer[payer_id].append(part)
    return [PayerLines(p, tuple(per_payer[p])) for p in order if per_payer[p]]


# -- which payer each part of an allocation goes to ---------------------------------------------


@attrs.define
class _Weights:
    """Per allocation of a line: the share of each payer (fractions of the allocation), and the
    fraction still to be shared (after released quantities went back to their payer)."""

    shares: list[dict[CustomerId, Fraction]]
    fresh: list[Fraction]
    #: The whole minor units fixed-amount payers took of the line: theirs exactly, never more.
    fixed: dict[CustomerId, int] = attrs.field(factory=dict)


def _open_releases(
    billed: Sequence[LedgerEntry], customer_id: CustomerId
) -> dict[SourceRef, dict[CustomerId, Decimal]]:
    """Per source and payer, the quantity a releasing credit took back and no later document has
    billed again: the highest quantity the payer had settled, less what it has settled now."""
    settled: dict[tuple[SourceRef, CustomerId], Decimal] = {}
    peak: dict[tuple[SourceRef, CustomerId], Decimal] = {}
    for entry in billed:
        if entry.write_off and entry.quantity < 0:
            continue  # a write-off credit settles for good: nothing returns to be billed
        key = (entry.source, entry.payer or customer_id)
        now = EXACT.add(settled.get(key, Decimal(0)), entry.quantity)
        settled[key] = now
        peak[key] = max(peak.get(key, Decimal(0)), now)
    releases: dict[SourceRef, dict[CustomerId, Decimal]] = {}
    for (source, payer_id), high in peak.items():
        gap = EXACT.subtract(high, settled[(source, payer_id)])
        if gap > 0:
            releases.setdefault(source, {})[payer_id] = gap
    return releases


def _open_value_releases(
    billed: Sequence[LedgerEntry], customer_id: CustomerId
) -> dict[SourceRef, dict[CustomerId, Decimal]]:
    """Per source and payer, the value a releasing credit by amount (no quantity, ADR 0027)
    took back and no later document has billed again (a re-bill of a value has no quantity
    either)."""
    open_value: dict[tuple[SourceRef, CustomerId], Decimal] = {}
    for entry in billed:
        if entry.quantity != 0 or entry.write_off:
            continue
        key = (entry.source, entry.payer or customer_id)
        if entry.takes_back:
            open_value[key] = EXACT.subtract(open_value.get(key, Decimal(0)), entry.amount.amount)
        elif entry.amount.is_positive() and key in open_value:
            open_value[key] = EXACT.subtract(open_value[key], entry.amount.amount)
    releases: dict[SourceRef, dict[CustomerId, Decimal]] = {}
    for (source, payer_id), value in open_value.items():
        if value > 0:
            releases.setdefault(source, {})[payer_id] = value
    return releases


def _allocation_weights(
    line: ProposedLine,
    payers: ObligationPayers,
    open_releases: dict[SourceRef, dict[CustomerId, Decimal]],
    open_values: dict[SourceRef, dict[CustomerId, Decimal]],
) -> _Weights:
    """Each allocation goes first to the payers a credit released it from (by quantity, or by
    value when it bills a released amount with no quantity); the rest is still to share."""
    shares: list[dict[CustomerId, Fraction]] = []
    fresh: list[Fraction] = []
    for allocation in line.allocations:
        share: dict[CustomerId, Fraction] = {}
        left = Fraction(1)
        if allocation.quantity > 0:
            whole, waiting = allocation.quantity, open_releases.get(allocation.source, {})
        elif allocation.quantity == 0 and allocation.amount.is_positive():
            whole, waiting = allocation.amount.amount, open_values.get(allocation.source, {})
        else:
            whole, waiting = Decimal(0), {}
        if waiting:
            remaining = whole
            for payer in payers.payers:
                gap = waiting.get(payer.payer_id, Decimal(0))
                taken = min(gap, remaining)
                if taken > 0:
                    share[payer.payer_id] = Fraction(taken) / Fraction(whole)
                    waiting[payer.payer_id] = EXACT.subtract(gap, taken)
                    remaining = EXACT.subtract(remaining, taken)
            left = Fraction(remaining) / Fraction(whole)
        shares.append(share)
        fresh.append(left)
    return _Weights(shares, fresh)


def _take_fixed_amounts(
    payers: ObligationPayers,
    lines: Sequence[ProposedLine],
    weights: Sequence[_Weights],
    fixed_already: Mapping[CustomerId, Money],
) -> None:
    """Fixed-amount payers take what is left of their amount for the period, in order, across
    the lines in proportion to what each line still has to share (never more than that)."""
    room = [_fresh_minor(line, w) for line, w in zip(lines, weights, strict=True)]
    # Negative lines (a withheld retention) count too: the fixed amounts never exceed the
    # obligation's net, so no payer is left with a negative share of the period.
    net = sum((_fresh_value(line, w) for line, w in zip(lines, weights, strict=True)), Fraction(0))
    net_left = max(0, net.numerator // net.denominator)
    for payer in payers.payers:
        if payer.fixed_amount is None or min(sum(room), net_left) <= 0:
            continue
        already = fixed_already.get(payer.payer_id)
        owed = payer.fixed_amount.minor - (already.quantized().minor if already else 0)
        take = min(owed, sum(room), net_left)
        if take <= 0:
            continue
        parts = largest_remainder(take, room)
        for i, (line, w) in enumerate(zip(lines, weights, strict=True)):
            if parts[i] == 0:
                continue
            fresh_value = _fresh_value(line, w)
            fraction_of_fresh = Fraction(parts[i]) / fresh_value
            for a, _ in enumerate(line.allocations):
                portion = w.fresh[a] * fraction_of_fresh if w.fresh[a] else Fraction(0)
                if portion:
                    w.shares[a][payer.payer_id] = portion
                    w.fresh[a] -= portion
            room[i] -= parts[i]
            w.fixed[payer.payer_id] = w.fixed.get(payer.payer_id, 0) + parts[i]
        net_left -= take


def _fresh_value(line: ProposedLine, w: _Weights) -> Fraction:
    """What a line still has to share, in (fractional) minor units."""
    scale = 10**line.amount.currency.minor_units
    return sum(
        (Fraction(a.amount.amount) * scale * w.fresh[i] for i, a in enumerate(line.allocations)),
        Fraction(0),
    )


def _fresh_minor(line: ProposedLine, w: _Weights) -> int:
    value = _fresh_value(line, w)
    return max(0, value.numerator // value.denominator)


def _share_by_percentage(payers: ObligationPayers, weights: Sequence[_Weights]) -> None:
    for w in weights:
        for a, fresh in enumerate(w.fresh):
            if not fresh:
                continue
            for payer in payers.payers:
                if payer.percent is not None:
                    portion = fresh * Fraction(payer.percent) / 100
                    share = w.shares[a].get(payer.payer_id, Fraction(0))
                    w.shares[a][payer.payer_id] = share + portion
            w.fresh[a] = Fraction(0)


# -- splitting the numbers exactly ----------------------------------------------------------------


def _portions(total: Decimal, weights: Sequence[Fraction]) -> list[Decimal]:
    """`total` split by weights summing to 1: exact products, the last weighted part taking the
    remainder so the parts always sum exactly to `total`."""
    parts = [Decimal(0)] * len(weights)
    last = max((i for i, w in enumerate(weights) if w), default=None)
    if last is None:
        return parts
    for i, weight in enumerate(weights):
        if weight and i != last:
            parts[i] = _times(total, weight)
    parts[last] = EXACT.subtract(total, dsum(parts))
    return parts


def _times(value: Decimal, weight: Fraction) -> Decimal:
    """value x weight, exact when it terminates, else cut at `SPLIT_PLACES` decimals (the last
    part of every split takes the remainder, so no sum ever loses a digit)."""
    exact = Fraction(value) * weight
    quotient = EXACT.divide(Decimal(exact.numerator), Decimal(exact.denominator))
    if _terminates(exact.denominator):
        return quotient
    return quotient.quantize(SPLIT_PLACES, rounding=ROUND_HALF_UP, context=EXACT)


def _terminates(denominator: int) -> bool:
    """A fraction has a finite decimal expansion when its denominator divides a power of 10."""
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1


def _split_line(
    line: ProposedLine, order: Sequence[CustomerId], w: _Weights
) -> dict[CustomerId, ProposedLine]:
    currency = line.amount.currency
    allocations = line.allocations
    # Intended exact value and quantity of each payer on each allocation.
    intended: dict[CustomerId, list[Decimal]] = {p: [] for p in order}
    quantities: dict[CustomerId, list[Decimal]] = {p: [] for p in order}
    for a, allocation in enumerate(allocations):
        fractions = [w.shares[a].get(p, Fraction(0)) for p in order]
        for p, value in zip(order, _portions(allocation.amount.amount, fractions), strict=True):
            intended[p].append(value)
        for p, qty in zip(order, _portions(allocation.quantity, fractions), strict=True):
            quantities[p].append(qty)
    totals = {p: dsum(intended[p]) for p in order}
    if not any(totals.values()) and line.amount.is_zero():
        weights_by_payer = [Fraction(1) if p == order[0] else Fraction(0) for p in order]
    else:
        weights_by_payer = [abs(Fraction(totals[p])) for p in order]
    minor_parts = _minor_parts(line.amount.minor, order, weights_by_payer, w.fixed, currency)
    amounts = {
        p: Money.from_minor(m, currency).amount for p, m in zip(order, minor_parts, strict=True)
    }
    # The payer with the largest part absorbs the line's sub-minor rounding, so each payer's
    # allocations round to exactly its part and every source's parts sum to the source.
    absorber = max(order, key=lambda p: (abs(totals[p]), -order.index(p)))
    values: dict[CustomerId, list[Decimal]] = {}
    for p in order:
        if p == absorber:
            continue
        if totals[p]:
            scale = Fraction(totals[p])
            values[p] = _portions(amounts[p], [Fraction(v) / scale for v in intended[p]])
        else:
            values[p] = [Decimal(0)] * len(allocations)
    values[absorber] = [
        EXACT.subtract(alloc.amount.amount, dsum(values[p][a] for p in order if p != absorber))
        for a, alloc in enumerate(allocations)
    ]
    out: dict[CustomerId, ProposedLine] = {}
    for p, minor in zip(order, minor_parts, strict=True):
        parts = [
            attrs.evolve(
                alloc, quantity=quantities[p][a], amount=Money(values[p][a], currency), payer=p
            )
            for a, alloc in enumerate(allocations)
            if quantities[p][a] or values[p][a]
        ]
        if not parts and minor == 0:
            continue
        out[p] = attrs.evolve(
            line,
            quantity=dsum(x.quantity for x in parts),
            amount=Money.from_minor(minor, currency),
            allocations=tuple(parts),
        )
    return out


def _minor_parts(
    total: int,
    order: Sequence[CustomerId],
    weights: Sequence[Fraction],
    fixed: Mapping[CustomerId, int],
    currency: Currency,
) -> list[int]:
    """A line's minor units per payer by largest remainder, a fixed-amount payer's units taken
    first and exactly: the line's rounding cents go to the others, so a fixed payer never pays
    a cent beyond its amount."""
    if not fixed:
        return largest_remainder(total, weights)
    pinned = [fixed.get(p, 0) for p in order]
    scale = 10**currency.minor_units
    rest = [
        max(Fraction(0), wt - Fraction(pin, scale)) for wt, pin in zip(weights, pinned, strict=True)
    ]
    if not any(rest):  # nothing else on the line: the first payer not pinned takes what is left
        first = next((i for i, pin in enumerate(pinned) if not pin), 0)
        rest = [Fraction(int(i == first)) for i in range(len(order))]
    shared = largest_remainder(total - sum(pinned), rest)
    return [pin + part for pin, part in zip(pinned, shared, strict=True)]


def payer_shares(
    entries: Iterable[LedgerEntry], customer_id: CustomerId
) -> dict[tuple[SourceRef, CustomerId], Decimal]:
    """Net quantity of each source billed to each payer (entries without a payer are the
    customer's)."""
    shares: dict[tuple[SourceRef, CustomerId], Decimal] = {}
    for entry in entries:
        key = (entry.source, entry.payer or customer_id)
        shares[key] = EXACT.add(shares.get(key, Decimal(0)), entry.quantity)
    return shares
