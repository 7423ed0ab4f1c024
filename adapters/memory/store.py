"""The in-memory 'database': the data a store holds and the repositories over the aggregates,
delivery records, ledger, journal, master data and intercompany books.

The store behaves like a database with snapshot isolation: a unit of work works on a deep
copy of the store and swaps it in on commit, so an exception anywhere rolls everything back.
"""

from __future__ import annotations

import copyreg
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

from application.errors import (
    ConflictError,
    NotFoundError,
)
from application.legal_entities import LegalEntityRecord
from application.natural_keys import RecordedFact
from application.operations import (
    BillingRunRecord,
)
from application.ports import CustomerRecord
from application.records import (
    AuditRecord,
    IdempotencyRecord,
    InboxMessage,
    IntegrationException,
    OutboxEvent,
    PostedEntry,
)
from application.unit_of_work import BilledDocument
from domain.accounting_period import AccountingPeriod
from domain.billing import BilledLedger, LedgerEntry
from domain.cap_reach import RecordedTime
from domain.chart_of_accounts import ChartOfAccounts
from domain.document import billed_by
from domain.employment import EmploymentHistory
from domain.engagement import Engagement
from domain.ids import (
    ContractId,
    CustomerId,
    LegalEntityId,
    ObligationId,
    ResourceId,
    Role,
)
from domain.intercompany import TransferPricing
from domain.invoice import Invoice, InvoiceFigures
from domain.ledger import JournalEntry
from domain.milestone import Milestone, MilestoneState
from domain.money import EXACT
from domain.period import Period
from domain.tax import TaxProfile, TaxRateTable
from domain.time_entry import ExpenseItem, ItemState, TimeEntry

T = TypeVar("T")

# Frozen rate and cap tables are read-only mapping proxies: copy them as fresh proxies.
copyreg.pickle(MappingProxyType, lambda proxy: (MappingProxyType, (dict(proxy),)))


@attrs.define
class _Data:
    """Everything the store holds; deep-copied per unit of work."""

    aggregates: dict[str, dict[str, Any]] = attrs.field(factory=lambda: defaultdict(dict))
    time_entries: dict[str, TimeEntry] = attrs.field(factory=dict)
    expenses: dict[str, ExpenseItem] = attrs.field(factory=dict)
    ledger: dict[ContractId, list[LedgerEntry]] = attrs.field(factory=lambda: defaultdict(list))
    journal: list[JournalEntry] = attrs.field(factory=list)
    postings: dict[str, PostedEntry] = attrs.field(factory=dict)
    charts: dict[str, ChartOfAccounts] = attrs.field(factory=dict)
    tax_profiles: dict[tuple[CustomerId, LegalEntityId], TaxProfile] = attrs.field(factory=dict)
    tax_rates: TaxRateTable = attrs.field(factory=TaxRateTable)
    #: Every pushed version of each customer record (ADR 0035), oldest first.
    customer_records: dict[tuple[CustomerId, LegalEntityId], list[CustomerRecord]] = attrs.field(
        factory=dict
    )
    #: Every version of each legal entity's master data (ADR 0037), oldest first.
    legal_entities: dict[str, list[LegalEntityRecord]] = attrs.field(factory=dict)
    periods: dict[Period, AccountingPeriod] = attrs.field(factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = attrs.field(factory=dict)
    outbox: list[OutboxEvent] = attrs.field(factory=list)
    exceptions: dict[str, IntegrationException] = attrs.field(factory=dict)
    audit: list[AuditRecord] = attrs.field(factory=list)
    sequences: dict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    inbox: dict[tuple[str, str], InboxMessage] = attrs.field(factory=dict)
    billing_runs: list[BillingRunRecord] = attrs.field(factory=list)
    natural_keys: dict[tuple[str, str, str], RecordedFact] = attrs.field(factory=dict)
    employments: dict[ResourceId, EmploymentHistory] = attrs.field(factory=dict)
    transfer_pricing: TransferPricing = attrs.field(factory=TransferPricing)
    #: What committed billing runs left settled: (period key, stamp) per obligation (ADR 0048).
    billing_marks: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    #: Every revision of each record of a declared delivery kind, by (kind, record id), the
    #: current one last: (record, revision, reported at) (ADR 0050).
    delivery_records: dict[tuple[str, str], list[Any]] = attrs.field(factory=dict)


class InMemoryStore:
    """The shared state behind every in-memory unit of work (one 'database')."""

    def __init__(self) -> None:
        self.data = _Data()
        self.commits = 0


class _Repository(Generic[T]):
    def __init__(self, data: _Data, kind: str, id_attr: str, seen: list[object]) -> None:
        self._items: dict[str, T] = data.aggregates[kind]
        self._kind, self._id_attr, self._seen = kind, id_attr, seen

    def add(self, item: T) -> None:
        item_id = getattr(item, self._id_attr)
        if item_id in self._items:
            raise ConflictError(f"{self._kind} {item_id} already exists")
        self._items[item_id] = item
        self._seen.append(item)

    def find(self, item_id: str) -> T | None:
        item = self._items.get(item_id)
        if item is not None and item not in self._seen:
            self._seen.append(item)
        return item

    def get(self, item_id: str) -> T:
        item = self.find(item_id)
        if item is None:
            raise NotFoundError(f"{self._kind} {item_id} does not exist")
        return item

    def find_many(self, item_ids: Iterable[str]) -> dict[str, T]:
        found = {i: self.find(i) for i in set(item_ids)}
        return {i: item for i, item in found.items() if item is not None}

    def read_many(self, item_ids: Iterable[str]) -> dict[str, T]:
        """The items themselves (nothing is copied here), not counted as seen."""
        items = self._items
        return {i: items[i] for i in set(item_ids) if i in items}

    def all(self) -> list[T]:
        items = list(self._items.values())
        self._seen.extend(i for i in items if i not in self._seen)
        return items

    def save(self, item: T) -> None:
        """Changes are in place; kept for the repository protocol."""


class _Invoices(_Repository[Invoice]):
    def figures(self) -> list[InvoiceFigures]:
        return [invoice.figures for invoice in self.all()]

    def for_contracts(self, contracts: Iterable[ContractId]) -> list[Invoice]:
        wanted = set(contracts)
        chosen = [x.invoice_id for x in self._items.values() if x.contract_id in wanted]
        return [self.get(invoice_id) for invoice_id in chosen]


class _Engagements(_Repository[Engagement]):
    def for_contracts(self, contracts: Iterable[ContractId]) -> dict[ContractId, Engagement]:
        wanted = set(contracts)
        return {e.contract_id: e for e in self.all() if e.contract_id in wanted}

    def find_by_contract(self, contract_id: ContractId) -> Engagement | None:
        for engagement in self._items.values():
            if engagement.contract_id == contract_id:
                return self.find(engagement.engagement_id)
        return None


class _Milestones(_Repository[Milestone]):
    def for_obligations(self, obligations: Iterable[ObligationId]) -> list[Milestone]:
        wanted = set(obligations)
        return [m for m in self.all() if m.obligation_id in wanted]

    def completed_due(self, today: date) -> list[Milestone]:
        return [
            m
            for m in self.all()
            if m.state is MilestoneState.COMPLETED
            and m.passive_acceptance_due_on is not None
            and m.passive_acceptance_due_on <= today
        ]


class _Delivery:
    def __init__(self, data: _Data, seen: list[object]) -> None:
        self._data, self._seen = data, seen

    def add_time_entries(self, entries: Sequence[TimeEntry]) -> None:
        for entry in entries:
            self._data.time_entries[entry.entry_id] = entry
            self._seen.append(entry)

    def add_expenses(self, items: Sequence[ExpenseItem]) -> None:
        for item in items:
            self._data.expenses[item.expense_id] = item
            self._seen.append(item)

    def time_entry(self, entry_id: str) -> TimeEntry | None:
        return self._data.time_entries.get(entry_id)

    def expense(self, expense_id: str) -> ExpenseItem | None:
        return self._data.expenses.get(expense_id)

    def existing_time_entry_ids(self, entry_ids: Iterable[str]) -> set[str]:
        return {i for i in entry_ids if i in self._data.time_entries}

    def time_entries_with_ids(self, entry_ids: Iterable[str]) -> dict[str, TimeEntry]:
        found = (self._data.time_entries.get(i) for i in set(entry_ids))
        return {e.entry_id: e for e in found if e is not None}

    def expenses_with_ids(self, expense_ids: Iterable[str]) -> dict[str, ExpenseItem]:
        found = (self._data.expenses.get(i) for i in set(expense_ids))
        return {x.expense_id: x for x in found if x is not None}

    def hours_by_person_day(
        self, days: Iterable[tuple[ResourceId, date]]
    ) -> dict[tuple[ResourceId, date], Decimal]:
        wanted = set(days)
        totals: dict[tuple[ResourceId, date], Decimal] = {}
        for e in self._data.time_entries.values():
            key = (e.resource_id, e.work_date)
            if key in wanted and e.state is not ItemState.REJECTED:
                totals[key] = EXACT.add(totals.get(key, Decimal(0)), e.hours)
        return totals

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        wanted = set(obligations)
        return [e for e in self._data.time_entries.values() if e.obligation_id in wanted]

    def recorded_time_by_role_and_day(self, obligation: ObligationId) -> list[RecordedTime]:
        groups: dict[tuple[Role, date, bool], tuple[int, Decimal]] = {}
        for e in self._data.time_entries.values():
            if e.obligation_id == obligation:
                key = (e.role, e.work_date, e.billable)
                count, hours = groups.get(key, (0, Decimal(0)))
                groups[key] = (count + 1, EXACT.add(hours, e.hours))
        return [RecordedTime(*key, count, hours) for key, (count, hours) in groups.items()]

    def time_entries_in(self, period: Period) -> list[TimeEntry]:
        return [e for e in self._data.time_entries.values() if period.contains(e.work_date)]

    def expenses_for(self, obligations: Iterable[ObligationId]) -> list[ExpenseItem]:
        wanted = set(obligations)
        return [x for x in self._data.expenses.values() if x.obligation_id in wanted]

    def save(self, item: TimeEntry | ExpenseItem) -> None:
        if item not in self._seen:
            self._seen.append(item)


class _OverData:
    """A repository over the store's data as one unit of work holds it."""

    def __init__(self, data: _Data) -> None:
        self._data = data


class _Ledger(_OverData):
    def load(self, contracts: Iterable[ContractId]) -> BilledLedger:
        return BilledLedger(tuple(e for c in contracts for e in self._data.ledger.get(c, [])))

    def add(self, contract_id: ContractId, entries: Sequence[LedgerEntry]) -> None:
        self._data.ledger[contract_id].extend(entries)

    def add_all(self, entries: Mapping[ContractId, Sequence[LedgerEntry]]) -> None:
        for contract_id, items in entries.items():
            self.add(contract_id, items)

    def add_billed(self, documents: Mapping[ContractId, Sequence[BilledDocument]]) -> None:
        for contract_id, billed in documents.items():
            for document_id, lines in billed:
                self.add(contract_id, billed_by(document_id, lines))

    def lock(self, contracts: Iterable[ContractId]) -> None:
        """One process, one copy per unit of work: commits are already serialised."""

    def remove_document(self, document_id: str) -> None:
        for contract_id, entries in self._data.ledger.items():
            self._data.ledger[contract_id] = [e for e in entries if e.document_id != document_id]


class _Journal(_OverData):
    def add(self, entry: JournalEntry) -> None:
        self._data.journal.append(entry)

    def all(self) -> list[JournalEntry]:
        return list(self._data.journal)

    def find(self, entry_id: str) -> JournalEntry | None:
        return next((e for e in self._data.journal if e.entry_id == entry_id), None)

    def add_posting(self, posting: PostedEntry) -> None:
        self._data.postings.setdefault(posting.entry_id, posting)

    def acknowledge(self, entry_id: str, erp_document: str, at: datetime) -> None:
        posting = self._data.postings.get(entry_id)
        if posting is not None and posting.erp_document is None:
            self._data.postings[entry_id] = attrs.evolve(
                posting, erp_document=erp_document, acknowledged_at=at
            )

    def postings(self) -> list[PostedEntry]:
        return list(self._data.postings.values())

    def chart(self, legal_entity_id: str) -> ChartOfAccounts | None:
        return self._data.charts.get(legal_entity_id)

    def save_chart(self, chart: ChartOfAccounts) -> None:
        self._data.charts[chart.legal_entity_id] = chart

    def charts(self) -> list[ChartOfAccounts]:
        return [self._data.charts[key] for key in sorted(self._data.charts)]


class _MasterData(_OverData):
    def tax_profile(self, customer_id: str, legal_entity_id: str) -> TaxProfile | None:
        return self._data.tax_profiles.get(
            (CustomerId(customer_id), LegalEntityId(legal_entity_id))
        )

    def save_tax_profile(self, profile: TaxProfile) -> None:
        self._data.tax_profiles[(profile.customer_id, profile.legal_entity_id)] = profile

    def tax_profiles(self) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]:
        return dict(self._data.tax_profiles)

    def tax_profiles_of(
        self, keys: Iterable[tuple[CustomerId, LegalEntityId]]
    ) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]:
        held = self._data.tax_profiles
        return {key: held[key] for key in keys if key in held}

    def customer_record(self, customer_id: str, legal_entity_id: str) -> CustomerRecord | None:
        versions = self._data.customer_records.get(
            (CustomerId(customer_id), LegalEntityId(legal_entity_id)), []
        )
        return versions[-1] if versions else None

    def customer_records(self, customer_id: str) -> list[CustomerRecord]:
        return [
            record
            for (customer, _), versions in sorted(self._data.customer_records.items())
            if customer == customer_id
            for record in versions
        ]

    def current_customer_records(self) -> list[CustomerRecord]:
        return [versions[-1] for _, versions in sorted(self._data.customer_records.items())]

    def add_customer_record(self, record: CustomerRecord) -> None:
        key = (record.customer_id, record.legal_entity_id)
        versions = self._data.customer_records.setdefault(key, [])
        if record.version != len(versions) + 1:
            raise ConflictError(
                f"customer {record.customer_id} at {record.legal_entity_id} is at version "
                f"{len(versions)}; version {record.version} cannot follow it"
            )
        versions.append(record)

    def legal_entity(self, legal_entity_id: str) -> LegalEntityRecord | None:
        versions = self._data.legal_entities.get(legal_entity_id, [])
        return versions[-1] if versions else None

    def legal_entity_versions(self, legal_entity_id: str) -> list[LegalEntityRecord]:
        return list(self._data.legal_entities.get(legal_entity_id, []))

    def legal_entities(self) -> list[LegalEntityRecord]:
        return [versions[-1] for _, versions in sorted(self._data.legal_entities.items())]

    def add_legal_entity(self, record: LegalEntityRecord) -> None:
        versions = self._data.legal_entities.setdefault(record.legal_entity_id, [])
        if record.version != len(versions) + 1:
            raise ConflictError(
                f"legal entity {record.legal_entity_id} is at version {len(versions)}; "
                f"version {record.version} cannot follow it"
            )
        versions.append(record)

    def tax_rates(self) -> TaxRateTable:
        return self._data.tax_rates

    def save_tax_rates(self, rates: TaxRateTable) -> None:
        self._data.tax_rates = rates


class _Intercompany(_OverData):
    """Employment histories and transfer pricing (ADR 0031)."""

    def employment_history(self, resource_id: ResourceId) -> EmploymentHistory | None:
        return self._data.employments.get(resource_id)

    def save_employment_history(self, history: EmploymentHistory) -> None:
        self._data.employments[history.resource_id] = history

    def employment_histories(self) -> dict[ResourceId, EmploymentHistory]:
        return dict(sorted(self._data.employments.items()))

    def transfer_pricing(self) -> TransferPricing:
        return self._data.transfer_pricing

    def save_transfer_pricing(self, pricing: TransferPricing) -> None:
        self._data.transfer_pricing = pricing


class StoreQueries:
    """A query port answered from the in-memory store."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
