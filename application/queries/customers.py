"""Customers as the finance screens show them: what the books know of each (contracts,
engagements, tax profiles, the customer records the ERP pushed) and whether its master data is
complete, by the very check setup makes (`application.customer_master.setup_gaps`).

A customer is known from its contracts, its engagements, its tax profiles and its pushed
records. A store answers the facts (`CustomerFacts`) for a keyset page of known customers;
`CustomerReadModel` completes them into the screen's view, asking the ERP's customer master for
the record of a legal entity nobody pushed one for (as setup does), and is the query port the
routes call. A client viewer sees its own customer only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from application.customer_master import setup_gaps
from application.errors import DownstreamUnavailableError
from application.ports import CustomerMaster, CustomerRecord
from application.queries.paging import Page, PageRequest
from application.queries.viewer import Viewer
from domain.ids import CustomerId, LegalEntityId
from domain.tax import TaxProfile, TaxRateTable

#: What setup reports when the ERP master cannot be asked.
MASTER_UNAVAILABLE = "customer (the ERP master did not answer)"


@attrs.frozen
class CustomerContract:
    contract_id: str
    legal_entity_id: str
    currency: str


@attrs.frozen
class CustomerEngagement:
    engagement_id: str
    contract_id: str
    state: str


@attrs.frozen
class MasterDataException:
    """An open master-data exception blocking one of the customer's engagements."""

    exception_id: str
    subject: str
    reason_code: str
    detail: str
    state: str
    raised_at: datetime


@attrs.frozen
class CustomerFacts:
    """What the store holds of one customer, each part sorted by its id."""

    customer_id: str
    contracts: tuple[CustomerContract, ...] = ()
    engagements: tuple[CustomerEngagement, ...] = ()
    #: Per legal entity.
    profiles: dict[str, TaxProfile] = attrs.field(factory=dict)
    #: The current pushed version per legal entity.
    pushed: dict[str, CustomerRecord] = attrs.field(factory=dict)
    #: Open (not resolved) master-data exceptions of its engagements, by id.
    exceptions: tuple[MasterDataException, ...] = ()


@attrs.frozen
class CustomerView:
    """One customer as the screens show it."""

    customer_id: str
    contracts: tuple[CustomerContract, ...]
    engagements: tuple[CustomerEngagement, ...]
    profiles: dict[str, TaxProfile]
    #: The record setup would read, per legal entity the customer is known at.
    records: dict[str, CustomerRecord]
    #: What setup would say is missing, per legal entity the customer contracts with.
    gaps: dict[str, list[str]]
    open_master_data_exceptions: tuple[MasterDataException, ...]

    @property
    def legal_entities(self) -> list[str]:
        """Every legal entity the customer contracts with, has a profile or a record at."""
        known = {c.legal_entity_id for c in self.contracts} | set(self.profiles)
        return sorted(known | set(self.records))

    @property
    def missing(self) -> list[str]:
        """Legal entities whose setup would block: the same check setup makes."""
        return sorted(entity for entity, gaps in self.gaps.items() if gaps)


def customer_view(facts: CustomerFacts, master: CustomerMaster) -> CustomerView:
    """The customer with, per legal entity it contracts with, the record setup reads (the
    pushed one, else the ERP master's answer) and what setup would find missing."""
    records: dict[str, CustomerRecord] = {}
    gaps: dict[str, list[str]] = {}
    for contract in facts.contracts:
        entity = contract.legal_entity_id
        record = facts.pushed.get(entity)
        if record is None:
            try:
                record = master.lookup(CustomerId(facts.customer_id), LegalEntityId(entity))
            except DownstreamUnavailableError:
                gaps.setdefault(entity, []).append(MASTER_UNAVAILABLE)
                continue
        if record is not None:
            records[entity] = record
        for gap in setup_gaps(record, facts.profiles.get(entity), contract.currency):
            if gap not in gaps.setdefault(entity, []):
                gaps[entity].append(gap)
        gaps.setdefault(entity, [])
    return CustomerView(
        facts.customer_id,
        facts.contracts,
        facts.engagements,
        facts.profiles,
        {**facts.pushed, **records},
        gaps,
        facts.exceptions,
    )


class CustomerFactsSource(Protocol):
    """What a store answers about customers (SQL or in-memory)."""

    def known(self, after: str | None, limit: int, only: str | None = None) -> list[str]:
        """Up to `limit` known customer ids after `after`, sorted (only `only`, if named)."""
        ...

    def facts(self, customer_ids: Sequence[str]) -> list[CustomerFacts]:
        """The facts of each customer named that the books know, in the order named."""
        ...

    def records(self, customer_id: str) -> list[CustomerRecord] | None:
        """Every pushed version of the customer's records, by legal entity then version; None
        when the books do not know the customer."""
        ...

    def tax_rates(self) -> TaxRateTable:
        """The effective-dated tax-rate table."""
        ...


class CustomerQueries(Protocol):
    """The customers' query port."""

    def page(self, incomplete: bool, viewer: Viewer, request: PageRequest) -> Page[CustomerView]:
        """The customers `viewer` may see, by id (only those with incomplete master data when
        `incomplete`), one keyset page."""
        ...

    def customer(self, customer_id: str, viewer: Viewer) -> CustomerView | None:
        """The customer, or None when nothing is known of it or `viewer` may not see it."""
        ...

    def records(self, customer_id: str, viewer: Viewer) -> list[CustomerRecord] | None:
        """Every pushed version of its records; None for an unknown or hidden customer."""
        ...

    def tax_rates(self, tax_code: str | None = None) -> TaxRateTable:
        """The tax-rate table (only the rates of `tax_code`, if named)."""
        ...


def _key(view: CustomerView) -> tuple[str]:
    return (view.customer_id,)


@attrs.frozen
class CustomerReadModel:
    """`CustomerQueries` over a store's facts and the ERP's customer master."""

    source: CustomerFactsSource
    master: CustomerMaster

    def page(self, incomplete: bool, viewer: Viewer, request: PageRequest) -> Page[CustomerView]:
        only = viewer.customer_id if viewer.scoped else None
        if viewer.scoped and only is None:
            return Page(())
        after = None if request.after is None else request.after[0]
        chosen: list[CustomerView] = []
        while len(chosen) <= request.limit:
            batch = self.source.known(after, request.limit + 1, only)
            views = [customer_view(f, self.master) for f in self.source.facts(batch)]
            chosen += [v for v in views if not incomplete or v.missing]
            if len(batch) <= request.limit:
                break
            after = batch[-1]
        return Page.from_rows(chosen[: request.limit + 1], request, _key)

    def customer(self, customer_id: str, viewer: Viewer) -> CustomerView | None:
        if not viewer.sees(customer_id):
            return None
        found = self.source.facts([customer_id])
        return customer_view(found[0], self.master) if found else None

    def records(self, customer_id: str, viewer: Viewer) -> list[CustomerRecord] | None:
        return self.source.records(customer_id) if viewer.sees(customer_id) else None

    def tax_rates(self, tax_code: str | None = None) -> TaxRateTable:
        table = self.source.tax_rates()
        if tax_code is None:
            return table
        return TaxRateTable(tuple(r for r in table.rates if r.tax_code == tax_code))
