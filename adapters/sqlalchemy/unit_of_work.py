"""The unit of work on SQLAlchemy Core: one connection, one transaction, rolled back unless
committed.

The storage hooks of `application.unit_of_work_base.AbstractUnitOfWork`: flushing writes
changed aggregates back (optimistic concurrency on the domain-owned `revision`); the base then
writes the events to the outbox; the commit chains the audit records onto the current tail last
(the chain's lock is held for as short a time as can be) and makes all of it one database
transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.outbound.event_payloads import outbox_payload
from adapters.sqlalchemy.audit_log import SqlAlchemyAuditLog
from adapters.sqlalchemy.billing_marks import SqlAlchemyBillingMarks
from adapters.sqlalchemy.billing_reads import SqlAlchemyBillingReads
from adapters.sqlalchemy.delivery_records import SqlAlchemyDeliveryRecords
from adapters.sqlalchemy.delivery_store import SqlAlchemyDelivery
from adapters.sqlalchemy.inbox import SqlAlchemyInbox
from adapters.sqlalchemy.intercompany import SqlAlchemyIntercompany
from adapters.sqlalchemy.kept_references import KeptReferences, ReferenceCache
from adapters.sqlalchemy.natural_keys import SqlAlchemyNaturalKeys
from adapters.sqlalchemy.operations import SqlAlchemyBillingRuns, SqlAlchemyOperations
from adapters.sqlalchemy.records import (
    SqlAlchemyIdempotency,
    SqlAlchemyOutbox,
    SqlAlchemySequences,
)
from adapters.sqlalchemy.repositories import Session, new_repositories
from adapters.sqlalchemy.stores import (
    SqlAlchemyJournal,
    SqlAlchemyLedger,
    SqlAlchemyMasterData,
)
from application.context import RequestContext
from application.errors import ConflictError
from application.reference_reads import ReferenceReads, RepositoryReferences
from application.unit_of_work import AuditLog
from application.unit_of_work_base import AbstractUnitOfWork
from domain.accounting_period import AccountingPeriod
from domain.contract import Contract
from domain.engagement import Engagement
from domain.ratecard import RateCard

#: Execution option: this connection only reads (SQLite opens a deferred transaction).
READ_ONLY = "throughline_read_only"

#: The aggregates `KeptReferences` keeps: a unit of work holding one of them reads them anew.
_KEPT_KINDS = (Engagement, Contract, RateCard, AccountingPeriod)

#: PostgreSQL SQLSTATEs that mean "another transaction got there first".
_CONCURRENCY_STATES = {"40001", "40P01", "23505"}


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


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """The application's `UnitOfWork` port on one database connection: the storage hooks of
    `AbstractUnitOfWork`."""

    def __init__(
        self,
        engine: Engine,
        ctx: RequestContext,
        now: Callable[[], datetime],
        *,
        read_only: bool = False,
        write_lock: WriteLock | None = None,
        references: ReferenceCache | None = None,
    ) -> None:
        super().__init__(ctx, now, outbox_payload, read_only=read_only)
        self._engine = engine
        #: Engagements, contracts, rate cards and period locks kept across units of work (ADR
        #: 0070).
        self._kept = references
        self._flushed = False
        self._connection: Connection | None = None
        # Read-only units of work never take it (SQLite readers do not wait for writers).
        self._write_lock = None if read_only else write_lock
        self._holding = False

    def _begin(self) -> None:
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
        self.billing_marks = SqlAlchemyBillingMarks(session)
        self.billing_reads = SqlAlchemyBillingReads(session)
        self.delivery_records = SqlAlchemyDeliveryRecords(session)
        self._flushed = False
        self._references: ReferenceReads = RepositoryReferences(self)
        if self._kept is not None:
            self._references = KeptReferences(session, self._kept, self._may_keep, self._references)
        try:
            connection.begin()
        except BaseException:
            self._connection = None
            connection.close()
            self._release()
            raise

    def _end(self) -> None:
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
        try:
            super().commit()
        except sa.exc.DBAPIError as error:
            if _is_concurrency_failure(error):
                raise _conflict() from error
            raise

    def finish(self, answer: tuple[int, str] | None) -> None:
        try:
            super().finish(answer)
        except sa.exc.DBAPIError as error:
            if _is_concurrency_failure(error):
                raise _conflict() from error
            raise

    def _audit_at_commit(self) -> AuditLog:
        return self._audit.at_commit()

    def _seen(self) -> list[object]:
        return self._session.seen

    @property
    def references(self) -> ReferenceReads:
        return self._references

    def _may_keep(self) -> bool:
        """Rows read now are committed ones: this transaction wrote no aggregate yet and holds
        none of the kinds kept (whose changes it could write)."""
        return not self._flushed and not any(
            isinstance(item, _KEPT_KINDS) for item in self._session.seen
        )

    def _flush(self) -> None:
        self._flushed = True
        for repository in self._repositories:
            repository.flush()

    def _append_audit(self) -> None:
        self._audit.write_out()

    def _let_go(self) -> None:
        for repository in self._repositories:
            repository.let_go()
        self._session.let_go()

    def _commit(self) -> None:
        # The audit chain goes last: on PostgreSQL its append holds the one lock every writer
        # of audit records takes, until the commit, so nothing else (the outbox rows) runs
        # while it is held; the append and this commit share one round trip (audit_chain.py,
        # ADR 0065). The request's answer left to the commit goes with the chain's lock (ADR
        # 0068, amendment "fewer statements on PostgreSQL").
        with self._audit.flushed(self.idempotency.answer_at_commit()):
            self.connection.commit()
        self._release()  # the next writer can go; SQLite released its lock with the commit

    def _rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()
            self.idempotency.rolled_back()
        self._release()

    def _release(self) -> None:
        if self._holding and self._write_lock is not None:
            self._holding = False
            self._write_lock.release()


def _conflict() -> ConflictError:
    return ConflictError("another transaction changed the same data first; try again")


def _is_concurrency_failure(error: sa.exc.DBAPIError) -> bool:
    if isinstance(error, sa.exc.IntegrityError):
        return True
    state = getattr(error.orig, "sqlstate", None)
    return state in _CONCURRENCY_STATES
