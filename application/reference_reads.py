"""What admission reads for reference: a batch's engagements, their contracts, the rate cards
it prices with (ADR 0058) and the lock of the periods of its days. The caller only looks at
them and never changes them, so a storage may hand out objects it keeps across units of work,
provided each was checked in the unit of work's own transaction to be the stored one (ADR
0070)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING, Protocol

from domain.accounting_period import PeriodLock
from domain.contract import Contract
from domain.engagement import Engagement
from domain.ids import ContractId, EngagementId, RateCardId
from domain.ratecard import RateCard

if TYPE_CHECKING:
    from application.unit_of_work import UnitOfWork

#: Engagements found by id (an id not found is absent) and the contracts they are under.
EngagementsAndContracts = tuple[dict[EngagementId, Engagement], dict[ContractId, Contract]]
#: The first and last day of a batch.
Days = tuple[date, date]


class ReferenceReads(Protocol):
    """Reads for reference only: what they hand out is never changed by the caller."""

    def engagements_and_contracts(
        self, engagement_ids: Collection[EngagementId], days: Days | None = None
    ) -> EngagementsAndContracts:
        """The engagements of these ids that exist, and the contracts they are under; `days`,
        the batch's first and last day, says which period lock will be asked for next."""
        ...

    def rate_card(self, rate_card_id: RateCardId) -> RateCard | None: ...

    def period_lock(self, first: date, last: date) -> PeriodLock:
        """The lock made by the closed periods with a day from `first` to `last`."""
        ...


class RepositoryReferences:
    """`ReferenceReads` through the unit of work's repositories (`read_many`), read anew in
    every unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def engagements_and_contracts(
        self, engagement_ids: Collection[EngagementId], days: Days | None = None
    ) -> EngagementsAndContracts:
        found = self._uow.engagements.read_many(engagement_ids)
        contracts = self._uow.contracts.read_many({e.contract_id for e in found.values()})
        return (
            {EngagementId(i): e for i, e in found.items()},
            {ContractId(i): x for i, x in contracts.items()},
        )

    def rate_card(self, rate_card_id: RateCardId) -> RateCard | None:
        return self._uow.rate_cards.read_many([rate_card_id]).get(rate_card_id)

    def period_lock(self, first: date, last: date) -> PeriodLock:
        return PeriodLock.of(self._uow.periods.overlapping(first, last))
