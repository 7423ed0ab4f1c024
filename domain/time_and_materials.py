"""Time and materials: hours x rate per entry, expenses at cost plus markup, not-to-exceed caps.

Rules, as the contract states them:
- the rate is the rate card version in force on the *work date*; a resource override beats the
  role rate; billable hours may be rounded per entry to an increment (up or to nearest);
- time on non-billable tasks is costed, never billed; a daily cap per person makes the hours
  above it non-billable (entries of one person and day taken in id order, after what the day
  already settled, so a late entry cannot take a billed day past the cap);
- a cap on amount and/or hours per obligation: the entry that crosses it is split at the cap
  and the part above follows the overage policy (bill and flag / hold / write off / block);
- expenses bill at cost x (1 + markup) within per-category caps and an optional billing window
  (`domain.expenses`);
- order matters for caps, so entries are taken by work date, then id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import Enum
from operator import attrgetter
from typing import TypeVar

import attrs

from domain import billing_kit as kit
from domain.errors import CapExceededError, DomainError, InvalidTermsError, NoTermsInForceError
from domain.expenses import ExpensePolicy as ExpensePolicy
from domain.expenses import bill_expenses, expense_revenue
from domain.ids import ObligationId, RateCardId, Role
from domain.money import EXACT, Currency, Money, dsum
from domain.overage import NotToExceed as NotToExceed
from domain.overage import OveragePolicy
from domain.ratecard import RateCard
from domain.rates_in_force import RatesInForce
from domain.rates_in_force import rate_in_force as rate_in_force
from domain.time_entry import ItemState, TimeEntry
from domain.time_lines import time_lines, walk_cap
from domain.time_rows import BILLABLE_STATES, BillableTime

ZERO = Decimal(0)
#: An entry priced: an entity (previews, revenue, admission) or a row (the billing run).
E = TypeVar("E", bound=BillableTime)
#: Billing order, work date then id, read in C from an entity's attributes or a row's fields.
_billing_order = attrgetter("work_date", "entry_id")


class IncrementRounding(Enum):
    UP = "up"
    NEAREST = "nearest"


@attrs.frozen
class TimeAndMaterialsTerms:
    """Bill approved time at the rate card in force on the work date, and expenses at cost."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    rate_card_id: RateCardId
    billing_increment: Decimal | None = None
    increment_rounding: IncrementRounding = IncrementRounding.UP
    daily_cap_hours: Decimal | None = None
    cap: NotToExceed | None = None
    expenses: ExpensePolicy | None = None

    def __attrs_post_init__(self) -> None:
        if self.billing_increment is not None and self.billing_increment <= 0:
            raise InvalidTermsError("a billing increment must be positive")
        if self.daily_cap_hours is not None and self.daily_cap_hours <= 0:
            raise InvalidTermsError("a daily cap must be positive")


def round_to_increment(hours: Decimal, terms: TimeAndMaterialsTerms) -> Decimal:
    """Billable hours of one entry after the contract's increment rounding."""
    if terms.billing_increment is None:
        return hours
    units = EXACT.divide(hours, terms.billing_increment)
    mode = ROUND_CEILING if terms.increment_rounding is IncrementRounding.UP else ROUND_HALF_UP
    whole = units.quantize(Decimal(1), rounding=mode, context=EXACT)
    return EXACT.multiply(whole, terms.billing_increment)


@attrs.frozen
class PricedEntry:
    """One entry's billable hours and rate under the terms in force on its work date."""

    entry: TimeEntry
    billable_hours: Decimal
    rate: Money
    terms_label: str
    role: Role


def price_entries(
    history: kit.ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entries: Iterable[TimeEntry],
    settled: Callable[[TimeEntry], Decimal] | None = None,
) -> list[PricedEntry]:
    """Billable hours and rate per entry, in billing order (work date, then id).

    Non-billable tasks give zero billable hours; the daily cap per person trims each person's
    day in entry-id order, after what was already settled (billed, held or written off) on
    that day: an entry that arrives after its day was billed cannot take the day past the cap.
    """
    ordered = sorted(entries, key=_billing_order)
    return [
        PricedEntry(entry, hours, rate, label, entry.role)
        for entry, hours, rate, label in _priced(history, rate_cards, ordered, settled)
    ]


def _priced(
    history: kit.ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    ordered: Sequence[E],
    settled: Callable[[E], Decimal] | None,
) -> list[tuple[E, Decimal, Money, str]]:
    """`price_entries` as tuples, over entries already in billing order."""
    rates = RatesInForce(history, rate_cards)
    if all(version.terms.daily_cap_hours is None for version in history.versions):
        alone = _priced_alone(rates, ordered)
        if alone is not None:
            return alone
    used_today: defaultdict[tuple[str, date], Decimal] = defaultdict(Decimal)
    done = settled if settled is not None else (lambda _entry: ZERO)
    for entry in ordered:
        if entry.billable:
            key = (entry.resource_id, entry.work_date)
            used_today[key] = EXACT.add(used_today[key], done(entry))
    priced: list[tuple[E, Decimal, Money, str] | None] = [None] * len(ordered)
    by_day = sorted(range(len(ordered)), key=lambda i: _person_day_order(ordered[i]))
    for i in by_day:
        entry = ordered[i]
        terms, rate, label = rates.of(entry)
        hours = round_to_increment(entry.hours, terms) if entry.billable else ZERO
        if terms.daily_cap_hours is not None and hours > 0:
            key = (entry.resource_id, entry.work_date)
            already = min(hours, done(entry))  # counted in used_today before the walk
            left_today = EXACT.subtract(terms.daily_cap_hours, used_today[key])
            more = max(ZERO, min(EXACT.subtract(hours, already), left_today))
            used_today[key] = EXACT.add(used_today[key], more)
            hours = EXACT.add(already, more)
        priced[i] = (entry, hours, rate, label)
    return [p for p in priced if p is not None]


def _person_day_order(entry: BillableTime) -> tuple[str, date, str]:
    return entry.resource_id, entry.work_date, entry.entry_id


def _priced_alone(
    rates: RatesInForce, ordered: Sequence[E]
) -> list[tuple[E, Decimal, Money, str]] | None:
    """Without a daily cap in any version every entry prices alone, in billing order; None
    when one is refused, so the walk by person-day names the refusal it always named."""
    priced: list[tuple[E, Decimal, Money, str]] = []
    of = rates.of
    try:
        for entry in ordered:
            terms, rate, label = of(entry)
            if not entry.billable:
                hours = ZERO
            elif terms.billing_increment is None:  # round_to_increment's answer, without a call
                hours = entry.hours
            else:
                hours = round_to_increment(entry.hours, terms)
            priced.append((entry, hours, rate, label))
    except DomainError:
        return None
    return priced


def _settled(ledger: kit.BilledLedger, entries: Sequence[BillableTime]) -> list[Decimal]:
    """Each entry's billable hours no longer open: billed or credited off, held, written off."""
    # dsum's sum, without its generator and a call per entry: this runs for every entry of
    # every run. An empty ledger (contracts billed for the first time) settles nothing.
    if not ledger.entries:
        nothing = EXACT.add(ZERO, ZERO)
        return [EXACT.add(EXACT.add(nothing, e.held), e.written_off) for e in entries]
    time_entry = kit.SourceKind.TIME_ENTRY
    billed = [ledger.settled(kit.SourceRef(time_entry, e.entry_id)) for e in entries]
    return [
        EXACT.add(EXACT.add(EXACT.add(ZERO, b), e.held), e.written_off)
        for b, e in zip(billed, entries, strict=True)
    ]


def bill_time_and_materials(
    history: kit.ObligationHistory[TimeAndMaterialsTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill the open approved hours and expenses dated up to the end of the period."""
    oid, until, ledger = history.obligation_id, ctx.period.end, ctx.ledger
    # The state read as `is_billable_state` reads it, without a property call per entry.
    billing = BILLABLE_STATES
    ordered = sorted(
        (
            e
            for e in ctx.time_entries
            if e.obligation_id == oid and e.state in billing and e.work_date <= until
        ),
        key=_billing_order,
    )
    # What each entry settled, read once for the pricing and the walk alike.
    done = _settled(ledger, ordered)
    by_id: dict[str, Decimal] = {}

    def settled(entry: BillableTime) -> Decimal:  # asked only under a daily cap
        if not by_id:
            by_id.update(zip((e.entry_id for e in ordered), done, strict=True))
        return by_id[entry.entry_id]

    priced = _priced(history, ctx.rate_cards, ordered, settled)
    cap = history.latest_by(until).terms.cap
    billed = (ledger.obligation_billed_time_value(oid), ledger.obligation_billed_hours(oid))
    portions, exclusions = walk_cap(cap, priced, done, billed, oid, ctx.currency)
    lines = time_lines(oid, portions, ctx.currency, history.latest.terms.name)
    expense_lines, expense_exclusions = bill_expenses(history, ctx)
    return kit.ObligationBilling(
        tuple(lines + expense_lines), tuple(exclusions + expense_exclusions)
    )


def blocking_cap(
    history: kit.ObligationHistory[TimeAndMaterialsTerms], on: date
) -> NotToExceed | None:
    """The cap in force on a date, if its policy refuses overage at ingestion (`block`)."""
    in_force = history.on(on)
    if in_force is None:
        raise NoTermsInForceError(f"{on} is outside obligation {history.obligation_id}")
    cap = in_force.terms.cap
    return cap if cap is not None and cap.policy is OveragePolicy.BLOCK else None


class BlockingCapAdmission:
    """An obligation's billable total at ingestion, for caps that `block`, kept per person-day.

    The accepted entries are priced once; a candidate re-prices only its own person-day (the
    daily cap ties a person's day together; every other entry prices alone), so a batch costs
    its size plus one pricing of what was recorded, not a re-pricing of everything per entry.
    """

    def __init__(
        self,
        history: kit.ObligationHistory[TimeAndMaterialsTerms],
        rate_cards: Mapping[RateCardId, RateCard],
        accepted: Iterable[TimeEntry],
    ) -> None:
        self._history, self._rate_cards = history, rate_cards
        self._days: defaultdict[tuple[str, date], list[TimeEntry]] = defaultdict(list)
        for entry in accepted:
            self._days[(entry.resource_id, entry.work_date)].append(entry)
        totals = [self._priced(day) for day in self._days.values()]
        self._hours = dsum(h for h, _ in totals)
        self._amount = dsum(a for _, a in totals)

    def _priced(self, entries: Iterable[TimeEntry]) -> tuple[Decimal, Decimal]:
        ordered = sorted(entries, key=_billing_order)
        priced = _priced(self._history, self._rate_cards, ordered, None)
        hours = dsum(h for _, h, _, _ in priced)
        amount = dsum(EXACT.multiply(h, rate.amount) for _, h, rate, _ in priced)
        return hours, amount

    def _with(self, candidate: TimeEntry) -> tuple[Decimal, Decimal]:
        day = self._days[(candidate.resource_id, candidate.work_date)]
        hours_before, amount_before = self._priced(day)
        hours_after, amount_after = self._priced([*day, candidate])
        return (
            EXACT.add(EXACT.subtract(self._hours, hours_before), hours_after),
            EXACT.add(EXACT.subtract(self._amount, amount_before), amount_after),
        )

    def record(self, entry: TimeEntry) -> None:
        """Count an entry accepted without a blocking cap on its date."""
        self._hours, self._amount = self._with(entry)
        self._days[(entry.resource_id, entry.work_date)].append(entry)

    def admit(self, candidate: TimeEntry) -> None:
        """Refuse an entry that would cross the blocking cap in force on its work date; count
        it otherwise."""
        cap = blocking_cap(self._history, candidate.work_date)
        hours, amount = self._with(candidate)
        if cap is not None and (
            (cap.hours is not None and hours > cap.hours)
            or (cap.amount is not None and amount > cap.amount)
        ):
            raise CapExceededError(
                f"time entry {candidate.entry_id} would take obligation "
                f"{self._history.obligation_id} to {hours} h / {amount} "
                f"{self._history.latest.terms.currency}, over its cap "
                f"({cap.hours} h / {cap.amount}); the contract blocks overage"
            )
        self._hours, self._amount = hours, amount
        self._days[(candidate.resource_id, candidate.work_date)].append(candidate)


def admit_time_entry(
    history: kit.ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    accepted: Iterable[TimeEntry],
    candidate: TimeEntry,
) -> None:
    """Refuse, at ingestion, an entry that would cross a cap whose policy is `block`."""
    if blocking_cap(history, candidate.work_date) is None:
        return
    BlockingCapAdmission(history, rate_cards, accepted).admit(candidate)


def recognise_time_and_materials(
    history: kit.ObligationHistory[TimeAndMaterialsTerms], ctx: kit.RevenueContext
) -> Money:
    """Revenue as incurred: approved time at billable value (within the cap), plus expenses,
    less what was given up; each given-up hour or amount is subtracted once, whichever way
    it was given up (written off on the item, or by a write-off credit)."""
    oid = history.obligation_id
    entries = [
        e
        for e in ctx.time_entries
        if e.obligation_id == oid
        and e.work_date <= ctx.as_of
        and e.state in (ItemState.APPROVED, ItemState.HELD, ItemState.WRITTEN_OFF)
    ]
    ordered = sorted(entries, key=_billing_order)
    priced = _priced(history, ctx.rate_cards, ordered, None)
    cap = history.latest_by(ctx.as_of).terms.cap
    given_up = [_time_given_up(entry, hours, ctx.ledger) for entry, hours, _, _ in priced]
    portions, _ = walk_cap(cap, priced, given_up, (ZERO, ZERO), oid, ctx.currency)
    total = dsum(p[2] for p in portions)
    total = EXACT.add(total, expense_revenue(history, ctx))
    # Value given up by write-off credit memos (by quantity or by amount) was never going to
    # be collected: not revenue.
    for ledger_entry in ctx.ledger.entries_for(oid):
        if ledger_entry.write_off:
            total = EXACT.add(total, ledger_entry.amount.amount)
    return Money(total, ctx.currency).quantized()


def _time_given_up(entry: TimeEntry, billable_hours: Decimal, ledger: kit.BilledLedger) -> Decimal:
    """Hours the entry itself holds or gave up, counting none a document billed or credited off."""
    settled = ledger.settled(kit.SourceRef(kit.SourceKind.TIME_ENTRY, entry.entry_id))
    over_cap, by_hand = entry.given_up_once(billable_hours, settled)
    return dsum((entry.held, over_cap, by_hand))


def time_and_materials_value(
    history: kit.ObligationHistory[TimeAndMaterialsTerms], as_of: date
) -> Money | None:
    """T&M is worth a fixed total only when its terms cap the billed amount."""
    terms = history.latest_by(as_of).terms
    if terms.cap is None or terms.cap.amount is None:
        return None
    return Money(terms.cap.amount, terms.currency)


def rerate_billed_time(
    history: kit.ObligationHistory[TimeAndMaterialsTerms], ctx: kit.BillingContext
) -> Mapping[str, Sequence[kit.ProposedLine]]:
    """Billed time whose rate in force on its work date changed is re-rated (ADR 0008)."""
    from domain.retroactive import rerate  # imported here: it reads this module's rates

    return rerate(history, ctx)


TIME_AND_MATERIALS = kit.register_billing_model(
    kit.BillingModel(
        name="time_and_materials",
        terms_type=TimeAndMaterialsTerms,
        bill=bill_time_and_materials,
        recognise=recognise_time_and_materials,
        contract_value=time_and_materials_value,
        summary=(
            "hours at the rate in force on the work date, in billing increments, with daily "
            "and not-to-exceed caps and their overage policies, plus expenses with markup"
        ),
        example={
            "obligation_id": "tm",
            "name": "Advisory time and materials",
            "rate_card_id": "RC-UK",
            "billing_increment": "0.25",
            "increment_rounding": "up",
            "daily_cap_hours": "8",
            "cap": {"amount": "50000.00", "policy": "hold"},
            "expenses": {"markup": "0.10", "category_caps": {"travel": "2000.00"}},
        },
        adr="docs/adr/0007-caps-and-overage-policies.md",
        source_kinds=(kit.SourceKind.TIME_ENTRY, kit.SourceKind.EXPENSE),
        line_kinds=(kit.LineKind.TIME, kit.LineKind.TIME_OVER_CAP, kit.LineKind.EXPENSE),
        rerate=rerate_billed_time,
    )
)
