"""The unit of work and the repositories it offers (ports implemented in `adapters/`).

One aggregate change per transaction, except where an ADR says otherwise (issuing a credit
memo changes the memo and its invoice together). The unit of work rolls back unless
committed, and on commit writes the events of every aggregate it saw to the outbox in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self, TypeVar

from application.audit_trail import Change
from application.billing_marks import BillingMarks
from application.billing_reads import BillingReads
from application.delivery_records import DeliveryRecordStore
from application.legal_entities import LegalEntityRecord
from application.natural_keys import NaturalKeyStore
from application.operations import BillingRunLog, OperationsQueries
from application.ports import CustomerRecord
from application.records import (
    AuditRecord,
    DeliveryState,
    IdempotencyRecord,
    InboxMessage,
    IntegrationException,
    OutboxEvent,
    PostedEntry,
)
from application.reference_reads import ReferenceReads
from domain.accounting_period import AccountingPeriod
from domain.billing import BilledLedger, LedgerEntry
from domain.cap_reach import RecordedTime
from domain.chart_of_accounts import ChartOfAccounts
from domain.contract import Contract
from domain.credit_memo import CreditMemo
from domain.document import DocumentLine
from domain.employment import EmploymentHistory
from domain.engagement import Engagement
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId, ResourceId
from domain.intercompany import TransferPricing
from domain.invoice import Invoice, InvoiceFigures
from domain.ledger import JournalEntry
from domain.milestone import Milestone
from domain.period import Period
from domain.ratecard import RateCard
from domain.tax import TaxProfile, TaxRateTable
from domain.time_entry import ExpenseItem, TimeEntry

T = TypeVar("T")


class Repository(Protocol[T]):
    """Aggregates of one kind: add a new one, get one by id (for change), list them."""

    def add(self, item: T) -> None: ...

    def get(self, item_id: str) -> T:
        """The aggregate, or `NotFoundError`."""

    def find(self, item_id: str) -> T | None: ...

    def find_many(self, item_ids: Iterable[str]) -> dict[str, T]:
        """The aggregates of these ids that exist, by id, in one read."""

    def read_many(self, item_ids: Iterable[str]) -> dict[str, T]:
        """`find_many` for reference only (ADR 0058): what the unit of work already holds is
        handed out as held; anything else is read but not held, and a change to it is never
        written."""

    def all(self) -> list[T]: ...


class EngagementRepository(Repository[Engagement], Protocol):
    def find_by_contract(self, contract_id: ContractId) -> Engagement | None: ...

    def for_contracts(self, contracts: Iterable[ContractId]) -> dict[ContractId, Engagement]:
        """The engagement of each contract that has one, in one read."""


class MilestoneRepository(Repository[Milestone], Protocol):
    def for_obligations(self, obligations: Iterable[ObligationId]) -> list[Milestone]: ...

    def completed_due(self, today: date) -> list[Milestone]:
        """Completed milestones whose passive-acceptance window has passed by `today`."""

    def save(self, milestone: Milestone) -> None: ...


class InvoiceRepository(Repository[Invoice], Protocol):
    def figures(self) -> list[InvoiceFigures]:
        """The figures of every invoice `all()` would give, without reading their lines."""

    def for_contracts(self, contracts: Iterable[ContractId]) -> list[Invoice]:
        """The invoices, credit and debit memos of these contracts, as `all()` gives them."""


class ContractRepository(Repository[Contract], Protocol):
    def all(self) -> list[Contract]: ...


class RateCardRepository(Repository[RateCard], Protocol):
    def all(self) -> list[RateCard]: ...


class DeliveryStore(Protocol):
    """Time entries and expenses, which arrive in bulk: set-based adds and reads."""

    def add_time_entries(self, entries: Sequence[TimeEntry]) -> None: ...

    def add_expenses(self, items: Sequence[ExpenseItem]) -> None: ...

    def time_entry(self, entry_id: str) -> TimeEntry | None: ...

    def expense(self, expense_id: str) -> ExpenseItem | None: ...

    def existing_time_entry_ids(self, entry_ids: Iterable[str]) -> set[str]: ...

    def time_entries_with_ids(self, entry_ids: Iterable[str]) -> dict[str, TimeEntry]:
        """The recorded entries among these ids, by id (read by key, set-wise)."""

    def expenses_with_ids(self, expense_ids: Iterable[str]) -> dict[str, ExpenseItem]:
        """The recorded expenses among these ids, by id (read by key, set-wise)."""

    def hours_by_person_day(
        self, days: Iterable[tuple[ResourceId, date]]
    ) -> dict[tuple[ResourceId, date], Decimal]:
        """Hours recorded (rejected entries aside) on each of these person-days, across every
        obligation; a person-day with none is absent. Reads only those days, by index."""

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]: ...

    def recorded_time_by_role_and_day(self, obligation: ObligationId) -> list[RecordedTime]:
        """The obligation's entries (every state) summed by role, work date and billable: how
        many and their hours, exactly. Admission asks it once per batch under a blocking cap,
        so its cost follows the groups, not the entries (running totals, ADR 0059)."""

    def time_entries_in(self, period: Period) -> list[TimeEntry]:
        """Entries whose work date falls in the period."""

    def expenses_for(self, obligations: Iterable[ObligationId]) -> list[ExpenseItem]: ...

    def save(self, item: TimeEntry | ExpenseItem) -> None:
        """Persist a changed item (state, held or written-off quantities)."""


#: A document's id and its lines, as the billed ledger records them (`domain.document.billed_by`).
BilledDocument = tuple[str, Sequence[DocumentLine]]


class LedgerStore(Protocol):
    """The billed ledger: allocations of committed documents, net of credits."""

    def load(self, contracts: Iterable[ContractId]) -> BilledLedger: ...

    def add(self, contract_id: ContractId, entries: Sequence[LedgerEntry]) -> None: ...

    def add_all(self, entries: Mapping[ContractId, Sequence[LedgerEntry]]) -> None:
        """Several documents' allocations in one write."""

    def add_billed(self, documents: Mapping[ContractId, Sequence[BilledDocument]]) -> None:
        """What documents' lines billed, per contract, in one write: the entries `billed_by`
        gives of each (document id, lines), in order (ADR 0060)."""

    def lock(self, contracts: Iterable[ContractId]) -> None:
        """Serialise billing of these contracts until the transaction ends, so two
        concurrent runs cannot bill the same source twice."""

    def remove_document(self, document_id: str) -> None:
        """A discarded draft releases its allocations."""


class JournalStore(Protocol):
    def add(self, entry: JournalEntry) -> None: ...

    def all(self) -> list[JournalEntry]: ...

    def find(self, entry_id: str) -> JournalEntry | None:
        """The posted entry with this id, if any (ADR 0034)."""

    def add_posting(self, posting: PostedEntry) -> None:
        """Keep the entry as mapped for the ERP, beside the entry (ADR 0034)."""

    def acknowledge(self, entry_id: str, erp_document: str, at: datetime) -> None:
        """Record the ERP's document number for a posted entry; the first answer stays."""

    def postings(self) -> list[PostedEntry]:
        """Every entry handed to the ERP, in posting order, with its acknowledgement."""

    def chart(self, legal_entity_id: str) -> ChartOfAccounts | None:
        """The chart of accounts finance set for a legal entity over the API (ADR 0033)."""

    def save_chart(self, chart: ChartOfAccounts) -> None:
        """Set or replace one legal entity's chart of accounts."""

    def charts(self) -> list[ChartOfAccounts]:
        """Every chart finance set, by legal entity."""


class MasterDataStore(Protocol):
    """Tax profiles and rates as last received from the ERP."""

    def tax_profile(self, customer_id: str, legal_entity_id: str) -> TaxProfile | None: ...

    def save_tax_profile(self, profile: TaxProfile) -> None: ...

    def tax_profiles(self) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]: ...

    def tax_profiles_of(
        self, keys: Iterable[tuple[CustomerId, LegalEntityId]]
    ) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]:
        """The profiles of these (customer, legal entity) pairs that exist: what a billing
        run's chunk reads for its payers (ADR 0060), not every customer's."""

    def tax_rates(self) -> TaxRateTable: ...

    def save_tax_rates(self, rates: TaxRateTable) -> None: ...

    def customer_record(self, customer_id: str, legal_entity_id: str) -> CustomerRecord | None:
        """The current (highest) version of the pushed customer record (ADR 0035)."""

    def customer_records(self, customer_id: str) -> list[CustomerRecord]:
        """Every version pushed for the customer, by legal entity and version."""

    def current_customer_records(self) -> list[CustomerRecord]:
        """The current version of every pushed record."""

    def add_customer_record(self, record: CustomerRecord) -> None:
        """Keep a new version; the versions before it stay as they were."""

    def legal_entity(self, legal_entity_id: str) -> LegalEntityRecord | None:
        """The current (highest) version of one of our legal entities' master data (ADR 0037)."""

    def legal_entity_versions(self, legal_entity_id: str) -> list[LegalEntityRecord]:
        """Every version kept for the legal entity, oldest first."""

    def legal_entities(self) -> list[LegalEntityRecord]:
        """The current version of every legal entity, by id."""

    def add_legal_entity(self, record: LegalEntityRecord) -> None:
        """Keep a new version of a legal entity; the versions before it stay as they were."""


class IntercompanyStore(Protocol):
    """Resources' employment histories and the transfer pricing between legal entities
    (ADR 0031)."""

    def employment_history(self, resource_id: ResourceId) -> EmploymentHistory | None: ...

    def save_employment_history(self, history: EmploymentHistory) -> None:
        """Replace the resource's whole history."""

    def employment_histories(self) -> dict[ResourceId, EmploymentHistory]: ...

    def transfer_pricing(self) -> TransferPricing:
        """The policies in force (none and no default until some are set)."""

    def save_transfer_pricing(self, pricing: TransferPricing) -> None:
        """Replace every policy and the default."""


class IdempotencyStore(Protocol):
    def find(self, principal: str, key: str) -> IdempotencyRecord | None: ...

    def save(self, record: IdempotencyRecord) -> None: ...

    def add_new(self, record: IdempotencyRecord) -> bool:
        """Store the record if its key is not stored yet, without reading it first; whether
        it was stored."""

    def complete(self, principal: str, key: str, status: int, body: str) -> None:
        """Mark the claimed key completed with the response, without reading it first;
        `RequestInProgressError` when there is no such key."""

    def delete(self, principal: str, key: str) -> None: ...

    def purge_before(self, cutoff: datetime) -> int: ...


class Outbox(Protocol):
    """Events waiting to be told, in commit order, and their delivery state (ADR 0016).

    Per-aggregate ordering: an event can be claimed only when no earlier event (lower
    sequence) of the same aggregate type and id is undelivered (pending, in flight, failed
    or dead). A dead event therefore holds back every later event of its aggregate until
    someone replays it; other aggregates are not held back.
    """

    def add(self, events: Sequence[OutboxEvent]) -> None: ...

    def pending(self, limit: int) -> list[OutboxEvent]: ...

    def claim(
        self, worker: str, now: datetime, limit: int, aggregate_type: str | None = None
    ) -> list[OutboxEvent]:
        """Up to `limit` due events (pending, or failed with their next attempt at or before
        `now`) that head their aggregate, in commit order, moved to in flight for `worker`;
        only those of `aggregate_type` when one is named. Two workers never claim the same
        event."""

    def mark_delivered(self, worker: str, event_ids: Sequence[str]) -> int:
        """The events `worker` still holds are delivered (one statement); how many were."""

    def mark_failed(
        self, worker: str, event_id: str, error: str, now: datetime
    ) -> OutboxEvent | None:
        """The delivery `worker` still holds failed: the next attempt per `RETRY_SCHEDULE`,
        or dead; the event as it now is, or None when the claim was reaped meanwhile."""

    def reap(self, stale_before: datetime) -> int:
        """Events in flight since before the cutoff go back to pending; how many did."""

    def release(self, worker: str, event_ids: Sequence[str]) -> int:
        """Events `worker` still holds go back to pending at once (a stopping relay hands
        back what it did not publish, so no claim waits for the reaper); how many did."""

    def get(self, event_id: str) -> OutboxEvent:
        """The event, or `NotFoundError`."""

    def in_state(self, state: DeliveryState, limit: int) -> list[OutboxEvent]:
        """Events in one delivery state, in commit order (the dead-letter list)."""

    def save(self, event: OutboxEvent) -> None:
        """Write back the delivery state of an event read with `get` in this unit of work;
        `ConflictError` when its state changed since."""


class ExceptionQueue(Protocol):
    def add(self, item: IntegrationException) -> None: ...

    def get(self, exception_id: str) -> IntegrationException: ...

    def open_for(self, subject: str) -> list[IntegrationException]: ...

    def all(self) -> list[IntegrationException]: ...

    def save(self, item: IntegrationException) -> None: ...


class Inbox(Protocol):
    """Inbound messages as received, keyed by (source, message id)."""

    def find(self, source: str, message_id: str) -> InboxMessage | None: ...

    def add(self, message: InboxMessage) -> None:
        """Store a new message; `ConflictError` when one with its key is already stored
        (a concurrent delivery of the same message got there first)."""

    def save(self, message: InboxMessage) -> None:
        """Write back a message read with `find` in this unit of work; `ConflictError` when
        someone else changed it since."""

    def received_before(self, cutoff: datetime, limit: int) -> list[InboxMessage]:
        """Messages still `received` (never finished, e.g. after a crash) that arrived
        before the cutoff, oldest first."""


class AuditLog(Protocol):
    def append(self, record: AuditRecord) -> None: ...

    def last(self) -> AuditRecord | None: ...

    def all(self) -> list[AuditRecord]: ...

    def for_subject(self, subject: str) -> list[AuditRecord]:
        """The records of one subject, oldest first (read by the indexed subject)."""
        ...


class PeriodStore(Protocol):
    def get(self, period: Period) -> AccountingPeriod | None: ...

    def hold_for_posting(self) -> None:
        """Until the transaction ends, no period is closed or reopened: taken before reading
        the periods to post a dated entry, so a close cannot commit between that read and the
        posting (PostgreSQL: a shared advisory lock; SQLite's writers already take turns)."""

    def hold_for_closing(self) -> None:
        """Wait for every transaction holding the periods for posting, and keep new ones
        waiting until this one ends: taken first by closing and reopening."""

    def add(self, period: AccountingPeriod) -> None: ...

    def all(self) -> list[AccountingPeriod]: ...

    def overlapping(self, first: date, last: date) -> list[AccountingPeriod]:
        """The periods containing at least one day from `first` to `last`."""


class Sequences(Protocol):
    """Gap-free document numbers per series (invoices, credit memos)."""

    def next_number(self, series: str, on: date) -> str: ...


class UnitOfWork(Protocol):
    contracts: ContractRepository
    rate_cards: RateCardRepository
    engagements: EngagementRepository
    milestones: MilestoneRepository
    invoices: InvoiceRepository
    credit_memos: Repository[CreditMemo]
    delivery: DeliveryStore
    ledger: LedgerStore
    journal: JournalStore
    master_data: MasterDataStore
    periods: PeriodStore
    idempotency: IdempotencyStore
    outbox: Outbox
    exceptions: ExceptionQueue
    audit: AuditLog
    sequences: Sequences
    inbox: Inbox
    billing_runs: BillingRunLog
    #: Aggregate reads for monitoring (ADR 0022).
    operations: OperationsQueries
    #: Facts numbered by their source system, each recorded once (ADR 0024).
    natural_keys: NaturalKeyStore
    #: Employment histories and transfer pricing (ADR 0031).
    intercompany: IntercompanyStore
    #: What committed billing runs left settled (ADR 0048).
    billing_marks: BillingMarks
    #: What a billing run reads in bulk, untracked (ADR 0054).
    billing_reads: BillingReads
    #: Records of the delivery kinds billing models declare (ADR 0050).
    delivery_records: DeliveryRecordStore

    @property
    def references(self) -> ReferenceReads:
        """Engagements, contracts and rate cards read for reference (admission, ADR 0070)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def write_out(self) -> None:
        """Write what the aggregates added or changed so far into the open transaction, their
        events as audit and outbox records, the changes stated with `record` as audit records
        after them, and let go of every aggregate handed out: a long command's memory stays
        flat, and the commit still stores all of it or nothing (ADR 0060). An aggregate read
        before must be read again to be changed after."""

    def rollback(self) -> None: ...

    def record(self, change: Change) -> None:
        """A change no aggregate records as an event, audited at the next commit or
        `write_out` (ADR 0044, ADR 0060)."""

    def collect_events(self) -> list[object]:
        """Events recorded by the aggregates this unit of work saw, in order, once; those a
        `write_out` wrote are told by their outbox rows only (ADR 0060)."""
