"""Customers over the in-memory store: the facts of the committed contracts, engagements,
tax profiles, pushed records and exceptions, for `CustomerReadModel`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.memory.store import InMemoryStore, StoreQueries
from application.ports import CustomerMaster, CustomerRecord
from application.queries.customers import (
    CustomerContract,
    CustomerEngagement,
    CustomerFacts,
    CustomerReadModel,
    MasterDataException,
)
from application.records import ExceptionKind, ExceptionState
from domain.tax import TaxRateTable


def memory_customers(store: InMemoryStore, master: CustomerMaster) -> CustomerReadModel:
    """The customers' query port on the store, asking `master` where nothing was pushed."""
    return CustomerReadModel(MemoryCustomerFacts(store), master)


class MemoryCustomerFacts(StoreQueries):
    """`CustomerFactsSource` on the in-memory store."""

    def _aggregates(self, kind: str) -> list[Any]:
        return list(self._store.data.aggregates.get(kind, {}).values())

    def _known(self) -> set[str]:
        data = self._store.data
        return (
            {c.customer_id for c in self._aggregates("contract")}
            | {e.customer_id for e in self._aggregates("engagement")}
            | {customer for customer, _ in data.tax_profiles}
            | {customer for customer, _ in data.customer_records}
        )

    def known(self, after: str | None, limit: int, only: str | None = None) -> list[str]:
        ids = sorted(c for c in self._known() if (after is None or c > after) and only in (None, c))
        return ids[:limit]

    def facts(self, customer_ids: Sequence[str]) -> list[CustomerFacts]:
        known = self._known()
        return [self._facts(c) for c in dict.fromkeys(customer_ids) if c in known]

    def _facts(self, customer_id: str) -> CustomerFacts:
        data = self._store.data
        contracts = sorted(
            (c for c in self._aggregates("contract") if c.customer_id == customer_id),
            key=lambda c: c.contract_id,
        )
        engagements = sorted(
            (e for e in self._aggregates("engagement") if e.customer_id == customer_id),
            key=lambda e: e.engagement_id,
        )
        subjects = {f"engagement:{e.engagement_id}" for e in engagements}
        exceptions = sorted(
            (
                x
                for x in data.exceptions.values()
                if x.kind is ExceptionKind.MASTER_DATA
                and x.state is not ExceptionState.RESOLVED
                and x.subject in subjects
            ),
            key=lambda x: x.exception_id,
        )
        return CustomerFacts(
            customer_id,
            tuple(
                CustomerContract(c.contract_id, c.legal_entity_id, c.currency.code)
                for c in contracts
            ),
            tuple(
                CustomerEngagement(e.engagement_id, e.contract_id, e.state.value)
                for e in engagements
            ),
            {e: p for (c, e), p in data.tax_profiles.items() if c == customer_id},
            {e: v[-1] for (c, e), v in data.customer_records.items() if c == customer_id and v},
            tuple(
                MasterDataException(
                    x.exception_id, x.subject, x.reason_code, x.detail, x.state.value, x.created_at
                )
                for x in exceptions
            ),
        )

    def records(self, customer_id: str) -> list[CustomerRecord] | None:
        if customer_id not in self._known():
            return None
        versions = self._store.data.customer_records
        return [
            record
            for (customer, _), history in sorted(versions.items())
            if customer == customer_id
            for record in history
        ]

    def tax_rates(self) -> TaxRateTable:
        return self._store.data.tax_rates
