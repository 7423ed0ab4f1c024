"""In-memory adapters: a unit of work over plain dictionaries, and fakes of the external
systems. Used by the unit tests of the application layer and by the embedded demo.

The store behaves like a database with snapshot isolation: a unit of work works on a deep
copy of the store and swaps it in on commit, so an exception anywhere rolls everything back.
"""

from __future__ import annotations

import copy
import copyreg
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import attrs

from adapters.outbound.event_payloads import outbox_payload
from application.context import RequestContext
from application.errors import (
    ConflictError,
    DownstreamUnavailableError,
    NotFoundError,
    RequestInProgressError,
)
from application.legal_entities import LegalEntityRecord
from application.natural_keys import RecordedFact
from application.operations import (
    OPEN_EXCEPTION_STATES,
    UNDELIVERED_STATES,
    WAITING_STATES,
    BillingRunRecord,
    OutboxCount,
)
from application.ports import CustomerRecord
from application.records import (
    AuditRecord,
    DeliveryState,
    ExceptionKind,
    ExceptionState,
    IdempotencyRecord,
    IdempotencyStatus,
    InboxMessage,
    InboxState,
    IntegrationException,
    OutboxEvent,
    PostedEntry,
)
from application.unit_of_work_base import AbstractUnitOfWork
from domain.accounting_period import AccountingPeriod
from domain.billing import BilledLedger, LedgerEntry
from domain.cap_reach import RecordedTime
from domain.chart_of_accounts import ChartOfAccounts
from domain.contract import Contract
from domain.employment import EmploymentHistory
from domain.engagement import Engagement
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    LegalEntityId,
    ObligationId,
    ResourceId,
    Role,
)
from domain.intercompany import TransferPricing
from domain.invoice import Invoice, InvoiceFigures
from domain.ledger import JournalEntry
from domain.milestone import Milestone, MilestoneState
from domain.money import EXACT, Money
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

    def all(self) -> list[T]:
        items = list(self._items.values())
        self._seen.extend(i for i in items if i not in self._seen)
        return items

    def save(self, item: T) -> None:
        """Changes are in place; kept for the repository protocol."""


class _Invoices(_Repository[Invoice]):
    def figures(self) -> list[InvoiceFigures]:
        return [invoice.figures for invoice in self.all()]


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


class _Ledger:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def load(self, contracts: Iterable[ContractId]) -> BilledLedger:
        return BilledLedger(tuple(e for c in contracts for e in self._data.ledger.get(c, [])))

    def add(self, contract_id: ContractId, entries: Sequence[LedgerEntry]) -> None:
        self._data.ledger[contract_id].extend(entries)

    def add_all(self, entries: Mapping[ContractId, Sequence[LedgerEntry]]) -> None:
        for contract_id, items in entries.items():
            self.add(contract_id, items)

    def lock(self, contracts: Iterable[ContractId]) -> None:
        """One process, one copy per unit of work: commits are already serialised."""

    def remove_document(self, document_id: str) -> None:
        for contract_id, entries in self._data.ledger.items():
            self._data.ledger[contract_id] = [e for e in entries if e.document_id != document_id]


class _Journal:
    def __init__(self, data: _Data) -> None:
        self._data = data

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


class _MasterData:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def tax_profile(self, customer_id: str, legal_entity_id: str) -> TaxProfile | None:
        return self._data.tax_profiles.get(
            (CustomerId(customer_id), LegalEntityId(legal_entity_id))
        )

    def save_tax_profile(self, profile: TaxProfile) -> None:
        self._data.tax_profiles[(profile.customer_id, profile.legal_entity_id)] = profile

    def tax_profiles(self) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]:
        return dict(self._data.tax_profiles)

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


class _Intercompany:
    """Employment histories and transfer pricing (ADR 0031)."""

    def __init__(self, data: _Data) -> None:
        self._data = data

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


class _Periods:
    """Accounting periods; those handed out are seen, so their events reach the outbox."""

    def __init__(self, data: _Data, seen: list[object]) -> None:
        self._data, self._seen = data, seen

    def get(self, period: Period) -> AccountingPeriod | None:
        return self._saw(self._data.periods.get(period))

    def add(self, period: AccountingPeriod) -> None:
        self._data.periods[period.period] = period
        self._saw(period)

    def all(self) -> list[AccountingPeriod]:
        periods = list(self._data.periods.values())
        self._seen.extend(p for p in periods if p not in self._seen)
        return periods

    def overlapping(self, first: date, last: date) -> list[AccountingPeriod]:
        return [p for p in self.all() if p.period.start <= last and p.period.end >= first]

    def _saw(self, period: AccountingPeriod | None) -> AccountingPeriod | None:
        if period is not None and period not in self._seen:
            self._seen.append(period)
        return period


class _Idempotency:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def find(self, principal: str, key: str) -> IdempotencyRecord | None:
        return self._data.idempotency.get((principal, key))

    def save(self, record: IdempotencyRecord) -> None:
        self._data.idempotency[(record.principal, record.key)] = record

    def complete(self, principal: str, key: str, status: int, body: str) -> None:
        record = self._data.idempotency.get((principal, key))
        if record is None:
            raise RequestInProgressError(f"idempotency key {key!r} was never claimed")
        record.status = IdempotencyStatus.COMPLETED
        record.response_status, record.response_body = status, body

    def delete(self, principal: str, key: str) -> None:
        self._data.idempotency.pop((principal, key), None)

    def purge_before(self, cutoff: datetime) -> int:
        old = [k for k, r in self._data.idempotency.items() if r.created_at < cutoff]
        for k in old:
            del self._data.idempotency[k]
        return len(old)


class _Outbox:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def add(self, events: Sequence[OutboxEvent]) -> None:
        self._data.outbox.extend(events)

    def pending(self, limit: int) -> list[OutboxEvent]:
        return [e for e in self._data.outbox if e.state is DeliveryState.PENDING][:limit]

    def claim(
        self, worker: str, now: datetime, limit: int, aggregate_type: str | None = None
    ) -> list[OutboxEvent]:
        held_back: set[tuple[str, str]] = set()
        claimed: list[OutboxEvent] = []
        for event in self._data.outbox:  # commit order
            if len(claimed) >= limit:
                break
            if not event.undelivered:
                continue
            if aggregate_type is not None and event.aggregate_type != aggregate_type:
                continue
            aggregate = (event.aggregate_type, event.aggregate_id)
            if aggregate in held_back:
                continue
            held_back.add(aggregate)  # whatever its state, it holds back the later ones
            if event.due(now):
                event.claimed(worker, now)
                claimed.append(attrs.evolve(event))
        return claimed

    def _held_by(self, worker: str, event_id: str) -> OutboxEvent | None:
        event = self._by_id().get(event_id)
        if event is None or event.state is not DeliveryState.IN_FLIGHT:
            return None
        return event if event.claimed_by == worker else None

    def mark_delivered(self, worker: str, event_ids: Sequence[str]) -> int:
        held = [e for i in event_ids if (e := self._held_by(worker, i)) is not None]
        for event in held:
            event.delivered()
        return len(held)

    def mark_failed(
        self, worker: str, event_id: str, error: str, now: datetime
    ) -> OutboxEvent | None:
        event = self._held_by(worker, event_id)
        if event is None:
            return None
        event.delivery_failed(error, now)
        return attrs.evolve(event)

    def reap(self, stale_before: datetime) -> int:
        stale = [
            e
            for e in self._data.outbox
            if e.state is DeliveryState.IN_FLIGHT
            and e.claimed_at is not None
            and e.claimed_at < stale_before
        ]
        for event in stale:
            event.reaped()
        return len(stale)

    def release(self, worker: str, event_ids: Sequence[str]) -> int:
        held = [e for i in event_ids if (e := self._held_by(worker, i)) is not None]
        for event in held:
            event.reaped()
        return len(held)

    def get(self, event_id: str) -> OutboxEvent:
        event = self._by_id().get(event_id)
        if event is None:
            raise NotFoundError(f"no outbox event {event_id}")
        return attrs.evolve(event)

    def in_state(self, state: DeliveryState, limit: int) -> list[OutboxEvent]:
        return [attrs.evolve(e) for e in self._data.outbox if e.state is state][:limit]

    def save(self, event: OutboxEvent) -> None:
        for index, stored in enumerate(self._data.outbox):
            if stored.event_id == event.event_id:
                self._data.outbox[index] = attrs.evolve(event)
                return
        raise NotFoundError(f"no outbox event {event.event_id}")

    def _by_id(self) -> dict[str, OutboxEvent]:
        return {e.event_id: e for e in self._data.outbox}


class _Exceptions:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def add(self, item: IntegrationException) -> None:
        self._data.exceptions[item.exception_id] = item

    def get(self, exception_id: str) -> IntegrationException:
        try:
            return self._data.exceptions[exception_id]
        except KeyError:
            raise NotFoundError(f"no integration exception {exception_id}") from None

    def open_for(self, subject: str) -> list[IntegrationException]:
        return [
            x
            for x in self._data.exceptions.values()
            if x.subject == subject and x.state is not ExceptionState.RESOLVED
        ]

    def all(self) -> list[IntegrationException]:
        return list(self._data.exceptions.values())

    def save(self, item: IntegrationException) -> None:
        self._data.exceptions[item.exception_id] = item


class _Audit:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def append(self, record: AuditRecord) -> None:
        self._data.audit.append(record)

    def last(self) -> AuditRecord | None:
        return self._data.audit[-1] if self._data.audit else None

    def all(self) -> list[AuditRecord]:
        return list(self._data.audit)


class _Inbox:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def find(self, source: str, message_id: str) -> InboxMessage | None:
        return self._data.inbox.get((source, message_id))

    def add(self, message: InboxMessage) -> None:
        key = (message.source, message.message_id)
        if key in self._data.inbox:
            raise ConflictError(f"{message.subject} is already stored")
        self._data.inbox[key] = message

    def save(self, message: InboxMessage) -> None:
        self._data.inbox[(message.source, message.message_id)] = message

    def received_before(self, cutoff: datetime, limit: int) -> list[InboxMessage]:
        waiting = [
            m
            for m in self._data.inbox.values()
            if m.state is InboxState.RECEIVED and m.received_at < cutoff
        ]
        return sorted(waiting, key=lambda m: (m.received_at, m.source, m.message_id))[:limit]


class _Sequences:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def next_number(self, series: str, on: date) -> str:
        key = f"{series}:{on.year}"
        self._data.sequences[key] += 1
        prefix = {"invoice": "INV", "credit_memo": "CN"}.get(series, series.upper())
        return f"{prefix}-{on.year}-{self._data.sequences[key]:06d}"


class _BillingRuns:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def add(self, record: BillingRunRecord) -> None:
        self._data.billing_runs.append(record)


class _NaturalKeys:
    """Facts by (kind, source, key): the dictionary key is the uniqueness constraint."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def record(self, recorded: RecordedFact) -> RecordedFact | None:
        first = self._data.natural_keys.get(recorded.fact.identity)
        if first is None:
            self._data.natural_keys[recorded.fact.identity] = recorded
        return first

    def find(self, kind: str, source: str, key: str) -> RecordedFact | None:
        return self._data.natural_keys.get((kind, source, key))


class _Operations:
    """The operations queries over the store (what the SQL adapter answers with GROUP BY)."""

    def __init__(self, data: _Data) -> None:
        self._data = data

    def outbox_counts(self) -> list[OutboxCount]:
        counts = Counter(
            (e.aggregate_type, e.event_type, e.state)
            for e in self._data.outbox
            if e.state in UNDELIVERED_STATES
        )
        ordered = sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1], item[0][2].value)
        )
        return [OutboxCount(a, t, state, n) for (a, t, state), n in ordered]

    def oldest_waiting_event_at(self) -> datetime | None:
        waiting = [e.occurred_at for e in self._data.outbox if e.state in WAITING_STATES]
        return min(waiting, default=None)

    def open_exceptions(self) -> dict[ExceptionKind, int]:
        items = self._data.exceptions.values()
        return dict(Counter(x.kind for x in items if x.state in OPEN_EXCEPTION_STATES))

    def idempotency_keys_in_progress(self) -> int:
        records = self._data.idempotency.values()
        return sum(1 for r in records if r.status is IdempotencyStatus.IN_PROGRESS)

    def last_billing_run(self) -> BillingRunRecord | None:
        return self._data.billing_runs[-1] if self._data.billing_runs else None


class InMemoryUnitOfWork(AbstractUnitOfWork):
    """A unit of work over an `InMemoryStore` (snapshot on enter, swap on commit): the storage
    hooks of `AbstractUnitOfWork`."""

    def __init__(
        self,
        store: InMemoryStore,
        ctx: RequestContext,
        clock_now: Callable[[], datetime],
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__(ctx, clock_now, outbox_payload, read_only=read_only)
        self._store = store

    def _begin(self) -> None:
        self._data = copy.deepcopy(self._store.data)
        self._seen_items: list[object] = []
        data, seen = self._data, self._seen_items
        self.contracts = _Repository[Contract](data, "contract", "contract_id", seen)
        self.rate_cards = _Repository[Any](data, "rate_card", "rate_card_id", seen)
        self.engagements = _Engagements(data, "engagement", "engagement_id", seen)
        self.milestones = _Milestones(data, "milestone", "milestone_id", seen)
        self.invoices = _Invoices(data, "invoice", "invoice_id", seen)
        self.credit_memos = _Repository[Any](data, "credit_memo", "credit_memo_id", seen)
        self.delivery = _Delivery(data, seen)
        self.ledger = _Ledger(data)
        self.journal = _Journal(data)
        self.master_data = _MasterData(data)
        self.periods = _Periods(data, seen)
        self.idempotency = _Idempotency(data)
        self.outbox = _Outbox(data)
        self.exceptions = _Exceptions(data)
        self.audit = _Audit(data)
        self.sequences = _Sequences(data)
        self.inbox = _Inbox(data)
        self.billing_runs = _BillingRuns(data)
        self.natural_keys = _NaturalKeys(data)
        self.operations = _Operations(data)
        self.intercompany = _Intercompany(data)

    def _end(self) -> None:
        self.rollback()

    def _seen(self) -> list[object]:
        return self._seen_items

    def _flush(self) -> None:
        """Nothing to write back: the aggregates changed in this unit of work's copy."""

    def _event_ids(self, count: int) -> list[str]:
        """Numbered after the events already in the outbox, so a test can name them."""
        first = len(self._data.outbox) + 1
        return [f"EVT-{n:08d}" for n in range(first, first + count)]

    def _commit(self) -> None:
        self._store.data = self._data
        self._store.commits += 1
        self._data = copy.deepcopy(self._data)

    def _rollback(self) -> None:
        """Nothing to undo: uncommitted changes live only in this unit of work's copy."""


# -- fakes of the external systems --------------------------------------------------------------


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware time")
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current = self.current + timedelta(**delta)


class FakeStopwatch:
    """A stopwatch that moves on by `tick` seconds at every reading, so whatever is timed
    between two readings took exactly `tick` seconds."""

    def __init__(self, tick: float = 0.0) -> None:
        self.tick = tick
        self.current = 0.0

    def seconds(self) -> float:
        reading = self.current
        self.current += self.tick
        return reading


class SequentialIds:
    def __init__(self) -> None:
        self._counters: defaultdict[str, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._counters[prefix]):06d}"


class _Flaky:
    """A downstream system that can be switched off, or fail the next N calls."""

    def __init__(self) -> None:
        self.available = True
        self.failures_left = 0
        self.calls = 0

    def _call(self, what: str) -> None:
        self.calls += 1
        if not self.available or self.failures_left > 0:
            self.failures_left = max(0, self.failures_left - 1)
            raise DownstreamUnavailableError(f"{type(self).__name__}: {what} is unavailable")


class FakeCustomerMaster(_Flaky):
    def __init__(self, records: Iterable[CustomerRecord] = ()) -> None:
        super().__init__()
        self.records = {(r.customer_id, r.legal_entity_id): r for r in records}

    def lookup(
        self, customer_id: CustomerId, legal_entity_id: LegalEntityId
    ) -> CustomerRecord | None:
        self._call("the ERP customer master")
        return self.records.get((customer_id, legal_entity_id))


class FakeProjects(_Flaky):
    """The PSA: one project per idempotency key, however often it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.projects: dict[str, EngagementId] = {}
        self.reports: dict[str, tuple[ContractId, str, dict[str, str]]] = {}

    def provision(self, key: str, engagement_id: EngagementId, contract: Contract) -> str:
        self._call("the PSA")
        self.projects.setdefault(key, engagement_id)
        return f"PRJ-{engagement_id}"

    def report(self, key: str, contract_id: ContractId, kind: str, data: Mapping[str, str]) -> None:
        self._call("the PSA")
        self.reports.setdefault(key, (contract_id, kind, dict(data)))


class FakeHandover(_Flaky):
    def __init__(self) -> None:
        super().__init__()
        self.received: dict[str, str] = {}

    def hand_over(self, key: str, invoice: Invoice) -> str:
        self._call("the billing platform")
        self.received.setdefault(key, invoice.number or invoice.invoice_id)
        return f"ERP-{invoice.number}"


class FakeGeneralLedger(_Flaky):
    def __init__(self) -> None:
        super().__init__()
        self.posted: dict[str, Mapping[str, Any]] = {}

    def post(self, key: str, entry: Mapping[str, Any]) -> str:
        self._call("the general ledger")
        self.posted.setdefault(key, entry)
        return f"GL-{list(self.posted).index(key) + 1:06d}"


class FakeCrm(_Flaky):
    def __init__(self) -> None:
        super().__init__()
        self.updates: dict[str, tuple[CustomerId, str, Mapping[str, str]]] = {}

    def notify(self, key: str, customer_id: CustomerId, kind: str, data: Mapping[str, str]) -> None:
        self._call("the CRM")
        self.updates.setdefault(key, (customer_id, kind, dict(data)))


class FakePsaTimeExport:
    """What the PSA says was approved; tests set `rows` to what the PSA would export."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, date, Decimal]] = []

    def approved_hours(self, period: Period) -> list[tuple[str, Decimal]]:
        return [(entry_id, hours) for entry_id, day, hours in self.rows if period.contains(day)]


class FakeErpReceivables:
    """What the ERP says it posted; tests set `rows`."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, date, Money]] = []

    def posted_invoices(self, period: Period) -> list[tuple[str, Money]]:
        return [(number, gross) for number, day, gross in self.rows if period.contains(day)]


class FakeEventPublisher(_Flaky):
    """Subscribers of outbound events: every delivery in order (repeats kept, since delivery is
    at least once), and the aggregates whose events it refuses for now."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[OutboxEvent] = []
        self.refusing: set[str] = set()

    def publish(self, event: OutboxEvent) -> None:
        self._call("the webhook subscriber")
        if event.aggregate_id in self.refusing:
            raise DownstreamUnavailableError(f"the subscriber refused {event.aggregate_id}")
        self.received.append(event)

    @property
    def ids(self) -> list[str]:
        return [e.event_id for e in self.received]
