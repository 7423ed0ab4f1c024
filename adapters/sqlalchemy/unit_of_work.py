"""The unit of work on SQLAlchemy Core: one connection, one transaction, rolled back unless
committed.

Commit drains the events of every aggregate and delivered item the unit of work saw, writes
changed aggregates back (optimistic concurrency on the domain-owned `revision`), chains the
audit records onto the current tail, writes the events to the outbox with the request's
correlation id, and commits all of it as one database transaction.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.outbound.event_payloads import outbox_payload
from adapters.sqlalchemy import codec
from adapters.sqlalchemy.inbox import SqlAlchemyInbox
from adapters.sqlalchemy.intercompany import SqlAlchemyIntercompany
from adapters.sqlalchemy.natural_keys import SqlAlchemyNaturalKeys
from adapters.sqlalchemy.operations import SqlAlchemyBillingRuns, SqlAlchemyOperations
from adapters.sqlalchemy.records import (
    SqlAlchemyAuditLog,
    SqlAlchemyIdempotency,
    SqlAlchemyOutbox,
    SqlAlchemySequences,
)
from adapters.sqlalchemy.repositories import Session, new_repositories
from adapters.sqlalchemy.stores import (
    SqlAlchemyDelivery,
    SqlAlchemyJournal,
    SqlAlchemyLedger,
    SqlAlchemyMasterData,
)
from application.context import RequestContext
from application.errors import ConflictError
from application.natural_keys import NaturalKeyStore
from application.operations import BillingRunLog, OperationsQueries
from application.records import OutboxEvent
from application.unit_of_work import (
    AuditLog,
    ContractRepository,
    DeliveryStore,
    EngagementRepository,
    ExceptionQueue,
    IdempotencyStore,
    Inbox,
    IntercompanyStore,
    InvoiceRepository,
    JournalStore,
    LedgerStore,
    MasterDataStore,
    MilestoneRepository,
    Outbox,
    PeriodStore,
    RateCardRepository,
    Repository,
    Sequences,
)
from domain.credit_memo import CreditMemo

#: Execution option: this connection only reads (SQLite opens a deferred transaction).
READ_ONLY = "throughline_read_only"

#: PostgreSQL SQLSTATEs that mean "another transaction got there first".
_CONCURRENCY_STATES = {"40001", "40P01", "23505"}


class ReadOnlyUnitOfWorkError(RuntimeError):
    """A read-only unit of work was asked to commit."""


class WriteLock:
    """The turn of one process's threads at SQLite's single writer.

    Without it, threads waiting at `BEGIN IMMEDIATE` wait in SQLite's busy handler, which
    sleeps (up to 100 ms at a time) and retries, so under load a writer can sleep long after
    the one before it finished. Here they block on a lock that wakes the next one as soon as
    the writer before it commits or rolls back. Re-entrant, so a thread opening a unit of
    work inside its own behaves as it did before (SQLite's busy timeout decides); bounded by
    the same timeout, after which the unit of work goes ahead to SQLite's own waiting.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._lock = threading.RLock()
        self._timeout = timeout_seconds

    def acquire(self) -> bool:
        return self._lock.acquire(timeout=self._timeout)

    def release(self) -> None:
        self._lock.release()


class SqlAlchemyUnitOfWork:
    """The application's `UnitOfWork` port on one database connection."""

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
    operations: OperationsQueries
    natural_keys: NaturalKeyStore
    intercompany: IntercompanyStore

    def __init__(
        self,
        engine: Engine,
        ctx: RequestContext,
        now: Callable[[], datetime],
        *,
        read_only: bool = False,
        write_lock: WriteLock | None = None,
    ) -> None:
        self._engine, self._ctx, self._now, self._read_only = engine, ctx, now, read_only
        self._committed_events: list[object] = []
        self._connection: Connection | None = None
        # Read-only units of work never take it (SQLite readers do not wait for writers).
        self._write_lock = None if read_only else write_lock
        self._holding = False

    def __enter__(self) -> Self:
        if self._write_lock is not None:
            self._holding = self._write_lock.acquire()
        try:
            connection = self._engine.connect()
        except BaseException:
            self._release()
            raise
        if self._read_only:
            connection = connection.execution_options(**{READ_ONLY: True})
        self._connection = connection
        self._session = session = Session(connection)
        self._repositories = repositories = new_repositories(session)
        (
            self.contracts,
            self.rate_cards,
            self.engagements,
            self.milestones,
            self.invoices,
            self.credit_memos,
            self.periods,
            self.exceptions,
        ) = repositories
        self.delivery = SqlAlchemyDelivery(session)
        self.ledger = SqlAlchemyLedger(session)
        self.journal = SqlAlchemyJournal(session)
        self.master_data = SqlAlchemyMasterData(session)
        self.idempotency = SqlAlchemyIdempotency(session)
        self.outbox = SqlAlchemyOutbox(session)
        self._audit = SqlAlchemyAuditLog(session)
        self.audit = self._audit
        self.sequences = SqlAlchemySequences(session)
        self.inbox = SqlAlchemyInbox(session)
        self.billing_runs = SqlAlchemyBillingRuns(session)
        self.operations = SqlAlchemyOperations(session)
        self.natural_keys = SqlAlchemyNaturalKeys(session)
        self.intercompany = SqlAlchemyIntercompany(session)
        try:
            connection.begin()
        except BaseException:
            self._connection = None
            connection.close()
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                try:
                    connection.rollback()
                finally:
                    connection.close()
        finally:
            self._release()

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._connection

    def commit(self) -> None:
        if self._read_only:
            raise ReadOnlyUnitOfWorkError("a read-only unit of work cannot commit")
        connection = self.connection
        try:
            drained = self._drain_events()
            for repository in self._repositories:
                repository.flush()
            self._audit.flush()
            now = self._now()
            self.outbox.add([self._outbox_event(a, e, now) for a, e in drained])
            connection.commit()
        except sa.exc.DBAPIError as error:
            if _is_concurrency_failure(error):
                raise ConflictError(
                    "another transaction changed the same data first; try again"
                ) from error
            raise
        self._release()  # the next writer can go; SQLite released its lock with the commit
        self._committed_events.extend(e for _, e in drained)

    def rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()
        self._release()

    def _release(self) -> None:
        if self._holding and self._write_lock is not None:
            self._holding = False
            self._write_lock.release()

    def collect_events(self) -> list[object]:
        return list(self._committed_events)

    def _drain_events(self) -> list[tuple[object, object]]:
        drained: list[tuple[object, object]] = []
        for item in self._session.seen:
            events = getattr(item, "events", None)
            if events:
                drained.extend((item, event) for event in events)
                events.clear()
        return drained

    def _outbox_event(self, aggregate: object, event: object, now: datetime) -> OutboxEvent:
        aggregate_type, aggregate_id = codec.aggregate_identity(aggregate)
        return OutboxEvent(
            str(uuid.uuid4()),
            type(event).__name__,
            aggregate_type,
            aggregate_id,
            outbox_payload(aggregate, event, self._session.seen),
            self._ctx.correlation_id,
            now,
            traceparent=self._ctx.traceparent,
            tracestate=self._ctx.tracestate,
        )


def _is_concurrency_failure(error: sa.exc.DBAPIError) -> bool:
    if isinstance(error, sa.exc.IntegrityError):
        return True
    state = getattr(error.orig, "sqlstate", None)
    return state in _CONCURRENCY_STATES
