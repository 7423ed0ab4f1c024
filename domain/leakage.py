"""Leakage: the value of approved work that will never be billed, and the value at risk of it.

The definition (ADR 0028):
- *leakage*, by cause: `over_cap` (written off over a not-to-exceed or expense category cap),
  `by_hand` (written off by hand), `conceded` (write-off credits, by quantity or by amount),
  `expired_expense` (an approved expense still unbilled when its billing window closed);
- *value at risk*: `held_over_cap` (held, waiting for a release or a write-off), approved time
  still unbilled more than N days after its work date (by age bucket), and milestones accepted
  but not yet invoiced;
- each hour and each amount given up counts once, whichever way it was given up: hours a
  write-off credit gave up are `conceded` at the credited value; what the item wrote off itself
  counts only for hours no document billed or credited off (`given_up_once`), the same fact
  revenue recognition subtracts;
- hours are valued at the billable value the T&M rule would have billed them at: billable
  hours (after increment rounding and the daily cap) at the rate in force on the work date;
  expenses at cost x (1 + markup);
- retainer breakage is revenue, never leakage; time on fixed-fee, milestone and retainer
  obligations is not billed by the hour, so only write-off credits count there.

Every figure is dated: time by its work date, an expense by the day it was incurred, a
concession by the issue date of its credit memo, an accepted milestone by its acceptance date.
Figures are exact here; `LeakageFigures.quantized` rounds each one half-up for a report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import attrs

from domain.billing import BilledLedger, ObligationHistory, SourceKind, SourceRef
from domain.errors import DomainError
from domain.expenses import expense_expired
from domain.ids import ContractId, CustomerId, EngagementId, RateCardId
from domain.milestone import Milestone
from domain.milestone_billing import ACCEPTED_STATES, MilestoneTerms, billed_milestones
from domain.money import EXACT, Currency, Money
from domain.period import Period
from domain.ratecard import RateCard
from domain.time_and_materials import TimeAndMaterialsTerms, price_entries
from domain.time_entry import ExpenseItem, TimeEntry

ZERO = Decimal(0)
#: Approved time unbilled for more days than this is at risk, unless a report says otherwise.
DEFAULT_AGED_DAYS = 30


class LeakageCause(Enum):
    """Why approved work will never be billed."""

    OVER_CAP = "over_cap"
    BY_HAND = "by_hand"
    CONCEDED = "conceded"
    EXPIRED_EXPENSE = "expired_expense"


class AgeBucket(Enum):
    """Days since the work date, in the buckets the firm watches receivables by (guide 7)."""

    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "over_90"

    @classmethod
    def of(cls, days: int) -> AgeBucket:
        """The bucket of an age of at least one day."""
        if days <= 30:
            return cls.DAYS_1_30
        if days <= 60:
            return cls.DAYS_31_60
        if days <= 90:
            return cls.DAYS_61_90
        return cls.OVER_90


class InvalidLeakageQueryError(DomainError):
    """A leakage report runs over a date range that ends on or before its as-of date, and
    counts time as aged after zero or more days."""

    code = "invalid_leakage_query"


@attrs.frozen
class WatchedObligation:
    """One obligation the report reads, with what it is grouped by."""

    customer_id: CustomerId
    engagement_id: EngagementId
    contract_id: ContractId
    currency: Currency
    history: ObligationHistory[Any]


@attrs.frozen
class GroupKey:
    """A report row: one customer, engagement, contract, currency and month."""

    customer_id: CustomerId
    engagement_id: EngagementId
    contract_id: ContractId
    currency: Currency
    period: Period


def _zero_causes() -> dict[LeakageCause, Decimal]:
    return dict.fromkeys(LeakageCause, ZERO)


def _zero_buckets() -> dict[AgeBucket, Decimal]:
    return dict.fromkeys(AgeBucket, ZERO)


@attrs.frozen
class LeakageFigures:
    """What one group gave up, by cause, and what it has at risk."""

    currency: Currency
    leakage: Mapping[LeakageCause, Money]
    held_over_cap: Money
    aged_unbilled: Mapping[AgeBucket, Money]
    milestones_not_invoiced: Money

    @property
    def leakage_total(self) -> Money:
        """Every cause added up (each hour or amount is in exactly one cause)."""
        return _total(self.leakage.values(), self.currency)

    @property
    def at_risk_total(self) -> Money:
        """Held, aged unbilled time and milestones not invoiced, added up."""
        parts = [self.held_over_cap, *self.aged_unbilled.values(), self.milestones_not_invoiced]
        return _total(parts, self.currency)

    def quantized(self) -> LeakageFigures:
        """Each figure rounded half-up to the currency's minor unit (totals then add these)."""
        return LeakageFigures(
            self.currency,
            {cause: m.quantized() for cause, m in self.leakage.items()},
            self.held_over_cap.quantized(),
            {bucket: m.quantized() for bucket, m in self.aged_unbilled.items()},
            self.milestones_not_invoiced.quantized(),
        )

    def plus(self, other: LeakageFigures) -> LeakageFigures:
        """Two groups' figures in one currency added up."""
        if other.currency != self.currency:
            raise DomainError(f"{self.currency} and {other.currency} leakage are never added")
        return LeakageFigures(
            self.currency,
            {c: self.leakage[c] + other.leakage[c] for c in LeakageCause},
            self.held_over_cap + other.held_over_cap,
            {b: self.aged_unbilled[b] + other.aged_unbilled[b] for b in AgeBucket},
            self.milestones_not_invoiced + other.milestones_not_invoiced,
        )

    @classmethod
    def nothing(cls, currency: Currency) -> LeakageFigures:
        """No leakage and nothing at risk."""
        zero = Money.zero(currency)
        return cls(
            currency,
            dict.fromkeys(LeakageCause, zero),
            zero,
            dict.fromkeys(AgeBucket, zero),
            zero,
        )


def _total(parts: Iterable[Money], currency: Currency) -> Money:
    total = Money.zero(currency)
    for part in parts:
        total = total + part
    return total


@attrs.frozen
class LeakageReport:
    """Leakage and value at risk per group, as of a date, over a date range."""

    as_of: date
    start: date | None
    end: date
    aged_days: int
    groups: tuple[tuple[GroupKey, LeakageFigures], ...]

    def totals(self) -> dict[Currency, LeakageFigures]:
        """The rounded figures added up per currency; currencies are never added together."""
        totals: dict[Currency, LeakageFigures] = {}
        for key, figures in self.groups:
            rounded = figures.quantized()
            so_far = totals.get(key.currency)
            totals[key.currency] = rounded if so_far is None else so_far.plus(rounded)
        return dict(sorted(totals.items(), key=lambda kv: kv[0].code))


K = TypeVar("K")


class _Sums:
    """Exact running sums per group."""

    def __init__(self) -> None:
        self.causes: defaultdict[GroupKey, dict[LeakageCause, Decimal]] = defaultdict(_zero_causes)
        self.held: defaultdict[GroupKey, Decimal] = defaultdict(Decimal)
        self.aged: defaultdict[GroupKey, dict[AgeBucket, Decimal]] = defaultdict(_zero_buckets)
        self.milestones: defaultdict[GroupKey, Decimal] = defaultdict(Decimal)
        self.keys: set[GroupKey] = set()

    def cause(self, key: GroupKey, cause: LeakageCause, value: Decimal) -> None:
        self._add(key, self.causes[key], cause, value)

    def held_over_cap(self, key: GroupKey, value: Decimal) -> None:
        self._add(key, self.held, key, value)

    def aged_unbilled(self, key: GroupKey, bucket: AgeBucket, value: Decimal) -> None:
        self._add(key, self.aged[key], bucket, value)

    def milestone(self, key: GroupKey, value: Decimal) -> None:
        self._add(key, self.milestones, key, value)

    def _add(self, key: GroupKey, sums: MutableMapping[K, Decimal], at: K, value: Decimal) -> None:
        """Adds `value` exactly to one running sum of the group; a zero leaves the group unseen."""
        if value:
            self.keys.add(key)
            sums[at] = EXACT.add(sums[at], value)

    def figures(self, key: GroupKey) -> LeakageFigures:
        c = key.currency
        return LeakageFigures(
            c,
            {cause: Money(v, c) for cause, v in self.causes[key].items()},
            Money(self.held[key], c),
            {bucket: Money(v, c) for bucket, v in self.aged[key].items()},
            Money(self.milestones[key], c),
        )


def leakage_report(
    obligations: Sequence[WatchedObligation],
    rate_cards: Mapping[RateCardId, RateCard],
    time_entries: Iterable[TimeEntry],
    expenses: Iterable[ExpenseItem],
    milestones: Iterable[Milestone],
    ledger: BilledLedger,
    credit_issued_on: Mapping[str, date],
    *,
    as_of: date,
    start: date | None = None,
    end: date | None = None,
    aged_days: int = DEFAULT_AGED_DAYS,
) -> LeakageReport:
    """Approved work given up, by cause, and the value at risk, per customer, engagement,
    contract, currency and month, for what is dated from `start` to `end` (at most `as_of`)
    as the books stand on `as_of`; each hour and amount given up counts once."""
    last = as_of if end is None else end
    if last > as_of or (start is not None and start > last):
        raise InvalidLeakageQueryError(
            f"a leakage report covers dates up to its as-of date {as_of}: not {start} to {last}"
        )
    if aged_days < 0:
        raise InvalidLeakageQueryError(f"time is aged after 0 days or more, not {aged_days}")

    def inside(day: date) -> bool:
        return (start is None or day >= start) and day <= last

    entries, items, accepted = tuple(time_entries), tuple(expenses), tuple(milestones)
    sums = _Sums()
    for watched in obligations:
        oid = watched.history.obligation_id

        def key(day: date, w: WatchedObligation = watched) -> GroupKey:
            return GroupKey(w.customer_id, w.engagement_id, w.contract_id, w.currency,
                            Period.month_of(day))  # fmt: skip

        for entry in ledger.entries_for(oid):
            if entry.write_off and entry.amount.is_negative():
                on = credit_issued_on.get(entry.document_id, as_of)
                if inside(on):
                    sums.cause(key(on), LeakageCause.CONCEDED, EXACT.minus(entry.amount.amount))
        terms = watched.history.latest.terms
        if isinstance(terms, TimeAndMaterialsTerms):
            mine = [e for e in entries if e.obligation_id == oid and e.is_billable_state
                    and inside(e.work_date)]  # fmt: skip
            _time(sums, watched.history, rate_cards, mine, ledger, as_of, aged_days, key)
            spent = [x for x in items if x.obligation_id == oid and x.is_billable_state
                     and inside(x.incurred_on)]  # fmt: skip
            _expenses(sums, watched.history, spent, ledger, as_of, key)
        if isinstance(terms, MilestoneTerms):
            _milestones(sums, watched.history, accepted, ledger, inside, key)
    ordered = sorted(
        sums.keys,
        key=lambda k: (k.currency.code, k.customer_id, k.engagement_id, k.contract_id,
                       k.period.start),
    )  # fmt: skip
    groups = tuple((k, sums.figures(k)) for k in ordered)
    return LeakageReport(as_of, start, last, aged_days, groups)


def _time(
    sums: _Sums,
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entries: Sequence[TimeEntry],
    ledger: BilledLedger,
    as_of: date,
    aged_days: int,
    key: Callable[[date], GroupKey],
) -> None:
    """Hours written off (over a cap, by hand), held, and open beyond the age limit."""
    for priced in price_entries(history, rate_cards, entries):
        entry, rate = priced.entry, priced.rate.amount
        settled = ledger.settled(SourceRef(SourceKind.TIME_ENTRY, entry.entry_id))
        over_cap, by_hand = entry.given_up_once(priced.billable_hours, settled)
        group = key(entry.work_date)
        sums.cause(group, LeakageCause.OVER_CAP, EXACT.multiply(over_cap, rate))
        sums.cause(group, LeakageCause.BY_HAND, EXACT.multiply(by_hand, rate))
        sums.held_over_cap(group, EXACT.multiply(entry.held, rate))
        done = EXACT.add(EXACT.add(settled, entry.held), EXACT.add(over_cap, by_hand))
        still_open = max(ZERO, EXACT.subtract(priced.billable_hours, done))
        age = (as_of - entry.work_date).days
        if still_open > 0 and age > aged_days and age > 0:
            sums.aged_unbilled(group, AgeBucket.of(age), EXACT.multiply(still_open, rate))


def _expenses(
    sums: _Sums,
    history: ObligationHistory[TimeAndMaterialsTerms],
    items: Sequence[ExpenseItem],
    ledger: BilledLedger,
    as_of: date,
    key: Callable[[date], GroupKey],
) -> None:
    """Expense cost written off (over a category cap, by hand), held, or expired, at the
    billed value (cost x (1 + markup))."""
    for item in items:
        in_force = history.on(item.incurred_on)
        policy = None if in_force is None else in_force.terms.expenses
        if policy is None:
            continue  # costed, never billable: nothing to give up
        factor = EXACT.add(Decimal(1), policy.markup)
        settled = ledger.settled(SourceRef(SourceKind.EXPENSE, item.expense_id))
        over_cap, by_hand = item.given_up_once(item.cost.amount, settled)
        group = key(item.incurred_on)
        sums.cause(group, LeakageCause.OVER_CAP, EXACT.multiply(over_cap, factor))
        sums.cause(group, LeakageCause.BY_HAND, EXACT.multiply(by_hand, factor))
        sums.held_over_cap(group, EXACT.multiply(item.held, factor))
        if policy.has_expired(item.incurred_on, as_of):
            expired = expense_expired(item, ledger)
            sums.cause(group, LeakageCause.EXPIRED_EXPENSE, EXACT.multiply(expired, factor))


def _milestones(
    sums: _Sums,
    history: ObligationHistory[MilestoneTerms],
    milestones: Sequence[Milestone],
    ledger: BilledLedger,
    inside: Callable[[date], bool],
    key: Callable[[date], GroupKey],
) -> None:
    """Milestones accepted (by the report's end) that no document billed yet."""
    oid = history.obligation_id
    terms = history.latest.terms
    amounts = terms.amounts(billed_milestones(terms, ledger))
    for m in milestones:
        if (
            m.obligation_id == oid
            and m.state in ACCEPTED_STATES
            and m.accepted_on is not None
            and inside(m.accepted_on)
            and m.milestone_id in amounts
            and not ledger.is_billed(SourceRef(SourceKind.MILESTONE, m.milestone_id))
        ):
            sums.milestone(key(m.accepted_on), amounts[m.milestone_id].amount)
