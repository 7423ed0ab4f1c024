"""Retainers: a fee per period, billed in advance, buys hours that time draws down.

Retainer periods are calendar months, counted from the month of `start`: a retainer that
starts mid-month still has a full first month (no proration), and one that ends mid-month a
full last month. Keeping periods on calendar months keeps them aligned with billing runs.

The drawdown rules (`retainer_ledger`), exactly:

- time draws the balance down oldest-first: the oldest carried hours, then the current period's;
  entries are taken by work date, then entry id;
- unused hours of a period roll over, at most R hours out of any one period, and can be used in
  the next N periods; what is not carried, or expires, is breakage;
- use beyond the balance is overage, billed in arrears at the overage rate, or held, per policy;
- only approved time counts (approved, held or written off; never submitted or rejected), and
  only billable time: time on non-billable tasks is costed, it does not consume client hours.

Hours carried past the last period of a retainer with an end date cannot be used, so they break
when that last period ends.

Billing: a run bills the fee of every retainer period that has started by the run's period end
(in advance), and the overage of every retainer period that has ended, i.e. whose last day is
over, by the run's period end (in arrears): February's overage is billed by the March run,
next to March's fee.

Which terms apply: the hour ledger (hours, rollover, start, end, policy) is measured under the
terms in force at the run's period end (or `as_of`), so a change order re-measures the drawdown
to date; prices (fee, overage rate) come from the terms in force on the first day of the
retainer period they price.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter
from typing import Final

import attrs

from domain import billing_kit as kit
from domain.errors import InvalidTermsError
from domain.ids import ObligationId, TimeEntryId
from domain.money import EXACT, Currency, Money, money_sum
from domain.overage import OveragePolicy
from domain.period import Period
from domain.time_rows import BILLABLE_STATES, BillableTime

#: The reason an overage held under `OveragePolicy.HOLD` carries.
OVERAGE_HOLD_REASON: Final = "retainer_overage_hold"

ZERO: Final = Decimal(0)


#: The overage policies a retainer applies to hours used beyond the balance: billed in arrears
#: at the overage rate, or held. Writing off or blocking has no meaning for hours already used
#: under a retainer, so those are refused.
RETAINER_OVERAGE_POLICIES: Final = (OveragePolicy.BILL, OveragePolicy.HOLD)


def _check_terms(terms: RetainerTerms) -> None:
    oid = terms.obligation_id
    fee = Money(terms.fee_per_period, terms.currency)
    if fee.is_negative() or fee.quantized() != fee:
        raise InvalidTermsError(f"{oid}: the fee must be a non-negative whole of minor units")
    if terms.hours_per_period <= 0:
        raise InvalidTermsError(f"{oid}: a retainer buys a positive number of hours per period")
    if terms.end is not None and terms.end < terms.start:
        raise InvalidTermsError(f"{oid}: the retainer ends before it starts")
    if terms.rollover_cap_hours < 0 or terms.rollover_periods < 0:
        raise InvalidTermsError(f"{oid}: rollover hours and periods cannot be negative")
    if (terms.rollover_cap_hours > 0) != (terms.rollover_periods > 0):
        raise InvalidTermsError(
            f"{oid}: a rollover needs both a cap in hours and a number of periods (or neither)"
        )
    if terms.overage_rate < 0:
        raise InvalidTermsError(f"{oid}: the overage rate cannot be negative")
    if terms.overage_policy not in RETAINER_OVERAGE_POLICIES:
        allowed = " or ".join(p.value for p in RETAINER_OVERAGE_POLICIES)
        raise InvalidTermsError(
            f"{oid}: a retainer's overage policy is {allowed}, not {terms.overage_policy.value}"
        )


@attrs.frozen
class RetainerTerms:
    """A monthly fee buying hours, with an optional rollover (R hours for N periods)."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    fee_per_period: Decimal
    hours_per_period: Decimal
    start: date
    end: date | None = None
    rollover_cap_hours: Decimal = ZERO
    rollover_periods: int = 0
    overage_rate: Decimal = ZERO
    overage_policy: OveragePolicy = OveragePolicy.BILL

    def __attrs_post_init__(self) -> None:
        _check_terms(self)

    @property
    def has_rollover(self) -> bool:
        """Unused hours can carry; otherwise it is use-it-or-lose-it."""
        return self.rollover_cap_hours > 0

    def periods_through(self, day: date) -> Iterator[Period]:
        """The retainer periods that have started by `day`, in order."""
        period = Period.month_of(self.start)
        while period.start <= day and (self.end is None or period.start <= self.end):
            yield period
            period = period.next()

    def is_last(self, period: Period) -> bool:
        """The retainer's final period: nothing can carry out of it."""
        return self.end is not None and period.contains(self.end)


@attrs.frozen
class CarriedHours:
    """Hours attributed to the period that bought them."""

    origin: Period
    hours: Decimal


@attrs.frozen
class EntryOverage:
    """The hours of one time entry that fell beyond the balance."""

    entry_id: TimeEntryId
    work_date: date
    hours: Decimal


def _total(items: Iterable[CarriedHours | EntryOverage]) -> Decimal:
    total = ZERO
    for item in items:
        total = EXACT.add(total, item.hours)
    return total


class _HoursOf:
    """The hours of one of a period's lists of carried hours, added up exactly."""

    def __init__(self, hours: str) -> None:
        self._hours = hours

    def __get__(self, balance: RetainerPeriodBalance, owner: type | None = None) -> Decimal:
        return _total(getattr(balance, self._hours))


@attrs.frozen
class RetainerPeriodBalance:
    """One retainer period's hours: bought, carried in, used, over, carried out and broken.

    A period is `closed` once its last day is within the ledger's `through` date; only then are
    its carry and breakage decided. Until then `carried_out` and `broken` are empty and the
    period's unused hours are simply still available (`balance`).
    """

    period: Period
    closed: bool
    purchased: Decimal
    carried_in: tuple[CarriedHours, ...]
    used_from_carry: tuple[CarriedHours, ...]
    used_from_current: Decimal
    overage_hours: Decimal
    carried_out: tuple[CarriedHours, ...]
    broken: tuple[CarriedHours, ...]
    overage: tuple[EntryOverage, ...]

    carried_in_hours = _HoursOf("carried_in")
    used_from_carry_hours = _HoursOf("used_from_carry")
    carried_out_hours = _HoursOf("carried_out")
    broken_hours = _HoursOf("broken")

    @property
    def used_hours(self) -> Decimal:
        """Hours drawn from the balance (overage excluded)."""
        return EXACT.add(self.used_from_carry_hours, self.used_from_current)

    @property
    def balance(self) -> Decimal:
        """Hours still alive after this period's use: carried out, or still available if open."""
        if self.closed:
            return self.carried_out_hours
        unused_carry = EXACT.subtract(self.carried_in_hours, self.used_from_carry_hours)
        return EXACT.add(unused_carry, EXACT.subtract(self.purchased, self.used_from_current))


@attrs.define
class _Bucket:
    """Hours alive from one origin period (mutable only inside `retainer_ledger`)."""

    index: int
    origin: Period
    hours: Decimal


#: Drawdown order, work date then id, read in C from an entity's attributes or a row's fields.
_drawdown_order = attrgetter("work_date", "entry_id")


def retainer_ledger(
    terms: RetainerTerms, entries: Sequence[BillableTime], through: date
) -> tuple[RetainerPeriodBalance, ...]:
    """The drawdown of every retainer period started by `through`: oldest hours first, carry at
    most R hours per period for N periods, the rest breakage, use beyond the balance overage."""
    periods = list(terms.periods_through(through))
    usage: defaultdict[Period, list[BillableTime]] = defaultdict(list)
    months: dict[tuple[int, int], Period] = {}  # one Period per month, not one per entry
    oid, billing = terms.obligation_id, BILLABLE_STATES
    for entry in entries:
        # Use: the obligation's billable time in a state that bills (`is_billable_state`,
        # read as a set look-up: this runs for every entry of every run).
        if (
            entry.obligation_id == oid
            and entry.state in billing
            and entry.billable
            and entry.work_date <= through
        ):
            day = entry.work_date
            month = months.get((day.year, day.month))
            if month is None:
                month = months[(day.year, day.month)] = Period.month_of(day)
            usage[month].append(entry)
    alive: list[_Bucket] = []
    balances = []
    for index, period in enumerate(periods):
        carried_in = tuple(CarriedHours(b.origin, b.hours) for b in alive)
        used_from_carry: dict[Period, Decimal] = {}
        current = terms.hours_per_period
        overage = []
        for entry in sorted(usage[period], key=_drawdown_order):
            need = _draw_carried(entry.hours, alive, used_from_carry)
            take = min(need, current)
            current = EXACT.subtract(current, take)
            need = EXACT.subtract(need, take)
            if need > 0:
                overage.append(EntryOverage(entry.entry_id, entry.work_date, need))
        closed = period.end <= through
        carried_out: tuple[CarriedHours, ...] = ()
        broken: list[CarriedHours] = []
        if closed:
            alive, broken = _close(terms, index, period, alive, current)
            carried_out = tuple(CarriedHours(b.origin, b.hours) for b in alive)
        balances.append(
            RetainerPeriodBalance(
                period=period,
                closed=closed,
                purchased=terms.hours_per_period,
                carried_in=carried_in,
                used_from_carry=tuple(CarriedHours(o, h) for o, h in used_from_carry.items()),
                used_from_current=EXACT.subtract(terms.hours_per_period, current),
                overage_hours=_total(overage),
                carried_out=carried_out,
                broken=tuple(broken),
                overage=tuple(overage),
            )
        )
    return tuple(balances)


def _draw_carried(need: Decimal, alive: list[_Bucket], used: dict[Period, Decimal]) -> Decimal:
    """Draw hours from the carried buckets, oldest first; what is still needed is returned."""
    for bucket in alive:
        take = min(need, bucket.hours)
        if take > 0:
            bucket.hours = EXACT.subtract(bucket.hours, take)
            used[bucket.origin] = EXACT.add(used.get(bucket.origin, ZERO), take)
            need = EXACT.subtract(need, take)
    return need


def _close(
    terms: RetainerTerms, index: int, period: Period, alive: list[_Bucket], unused: Decimal
) -> tuple[list[_Bucket], list[CarriedHours]]:
    """At a period's end: carried hours past their N periods expire, the period's own unused
    hours carry up to R, and everything not carried is breakage."""
    last = terms.is_last(period)
    keep: list[_Bucket] = []
    broken: list[CarriedHours] = []
    for bucket in alive:
        if bucket.hours == 0:
            continue
        if last or bucket.index + terms.rollover_periods <= index:
            broken.append(CarriedHours(bucket.origin, bucket.hours))
        else:
            keep.append(bucket)
    carry = ZERO if last or not terms.has_rollover else min(unused, terms.rollover_cap_hours)
    lost = EXACT.subtract(unused, carry)
    if lost > 0:
        broken.append(CarriedHours(period, lost))
    if carry > 0:
        keep.append(_Bucket(index, period, carry))
    return keep, broken


def retainer_period_source(obligation_id: ObligationId, period: Period) -> kit.SourceRef:
    """The source a retainer period's fee allocates to."""
    return kit.SourceRef(kit.SourceKind.RETAINER_PERIOD, f"{obligation_id}:{period.key}")


def has_ended_by(period: Period, day: date) -> bool:
    """A period has ended once its last day is over: February has ended by March 31, not by
    February 28, so the March run bills February's overage."""
    return period.end < day


def _open_overage(
    overage: EntryOverage, entry: BillableTime, ledger: kit.BilledLedger, policy: OveragePolicy
) -> tuple[Decimal, Decimal]:
    """(hours to bill, hours to hold) of an entry's overage not yet settled.

    Settled: billed (net of credits) or written off by credit, plus the entry's own held and
    written-off hours. Under HOLD only hours the firm released are billed.
    """
    billed = ledger.settled(kit.SourceRef(kit.SourceKind.TIME_ENTRY, entry.entry_id))
    settled = EXACT.add(billed, EXACT.add(entry.held, entry.written_off))
    open_hours = max(ZERO, EXACT.subtract(overage.hours, settled))
    if policy is OveragePolicy.BILL:
        return open_hours, ZERO
    releasable = max(ZERO, EXACT.subtract(entry.released, billed))
    to_bill = min(open_hours, releasable)
    return to_bill, EXACT.subtract(open_hours, to_bill)


def bill_retainer(
    history: kit.ObligationHistory[RetainerTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill each period's fee in advance once it has started, and each ended period's overage
    in arrears at the overage rate (or hold it, per policy)."""
    terms = history.latest_by(ctx.period.end).terms
    fee_lines = []
    for period in terms.periods_through(ctx.period.end):
        source = retainer_period_source(terms.obligation_id, period)
        if ctx.ledger.settled(source) > 0:
            continue
        priced = history.latest_by(period.start)
        fee = Money(priced.terms.fee_per_period, terms.currency)
        fee_lines.append(
            kit.ProposedLine.from_allocations(
                terms.obligation_id,
                kit.LineKind.RETAINER_FEE,
                f"{terms.name}: retainer {period.key} ({priced.terms.hours_per_period} h)",
                fee,
                [kit.Allocation(source, Decimal(1), fee, priced.label)],
                service_period=period,
            )
        )
    overage_lines = []
    exclusions = []
    entries = {e.entry_id: e for e in ctx.time_entries if e.obligation_id == terms.obligation_id}
    for balance in retainer_ledger(terms, ctx.time_entries, ctx.period.end):
        if not has_ended_by(balance.period, ctx.period.end):
            continue
        priced = history.latest_by(balance.period.start)
        rate = Money(priced.terms.overage_rate, terms.currency)
        allocations = []
        for overage in balance.overage:
            entry = entries[overage.entry_id]
            source = kit.SourceRef(kit.SourceKind.TIME_ENTRY, entry.entry_id)
            to_bill, to_hold = _open_overage(overage, entry, ctx.ledger, terms.overage_policy)
            if to_bill > 0:
                allocations.append(
                    kit.Allocation(source, to_bill, rate.times(to_bill), priced.label)
                )
            if to_hold > 0:
                exclusions.append(
                    kit.Exclusion(
                        terms.obligation_id,
                        source,
                        to_hold,
                        rate.times(to_hold),
                        kit.Disposition.HELD,
                        reason=OVERAGE_HOLD_REASON,
                    )
                )
        if allocations:
            overage_lines.append(
                kit.ProposedLine.from_allocations(
                    terms.obligation_id,
                    kit.LineKind.RETAINER_OVERAGE,
                    f"{terms.name}: overage {balance.period.key} at {rate} per hour",
                    rate,
                    allocations,
                    service_period=balance.period,
                )
            )
    return kit.ObligationBilling(lines=(*fee_lines, *overage_lines), exclusions=tuple(exclusions))


def _earned_overage(overage: EntryOverage, entry: BillableTime, policy: OveragePolicy) -> Decimal:
    """Overage hours earned as incurred: not held or written off; under HOLD, only released."""
    earned = max(ZERO, EXACT.subtract(overage.hours, EXACT.add(entry.held, entry.written_off)))
    return earned if policy is OveragePolicy.BILL else min(earned, entry.released)


def recognise_retainer(
    history: kit.ObligationHistory[RetainerTerms], ctx: kit.RevenueContext
) -> Money:
    """Cumulative revenue: with rollover, hours used or broken at the implied hourly value
    (fee / hours); use-it-or-lose-it, straight-line by day over each period; overage as
    incurred at the overage rate."""
    terms = history.latest_by(ctx.as_of).terms
    balances = retainer_ledger(terms, ctx.time_entries, ctx.as_of)
    fees = {
        b.period: Fraction(history.latest_by(b.period.start).terms.fee_per_period) for b in balances
    }
    hours = Fraction(terms.hours_per_period)
    entries = {e.entry_id: e for e in ctx.time_entries if e.obligation_id == terms.obligation_id}
    earned = Fraction(0)
    for balance in balances:
        fee = fees[balance.period]
        if terms.has_rollover:
            earned += Fraction(balance.used_from_current) * fee / hours
            for spent in (*balance.used_from_carry, *balance.broken):
                earned += Fraction(spent.hours) * fees[spent.origin] / hours
        elif balance.closed:
            earned += fee
        else:
            elapsed = (ctx.as_of - balance.period.start).days + 1
            earned += fee * Fraction(elapsed, balance.period.days)
        rate = Fraction(history.latest_by(balance.period.start).terms.overage_rate)
        for overage in balance.overage:
            entry = entries[overage.entry_id]
            earned += Fraction(_earned_overage(overage, entry, terms.overage_policy)) * rate
    exact = EXACT.divide(Decimal(earned.numerator), Decimal(earned.denominator))
    return Money(exact, terms.currency).quantized()


def retainer_value(history: kit.ObligationHistory[RetainerTerms], as_of: date) -> Money | None:
    """A retainer with an end date is worth the fees of its periods (each at the fee in force
    on its first day); an open-ended one has no total."""
    terms = history.latest_by(as_of).terms
    if terms.end is None:
        return None
    fees = (
        Money(history.latest_by(period.start).terms.fee_per_period, terms.currency)
        for period in terms.periods_through(terms.end)
    )
    return money_sum(fees, terms.currency)


RETAINER_MODEL = kit.register_billing_model(
    kit.BillingModel(
        name="retainer",
        terms_type=RetainerTerms,
        bill=bill_retainer,
        recognise=recognise_retainer,
        contract_value=retainer_value,
        summary=(
            "a monthly fee buying hours, drawn down oldest-first, with rollover, breakage "
            "and overage"
        ),
        example={
            "obligation_id": "ret",
            "name": "Support retainer",
            "fee_per_period": "8000.00",
            "hours_per_period": "40",
            "start": "2026-01-01",
            "end": "2026-12-31",
            "rollover_cap_hours": "20",
            "rollover_periods": 2,
            "overage_rate": "220.00",
            "overage_policy": "bill",
        },
        adr="docs/adr/0011-retainer-semantics.md",
        source_kinds=(kit.SourceKind.RETAINER_PERIOD,),
        line_kinds=(kit.LineKind.RETAINER_FEE, kit.LineKind.RETAINER_OVERAGE),
    )
)
