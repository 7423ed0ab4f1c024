"""The audit trail's store: records kept until the commit chains them onto the tail, or
written as a long transaction goes (ADR 0060); the append on PostgreSQL is `audit_chain.py`."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from datetime import timedelta

import sqlalchemy as sa

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.audit_chain import Unread, chained, locked_append, stage
from adapters.sqlalchemy.bulk import insert_many
from adapters.sqlalchemy.driver import DriverStatement
from adapters.sqlalchemy.records import Answer
from adapters.sqlalchemy.repositories import Session
from application.audit import GENESIS
from application.records import AuditRecord
from application.unit_of_work import AuditLog


class SqlAlchemyAuditLog:
    """The hash-chained audit trail. Records are kept until commit, then chained onto the tail
    read inside the write transaction (PostgreSQL: under an advisory lock), so two concurrent
    transactions never fork the chain or collide on a sequence number. A transaction that
    writes as it goes (`write_out`) puts them into the database as it goes: SQLite appends
    them to the chain, PostgreSQL stages them for the commit's append (ADR 0060)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pending: list[AuditRecord] = []
        # The tail as read in one database transaction: (that transaction, the tail).
        self._tail_read: tuple[object, AuditRecord | None] | None = None
        # PostgreSQL: how many records this transaction staged: (that transaction, count).
        self._staged: tuple[object, int] | None = None

    def append(self, record: AuditRecord) -> None:
        self._pending.append(record)

    def last(self) -> AuditRecord | None:
        return self._pending[-1] if self._pending else self._tail()

    def all(self) -> list[AuditRecord]:
        statement = sa.select(t.audit_log).order_by(t.audit_log.c.sequence)
        rows = self._session.connection.execute(statement).mappings()
        return [codec.audit_record(row) for row in rows] + list(self._pending)

    def for_subject(self, subject: str) -> list[AuditRecord]:
        log = t.audit_log
        statement = sa.select(log).where(log.c.subject == subject).order_by(log.c.sequence)
        rows = self._session.connection.execute(statement).mappings()
        stored = [codec.audit_record(row) for row in rows]
        return stored + [record for record in self._pending if record.subject == subject]

    def at_commit(self) -> AuditLog:
        """This log as the commit chains onto it: on PostgreSQL the records are chained again
        under the chain's lock when they are written (`flush`), so the tail is not read before
        (that read would be a round trip whose answer is thrown away); on SQLite the tail read
        now, inside the write transaction, stays the tail."""
        if self._session.dialect == "postgresql":
            return Unread(self, self._pending)
        return self

    def write_out(self) -> None:
        """The pending records into the open transaction, none kept: on SQLite appended to
        the chain; on PostgreSQL staged, so the chain's lock is still taken only at the commit
        (audit_chain.py). Records staged are read back by `all` and `for_subject` once
        committed."""
        if not self._pending:
            return
        if self._session.dialect == "postgresql":
            connection = self._session.connection
            transaction = connection.get_transaction()
            staged = self._staged[1] if self._staged and self._staged[0] is transaction else 0
            self._staged = (transaction, stage(connection, self._pending, staged))
        else:
            self._append_chained()
        self._pending.clear()

    def _tail(self) -> AuditRecord | None:
        """The last record, read once per transaction (only this log appends to the chain,
        and it keeps the tail it read up to date when it does)."""
        connection = self._session.connection
        transaction = connection.get_transaction()
        read = self._tail_read
        if read is not None and transaction is not None and read[0] is transaction:
            return read[1]
        rows = _audit_tail().mappings(connection, {})
        tail = codec.audit_record(rows[0]) if rows else None
        self._tail_read = (transaction, tail)
        return tail

    def _append_chained(self) -> None:
        """SQLite: the pending records inserted, chained onto the tail read earlier in this
        (BEGIN IMMEDIATE) transaction, which is still the tail since no other writer can run.
        They were chained onto it as they were appended (`at_commit` is this log); they are
        hashed again only when their time is not in UTC, as the database gives it back."""
        connection = self._session.connection
        tail = self._tail()
        records = self._pending
        if not _chained_as_stored(tail, records):
            records = chained(tail, records).records
        insert_many(connection, t.audit_log, [codec.audit_row(r) for r in records])
        self._tail_read = (connection.get_transaction(), records[-1])

    @contextlib.contextmanager
    def flushed(self, answer: Answer | None = None) -> Iterator[None]:
        """The pending records written, for a block that commits. On PostgreSQL they are
        numbered and hashed by the INSERT under the chain's lock, with those this
        transaction staged before them (many records are staged first, `STAGED_FROM`), and
        the block's commit goes in the same round trip
        (audit_chain.py); the tail is read again if this transaction asks for it. On SQLite
        they are appended to the chain (`_append_chained`). `answer`, the request's answer
        left to the commit, is written by the chain's lock statement, or on its own first
        when nothing is appended."""
        connection = self._session.connection
        staged = self._staged is not None and self._staged[0] is connection.get_transaction()
        appends = bool(self._pending) or staged
        if answer is not None and not (appends and self._session.dialect == "postgresql"):
            answer.write(connection)
            answer = None
        if not appends:
            yield
        elif self._session.dialect == "postgresql":
            if staged or len(self._pending) >= STAGED_FROM:
                self.write_out()
                staged = True
            with locked_append(connection, self._pending, staged=staged, answer=answer):
                yield
            self._tail_read = self._staged = None
            self._pending.clear()
        else:
            self._append_chained()
            self._pending.clear()
            yield


def _chained_as_stored(tail: AuditRecord | None, records: Sequence[AuditRecord]) -> bool:
    """Whether the records, in order, are chained onto `tail` as `chained` would chain them:
    each numbered and linked after the one before, and its time in UTC (the text hashed is
    the same whatever zone object says so)."""
    previous = tail
    for record in records:
        expected = (previous.sequence + 1, previous.hash) if previous else (1, GENESIS)
        if (record.sequence, record.previous_hash) != expected:
            return False
        if record.at.utcoffset() != _UTC_OFFSET:
            return False
        previous = record
    return True


_UTC_OFFSET = timedelta(0)


#: PostgreSQL: a commit with at least this many records stages them before it takes the
#: chain's lock: the append then reads them through the staged table's index, where the
#: arrays of the one-statement append are walked once per record (measured at commit, lock
#: held: 2,000 records 1.5 s from arrays, 0.07 s staged; 100 records 0.05 s and 0.02 s).
STAGED_FROM = 64


@functools.cache
def _audit_tail() -> DriverStatement:
    return DriverStatement(sa.select(t.audit_log).order_by(t.audit_log.c.sequence.desc()).limit(1))
