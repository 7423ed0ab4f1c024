"""A fake `AdmissionScope`: what admission looks at, held in memory, counting what it reads."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from application.commands.delivery import TimeEntryInput
from domain.accounting_period import PeriodLock
from domain.cap_reach import RecordedTime
from domain.contract import Contract
from domain.engagement import Engagement
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    ObligationId,
    RateCardId,
    ResourceId,
    Role,
)
from domain.money import dsum
from domain.period import Period
from domain.ratecard import RateCard
from domain.time_entry import TimeEntry

AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def active_engagement(engagement_id: str, contract_id: str) -> Engagement:
    engagement = Engagement.propose(
        EngagementId(engagement_id), CustomerId("acme"), ContractId(contract_id), AT
    )
    engagement.contract(AT)
    engagement.start_provisioning(AT)
    engagement.activate(AT)
    return engagement


def time(
    entry_id: str,
    day: date,
    hours: str,
    *,
    engagement: str = "E1",
    obligation: str = "tm",
    resource: str = "r1",
    role: str = "consultant",
    billable: bool = True,
) -> TimeEntryInput:
    """One time entry as it arrives: the application's own `TimeEntryInput`."""
    return TimeEntryInput.written(
        entry_id, engagement, obligation, resource, role, day, Decimal(hours), billable=billable
    )


class FakeScope:
    """Engagements, contracts, rate cards, closed periods and recorded entries in memory."""

    def __init__(
        self,
        engagements: Iterable[Engagement],
        contracts: Iterable[Contract],
        cards: Iterable[RateCard],
        closed: Iterable[Period] = (),
        recorded: Iterable[TimeEntry] = (),
    ) -> None:
        self._engagements = {e.engagement_id: e for e in engagements}
        self._contracts = {c.contract_id: c for c in contracts}
        self._cards = {c.rate_card_id: c for c in cards}
        self._lock = PeriodLock(frozenset(closed))
        self._recorded = list(recorded)
        self.reads: Counter[str] = Counter()

    @property
    def lock(self) -> PeriodLock:
        return self._lock

    @property
    def rate_cards(self) -> Mapping[RateCardId, RateCard]:
        return self._cards

    def engagement(self, engagement_id: EngagementId) -> Engagement | None:
        self.reads["engagement"] += 1
        return self._engagements.get(engagement_id)

    def contract(self, contract_id: ContractId) -> Contract:
        self.reads["contract"] += 1
        return self._contracts[contract_id]

    def recorded_time(self, obligation_id: ObligationId) -> Sequence[RecordedTime]:
        self.reads["recorded_time"] += 1
        groups: defaultdict[tuple[Role, date, bool], list[TimeEntry]] = defaultdict(list)
        for e in self._recorded:
            if e.obligation_id == obligation_id:
                groups[(e.role, e.work_date, e.billable)].append(e)
        return [
            RecordedTime(*key, len(found), dsum(e.hours for e in found))
            for key, found in groups.items()
        ]

    def recorded_entries(self, obligation_id: ObligationId) -> Sequence[TimeEntry]:
        self.reads["recorded_entries"] += 1
        return [e for e in self._recorded if e.obligation_id == obligation_id]

    def days(self) -> dict[tuple[ResourceId, date], Decimal]:
        """The recorded hours per person-day, as the store gives them."""
        found: dict[tuple[ResourceId, date], Decimal] = {}
        for e in self._recorded:
            key = (e.resource_id, e.work_date)
            found[key] = found.get(key, Decimal(0)) + e.hours
        return found
