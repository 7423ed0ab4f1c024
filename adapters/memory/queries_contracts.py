"""The contract screens' questions over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

from adapters.memory.queries_paging import page_of
from adapters.memory.store import StoreQueries
from application.queries.contracts import (
    ContractFilter,
    ContractSummaryView,
    ContractView,
    contract_key,
)
from application.queries.paging import Page, PageRequest
from domain.contract import Contract
from domain.engagement import Engagement


class InMemoryContractQueries(StoreQueries):
    """`ContractQueries` on the in-memory store."""

    def _engagements(self) -> dict[str, Engagement]:
        engagements: dict[str, Engagement] = self._store.data.aggregates.get("engagement", {})
        return {e.contract_id: e for e in engagements.values()}

    def contracts(self, where: ContractFilter, page: PageRequest) -> Page[ContractSummaryView]:
        contracts: dict[str, Contract] = self._store.data.aggregates.get("contract", {})
        engagements = self._engagements()
        views = [
            ContractSummaryView.of(x, engagements[key].state.value if key in engagements else None)
            for key, x in contracts.items()
            if all(v is None or x.customer_id == v for v in (where.customer_id, where.visible_to))
        ]
        return page_of(views, contract_key, page)

    def contract(self, contract_id: str) -> ContractView | None:
        contract: Contract | None = self._store.data.aggregates.get("contract", {}).get(contract_id)
        if contract is None:
            return None
        engagement = self._engagements().get(contract_id)
        if engagement is None:
            return ContractView(contract, None, None)
        return ContractView(contract, engagement.engagement_id, engagement.state.value)
