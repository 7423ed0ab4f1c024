"""What admission looks at, read from the unit of work when first needed (the domain's
`AdmissionScope`): the engagements, contracts and rate cards a batch refers to, once each,
the closed periods among those its dates touch, and an obligation's recorded time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date

from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.cap_reach import RecordedTime
from domain.contract import Contract
from domain.engagement import Engagement
from domain.ids import ContractId, EngagementId, ObligationId, RateCardId
from domain.ratecard import RateCard
from domain.time_entry import TimeEntry


class StoredRateCards(Mapping[RateCardId, RateCard]):
    """The rate cards, each read when first asked for (a batch uses few of them), for
    reference (admission never changes them); iterating reads them all."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._found: dict[RateCardId, RateCard | None] = {}
        self._all: dict[RateCardId, RateCard] | None = None

    def __getitem__(self, rate_card_id: RateCardId) -> RateCard:
        if rate_card_id not in self._found:
            self._found[rate_card_id] = self._uow.references.rate_card(rate_card_id)
        card = self._found[rate_card_id]
        if card is None:
            raise KeyError(rate_card_id)
        return card

    def __iter__(self) -> Iterator[RateCardId]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())

    def _everything(self) -> dict[RateCardId, RateCard]:
        if self._all is None:
            self._all = {card.rate_card_id: card for card in self._uow.rate_cards.all()}
        return self._all


class StoredScope:
    """The domain's `AdmissionScope` over one unit of work."""

    def __init__(self, uow: UnitOfWork, dates: Iterable[date]) -> None:
        self._uow = uow
        self._engagements: dict[EngagementId, Engagement | None] = {}
        self._contracts: dict[ContractId, Contract] = {}
        self._rate_cards = StoredRateCards(uow)
        dates = list(dates)
        self._days = (min(dates), max(dates)) if dates else None
        self._lock: PeriodLock | None = None

    @property
    def lock(self) -> PeriodLock:
        """The closed periods among those touching the batch's first to last date: for any
        date of the batch, the same answer as the lock of every period."""
        if self._lock is None:
            days = self._days
            self._lock = (
                PeriodLock.of(()) if days is None else self._uow.references.period_lock(*days)
            )
        return self._lock

    @property
    def rate_cards(self) -> Mapping[RateCardId, RateCard]:
        return self._rate_cards

    def read_engagements(self, engagement_ids: Iterable[EngagementId]) -> None:
        """Read the batch's engagements and their contracts up front, two statements in all,
        or one checking the kept ones (an engagement or contract not found is left to be
        refused when asked for). Admission only looks at them: they are read for reference,
        so the commit does not compare them with what was read (ADR 0058, ADR 0070)."""
        wanted = set(engagement_ids) - self._engagements.keys()
        found, contracts = self._uow.references.engagements_and_contracts(wanted, self._days)
        self._engagements.update({e: found.get(e) for e in wanted})
        for contract_id, contract in contracts.items():
            self._contracts.setdefault(contract_id, contract)

    def engagement(self, engagement_id: EngagementId) -> Engagement | None:
        if engagement_id not in self._engagements:
            self._engagements[engagement_id] = self._uow.engagements.find(engagement_id)
        return self._engagements[engagement_id]

    def contract(self, contract_id: ContractId) -> Contract:
        if contract_id not in self._contracts:
            self._contracts[contract_id] = self._uow.contracts.get(contract_id)
        return self._contracts[contract_id]

    def recorded_time(self, obligation_id: ObligationId) -> Sequence[RecordedTime]:
        return self._uow.delivery.recorded_time_by_role_and_day(obligation_id)

    def recorded_entries(self, obligation_id: ObligationId) -> Sequence[TimeEntry]:
        return self._uow.delivery.time_entries_for([obligation_id])
