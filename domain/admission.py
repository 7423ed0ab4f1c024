"""Admission of delivery: the rules a delivered fact (an approved time entry, an expense) meets
before it is recorded (ADR 0025, ADR 0041, ADR 0047).

Delivery is admitted for an engagement that exists and accepts time on the fact's date, dated
in an open accounting period, against an obligation of the contract version in force on that
date. Billable time on time-and-materials terms has a rate on the rate card in force on its
work date; a person's day holds at most 24 hours (what is recorded plus what the batch took
before); billable time never takes an obligation over a cap that blocks overage.

The rules are pure. What they look at (engagements, contracts, rate cards, the period lock,
what an obligation already holds) comes through an `AdmissionScope`, which the application
fills from storage, each thing read on first need; a batch has thousands of entries but few
distinct engagements, obligations and dates, so each rule is decided once per such key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from domain.accounting_period import PeriodLock
from domain.billing import ObligationHistory
from domain.cap_reach import CandidateTime, RecordedTime, cap_out_of_reach
from domain.contract import Contract
from domain.engagement import Engagement
from domain.errors import DomainError, NoTermsInForceError, RateNotFoundError
from domain.ids import (
    ContractId,
    EngagementId,
    ObligationId,
    RateCardId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.in_force_span import (
    card_version_through,
    time_accepted_through,
    version_in_force_through,
)
from domain.money import EXACT
from domain.plausibility import (
    HOURS_IN_A_DAY,
    PlausibilityPolicy,
    check_hours,
    check_person_day,
)
from domain.ratecard import RateCard, RateCardVersion
from domain.time_and_materials import BlockingCapAdmission, TimeAndMaterialsTerms, blocking_cap
from domain.time_entry import TimeEntry

#: The reason code of delivery dated where no contract version is in force.
OUTSIDE_CONTRACT = "outside_contract"
#: What a date in a closed period is refused to (the period lock's wording).
_RECORD_DELIVERY = "record delivery"
#: No hours recorded yet for a person's day.
_NONE = Decimal(0)
#: Exact addition of a person's hours, bound once (it runs once per admitted entry).
_exact_sum = EXACT.add


class UnknownEngagementError(DomainError):
    """Delivery names an engagement that does not exist."""

    code = "unknown_engagement"


class UnknownObligationError(DomainError):
    """Delivery names an obligation the contract version in force on its date does not hold."""

    code = "unknown_obligation"


def reason_code(error: DomainError) -> str:
    """The reason a refused fact is reported with: its rule's code, except that a date no
    contract version covers is `outside_contract`."""
    return OUTSIDE_CONTRACT if isinstance(error, NoTermsInForceError) else error.code


class AdmissionScope(Protocol):
    """What admission looks at, each read when first needed."""

    @property
    def lock(self) -> PeriodLock: ...

    @property
    def rate_cards(self) -> Mapping[RateCardId, RateCard]: ...

    def engagement(self, engagement_id: EngagementId) -> Engagement | None: ...

    def contract(self, contract_id: ContractId) -> Contract: ...

    def recorded_time(self, obligation_id: ObligationId) -> Sequence[RecordedTime]: ...

    def recorded_entries(self, obligation_id: ObligationId) -> Sequence[TimeEntry]: ...


class DeliveredTime(Protocol):
    """One approved time entry as it arrives, naming its engagement."""

    @property
    def entry_id(self) -> TimeEntryId: ...
    @property
    def engagement_id(self) -> EngagementId: ...
    @property
    def obligation_id(self) -> ObligationId: ...
    @property
    def resource_id(self) -> ResourceId: ...
    @property
    def role(self) -> Role: ...
    @property
    def work_date(self) -> date: ...
    @property
    def hours(self) -> Decimal: ...
    @property
    def task_id(self) -> TaskId: ...
    @property
    def billable(self) -> bool: ...
    @property
    def cost_rate(self) -> Decimal | None: ...


def terms_in_force(
    scope: AdmissionScope, engagement_id: EngagementId, obligation_id: ObligationId, on: date
) -> Any:
    """Delivery dated `on` is admitted only for an existing engagement that accepts time then,
    in an open period, against an obligation of the contract version in force on that date."""
    return _terms_in_force(scope, engagement_id, obligation_id, on, scope.lock.check)


def _terms_in_force(
    scope: AdmissionScope,
    engagement_id: EngagementId,
    obligation_id: ObligationId,
    on: date,
    check_open: Callable[[date, str], None],
) -> Any:
    engagement = scope.engagement(engagement_id)
    if engagement is None:
        raise UnknownEngagementError(f"engagement {engagement_id} does not exist")
    # Imports obey the period lock like every other actor: late delivery dated in a closed
    # period is refused (period_closed) until the period is reopened.
    check_open(on, _RECORD_DELIVERY)
    engagement.require_time_accepted(on)
    contract = scope.contract(engagement.contract_id)
    version = contract.version_in_force(on)
    try:
        return version.obligation(obligation_id)
    except DomainError:
        raise UnknownObligationError(
            f"contract {contract.contract_id} v{version.version} in force on {on} has no "
            f"obligation {obligation_id}"
        ) from None


class ContractRules:
    """The contract rules of one batch, each decided once per engagement, obligation and date
    (terms) and per rate card and date (rates)."""

    def __init__(self, scope: AdmissionScope) -> None:
        self._scope = scope
        self._terms: dict[tuple[str, str, date], Any] = {}
        self._cards: dict[tuple[str, date], RateCardVersion] = {}
        #: The period lock's answer for each date (a batch has few dates, many engagements).
        self._open: dict[date, DomainError | None] = {}

    def terms(self, engagement_id: EngagementId, obligation_id: ObligationId, on: date) -> Any:
        """The obligation's terms in force on the date, or the refusal `terms_in_force` gave."""
        key = (engagement_id, obligation_id, on)
        found = self._terms.get(key)
        if found is None:
            try:
                found = _terms_in_force(
                    self._scope, engagement_id, obligation_id, on, self.check_open
                )
            except DomainError as refusal:
                found = refusal
            self._terms[key] = found
        if isinstance(found, DomainError):
            raise found
        return found

    def check_open(self, on: date, action: str) -> None:
        """The period lock's check, decided once per date."""
        if on not in self._open:
            try:
                self._scope.lock.check(on, action)
                self._open[on] = None
            except DomainError as closed:
                self._open[on] = closed
        found = self._open[on]
        if found is not None:
            raise found

    def check_rate(self, terms: TimeAndMaterialsTerms, time: DeliveredTime) -> None:
        """Billable time has a rate for its role (or person) on the card in force that day."""
        version = self._card_version(terms, time.work_date)
        if time.resource_id in version.resource_overrides or time.role in version.role_rates:
            return  # a rate exists (`rate_for` would price it)
        version.rate_for(time.role, time.resource_id)  # the refusal

    def rates_on(self, terms: TimeAndMaterialsTerms, on: date) -> RateCardVersion | None:
        """The card version `check_rate` prices time dated `on` with; None where it refuses
        all such time (no such card, or no version in force then)."""
        try:
            return self._card_version(terms, on)
        except DomainError:
            return None

    def card(self, terms: TimeAndMaterialsTerms) -> RateCard | None:
        """The rate card the terms price with, None if there is no such card."""
        return self._scope.rate_cards.get(terms.rate_card_id)

    def _card_version(self, terms: TimeAndMaterialsTerms, on: date) -> RateCardVersion:
        key = (terms.rate_card_id, on)
        version = self._cards.get(key)
        if version is None:
            card = self._scope.rate_cards.get(terms.rate_card_id)
            if card is None:
                raise RateNotFoundError(f"rate card {terms.rate_card_id} is unknown")
            version = self._cards[key] = card.version_in_force(on)
        return version


class BlockingCaps:
    """Caps that block overage, checked set-wise (ADR 0041): once an entry meets such a cap,
    the obligation's recorded time summed by role and day settles whether the batch can reach
    the cap at all (most cannot, and then nothing more is read); only if it can are the
    recorded entries read, once per batch, and each later entry re-prices its own person-day."""

    def __init__(self, scope: AdmissionScope, batch: Iterable[DeliveredTime]) -> None:
        self._scope = scope
        #: The batch, turned into an obligation's candidates only when one of its entries
        #: meets a blocking cap (most batches meet none).
        self._times = batch
        self._histories: dict[ObligationId, ObligationHistory[Any]] = {}
        #: Whether any version of the obligation has a cap that blocks (most have none).
        self._may_block: dict[ObligationId, bool] = {}
        self._admissions: dict[ObligationId, BlockingCapAdmission] = {}
        self._batch: defaultdict[ObligationId, list[TimeEntry]] = defaultdict(list)

    def may_block(self, engagement_id: EngagementId, oid: ObligationId) -> bool:
        """Whether a cap that blocks overage may still refuse time of this obligation in the
        batch (most obligations have none: their entries need no `admit`)."""
        self._history(engagement_id, oid)
        return self._may_block[oid]

    def admit(self, engagement_id: EngagementId, entry: TimeEntry) -> None:
        """Billable time never takes an obligation over a cap that blocks overage."""
        oid = entry.obligation_id
        history = self._history(engagement_id, oid)
        if not self._may_block[oid]:
            return
        admission = self._admissions.get(oid)
        blocks = entry.billable and blocking_cap(history, entry.work_date) is not None
        if admission is None and blocks and self._out_of_reach(history):
            self._may_block[oid] = False  # the whole batch stays within every blocking cap
            return
        if admission is None and blocks:
            recorded = self._scope.recorded_entries(oid)
            admission = BlockingCapAdmission(
                history, self._scope.rate_cards, [*recorded, *self._batch[oid]]
            )
            self._admissions[oid] = admission
        if admission is not None:
            (admission.admit if entry.billable else admission.record)(entry)
        self._batch[oid].append(entry)

    def _history(self, engagement_id: EngagementId, oid: ObligationId) -> ObligationHistory[Any]:
        history = self._histories.get(oid)
        if history is None:
            engagement = self._scope.engagement(engagement_id)
            assert engagement is not None  # the terms were found through it
            history = self._scope.contract(engagement.contract_id).obligation_history(oid)
            self._histories[oid] = history
            self._may_block[oid] = any(
                blocking_cap(history, v.effective_from) is not None for v in history.versions
            )
        return history

    def _out_of_reach(self, history: ObligationHistory[Any]) -> bool:
        oid = history.obligation_id
        recorded = self._scope.recorded_time(oid)
        candidates = [
            CandidateTime(time.role, time.resource_id, time.work_date, time.billable, time.hours)
            for time in self._times
            if time.obligation_id == oid
        ]
        return cap_out_of_reach(history, self._scope.rate_cards, recorded, candidates)


class TimeAdmission:
    """Every rule a new time entry meets, in order; the person-days fill up as entries are
    admitted, so later entries of a batch count the earlier ones."""

    def __init__(
        self,
        scope: AdmissionScope,
        policy: PlausibilityPolicy,
        today: date,
        days: dict[tuple[ResourceId, date], Decimal],
        batch: Iterable[DeliveredTime],
    ) -> None:
        self.rules, self.caps = ContractRules(scope), BlockingCaps(scope, list(batch))
        self._scope = scope
        self.policy, self.today, self.days = policy, today, days
        #: The latest work date the policy accepts today (a later one is refused by it).
        self._latest = today + timedelta(days=policy.future_tolerance_days)
        self._fine_hours: set[Decimal] = set()
        #: Per engagement, obligation and date: the terms, whether they are T&M, whether a
        #: blocking cap may refuse the obligation's time, and the persons and roles the rate
        #: card in force prices (a batch has few such keys; an entry they price needs no
        #: `check_rate`).
        self._decided: dict[tuple[str, str, date], _Decided] = {}
        #: Per engagement and obligation, the last decision and the dates it holds for (from
        #: the date it was taken through the first date anything it rests on changes): a
        #: batch comes in date order, so a later date within them needs only the period lock.
        self._spans: dict[tuple[str, str], tuple[date, date, _Decided]] = {}

    def admit(self, time: DeliveredTime) -> TimeEntry:
        """The entry, approved, if it meets every rule of admission (else the rule's error)."""
        # Each field read once (a batch has thousands of entries; the rules read some twice).
        entry_id, obligation_id, resource_id, work_date, hours, billable = (
            time.entry_id, time.obligation_id, time.resource_id, time.work_date, time.hours,
            time.billable,
        )  # fmt: skip
        # The rule is on the value: a value that met it once meets it again (a non-finite
        # value is never remembered, so a signalling NaN is never hashed).
        if not (hours.is_finite() and hours in self._fine_hours):
            check_hours(hours)
            self._fine_hours.add(hours)
        if work_date > self._latest:
            self.policy.refuse_future(work_date, self.today, f"the work date of {entry_id}")
        key = (time.engagement_id, obligation_id, work_date)
        decided = self._decided.get(key)
        if decided is None:
            decided = self._decided[key] = self._decide(*key)
        terms, tm, capped, persons, roles = decided
        entry = TimeEntry.received_approved(
            entry_id,
            obligation_id,
            resource_id,
            time.role,
            work_date,
            hours,
            task_id=time.task_id,
            billable=billable,
            cost_rate=time.cost_rate,
        )
        if tm and billable and not (resource_id in persons or time.role in roles):
            self.rules.check_rate(terms, time)  # refuses
        day = (resource_id, work_date)
        days = self.days
        recorded = days.get(day, _NONE)
        total = _exact_sum(recorded, hours)
        if total > HOURS_IN_A_DAY:
            check_person_day(resource_id, work_date, recorded, hours)  # refuses
        if capped:
            self.caps.admit(time.engagement_id, entry)
        days[day] = total
        return entry

    def _decide(
        self, engagement_id: EngagementId, obligation_id: ObligationId, on: date
    ) -> _Decided:
        """The terms of time dated `on` (refused as `ContractRules.terms` refuses), whether
        they are T&M, whether a cap that blocks overage may refuse the obligation's time, and
        the persons and roles priced by the card in force on `on` (none if it refuses)."""
        span = self._spans.get((engagement_id, obligation_id))
        if span is not None and span[0] <= on <= span[1]:
            # The engagement, the contract's version and the card's stay as they were on the
            # span's first date: only the period lock may refuse this date.
            self.rules.check_open(on, _RECORD_DELIVERY)
            return span[2]
        terms = self.rules.terms(engagement_id, obligation_id, on)
        last = self._through(engagement_id, on)
        if not isinstance(terms, TimeAndMaterialsTerms):
            decided: _Decided = (terms, False, False, _PRICES_NONE, _PRICES_NONE)
        else:
            rates = self.rules.rates_on(terms, on)
            card = self.rules.card(terms)
            # A card that refuses the date may price a later one: decided for this date only.
            last = (
                on if rates is None or card is None else min(last, card_version_through(card, on))
            )
            persons, roles = (
                (_PRICES_NONE, _PRICES_NONE)
                if rates is None
                else (rates.resource_overrides, rates.role_rates)
            )
            capped = self.caps.may_block(engagement_id, obligation_id)
            decided = terms, True, capped, persons, roles
        self._spans[engagement_id, obligation_id] = (on, last, decided)
        return decided

    def _through(self, engagement_id: EngagementId, on: date) -> date:
        """The last date from `on` (whose terms were found) on that the engagement accepts
        time and its contract's version in force stays the one in force on `on`."""
        engagement = self._scope.engagement(engagement_id)
        assert engagement is not None  # the terms were found through it
        contract = self._scope.contract(engagement.contract_id)
        version = contract.version_in_force(on)
        return min(
            time_accepted_through(engagement), version_in_force_through(contract, version, on)
        )


#: What `TimeAdmission` decides once per engagement, obligation and date.
_Decided = tuple[Any, bool, bool, Container[object], Container[object]]
#: A card that prices nobody: every entry is then checked (and refused) by `check_rate`.
_PRICES_NONE: frozenset[object] = frozenset()


Delivered = TypeVar("Delivered", bound=DeliveredTime)


def billing_order(times: Iterable[tuple[int, Delivered]]) -> list[tuple[int, Delivered]]:
    """A batch is admitted in billing order (work date, then id), whatever order it came in:
    which entry of a person's full day or of a cap is the one refused does not depend on the
    sender's order."""
    # By id, then stably by date: two sorts on one plain key each cost less than one on a
    # pair built per entry (a batch has thousands, and usually arrives in id order).
    ordered = sorted(times, key=_its_id)
    ordered.sort(key=_its_date)
    return ordered


def _its_id(found: tuple[int, DeliveredTime]) -> str:
    return found[1].entry_id


def _its_date(found: tuple[int, DeliveredTime]) -> date:
    return found[1].work_date


def admit_corrected(
    history: ObligationHistory[Any],
    rate_cards: Mapping[RateCardId, RateCard],
    recorded: Callable[[], Sequence[RecordedTime]],
    others: Callable[[], Sequence[TimeEntry]],
    entry: TimeEntry,
) -> None:
    """A corrected billable entry meets a blocking cap as if it arrived now."""
    if not entry.billable or not isinstance(history.latest.terms, TimeAndMaterialsTerms):
        return
    if blocking_cap(history, entry.work_date) is None:
        return
    corrected = CandidateTime(
        entry.role, entry.resource_id, entry.work_date, entry.billable, entry.hours
    )
    if cap_out_of_reach(history, rate_cards, recorded(), [corrected]):
        return  # the sums (which may count the entry twice) stay within the cap (ADR 0041)
    BlockingCapAdmission(history, rate_cards, others()).admit(entry)
