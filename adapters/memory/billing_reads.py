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
from domain.time_rows import TimeRow

if TYPE_CHECKING:
    from adapters.memory.store import _Data, _Delivery


class InMemoryBillingReads:
    def __init__(self, data: _Data, delivery: _Delivery) -> None:
        self._data, self._delivery = data, delivery

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        return self._delivery.time_entries_for(obligations)

    def time_rows_for(self, obligations: Iterable[ObligationId]) -> list[TimeRow]:
        return [TimeRow.of(entry) for entry in self._delivery.time_entries_for(obligations)]

    def outlines(self, contracts: Iterable[ContractId] | None = None) -> list[ContractOutline]:
        states: dict[ContractId, EngagementState] = {}
        engagement: Engagement
        for engagement in self._data.aggregates["engagement"].values():
            states[engagement.contract_id] = engagement.state  # the last, as for_contracts
        return [_outline(x, states.get(x.contract_id)) for x in self._chosen(contracts)]

    def outlines_after(self, after: ContractId | None, limit: int) -> list[ContractOutline]:
        held: dict[str, Contract] = self._data.aggregates["contract"]
        page = sorted(x for x in held if after is None or x > after)[:limit]
        return self.outlines([ContractId(x) for x in page])

    def contracts(self, contracts: Iterable[ContractId]) -> list[Contract]:
        return self._chosen(contracts)

    def _chosen(self, contracts: Iterable[ContractId] | None) -> list[Contract]:
        """Every contract in the order stored, or those of the ids given, in id order."""
        held: dict[str, Contract] = self._data.aggregates["contract"]
        if contracts is None:
            return list(held.values())
        return [held[x] for x in sorted(set(contracts)) if x in held]


def _outline(contract: Contract, state: EngagementState | None) -> ContractOutline:
    return ContractOutline(
        contract.contract_id,
        tuple(contract.obligation_ids()),
        state,
        contract.customer_id,
        contract.legal_entity_id,
        tuple(contract.payer_ids()),
    )
