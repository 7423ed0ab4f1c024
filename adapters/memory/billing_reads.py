"""The billing run's bulk reads over an in-memory unit of work's copy: the delivery store's
own read of time entries, and the contracts and their outlines as the copy holds them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from application.billing_reads import ContractOutline
from domain.contract import Contract
from domain.engagement import Engagement, EngagementState
from domain.ids import ContractId, ObligationId
from domain.time_entry import TimeEntry

if TYPE_CHECKING:
    from adapters.memory.store import _Data, _Delivery


class InMemoryBillingReads:
    def __init__(self, data: _Data, delivery: _Delivery) -> None:
        self._data, self._delivery = data, delivery

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        return self._delivery.time_entries_for(obligations)

    def outlines(self, contracts: Iterable[ContractId] | None = None) -> list[ContractOutline]:
        states: dict[ContractId, EngagementState] = {}
        engagement: Engagement
        for engagement in self._data.aggregates["engagement"].values():
            states[engagement.contract_id] = engagement.state  # the last, as for_contracts
        chosen = self._chosen(contracts)
        return [
            ContractOutline(
                x.contract_id,
                tuple(x.obligation_ids()),
                states.get(x.contract_id),
                x.customer_id,
                x.legal_entity_id,
                tuple(x.payer_ids()),
            )
            for x in chosen
        ]

    def contracts(self, contracts: Iterable[ContractId]) -> list[Contract]:
        return self._chosen(contracts)

    def _chosen(self, contracts: Iterable[ContractId] | None) -> list[Contract]:
        """Every contract in the order stored, or those of the ids given, in id order."""
        held: dict[str, Contract] = self._data.aggregates["contract"]
        if contracts is None:
            return list(held.values())
        return [held[x] for x in sorted(set(contracts)) if x in held]
