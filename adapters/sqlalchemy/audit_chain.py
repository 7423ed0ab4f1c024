"""Appending to the audit chain on PostgreSQL in as few round trips as its lock allows.

Every write transaction that audits something chains its records onto the current tail under
one transaction-scoped advisory lock (one per schema), held until it commits: the
chain's guarantee (one sequence, each record hashing the one before, never forked) is that
lock. Whatever happens between taking it and committing is time every other writer, in every
worker, waits. Through SQLAlchemy that was four round trips after the lock was granted (read
the tail; `COPY` the records, which takes two; commit), each ending with the worker's thread
waiting for the interpreter again, behind the other threads of its process.

Here psycopg's pipeline mode sends statements together and the server runs them in order,
each with its own snapshot (READ COMMITTED), so nothing about the guarantee changes:

1. the lock and the tail read go in one round trip; the tail is read by a statement that
   starts after the lock is granted, so it sees every chain append committed before;
2. the records, chained onto that tail in Python, are inserted in one more round trip (one
   pipelined INSERT each: for the few records of a commit, cheaper than `COPY`'s two turns);
3. the unit of work commits, through SQLAlchemy as every commit does.

After the grant the lock is now held for the tail's reply, the hashing, the INSERT's turn
and the commit's turn, where it was the lock's reply, the tail's turn, two `COPY` turns and
the commit's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from application.audit import record_transition
from application.records import AuditRecord

#: The columns of `audit_log`, in the order of `AuditRecord`'s fields.
_COLUMNS = (
    "sequence", "at", "actor", "correlation_id", "subject", "action", "before", "after",
    "reason", "previous_hash", "hash",
)  # fmt: skip
#: One lock per schema, so two databases in one PostgreSQL cluster do not wait for each other.
_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log'))"
_TAIL = f"SELECT {', '.join(_COLUMNS)} FROM audit_log ORDER BY sequence DESC LIMIT 1"
_INSERT = (
    f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


class _Chain:
    """An audit log of one tail, for chaining records with `record_transition`."""

    def __init__(self, tail: AuditRecord | None) -> None:
        self.records: list[AuditRecord] = []
        self._tail = tail

    def last(self) -> AuditRecord | None:
        return self.records[-1] if self.records else self._tail

    def append(self, record: AuditRecord) -> None:
        self.records.append(record)

    def all(self) -> list[AuditRecord]:
        return list(self.records)


def chained(tail: AuditRecord | None, pending: Sequence[AuditRecord]) -> _Chain:
    """The pending records chained anew onto `tail` (both databases)."""
    chain = _Chain(tail)
    for record in pending:
        record_transition(
            chain,
            at=record.at.astimezone(UTC),  # as the database gives it back
            actor=record.actor,
            correlation_id=record.correlation_id,
            subject=record.subject,
            action=record.action,
            before=record.before,
            after=record.after,
            reason=record.reason,
        )
    return chain


def _driver(connection: Connection) -> psycopg.Connection[Any]:
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection), "the PostgreSQL driver is psycopg 3"
    return driver


def locked_tail(connection: Connection) -> AuditRecord | None:
    """Take the chain's lock and read the tail, in one round trip."""
    driver = _driver(connection)
    try:
        with driver.pipeline():
            driver.execute(_LOCK)
            cursor = driver.execute(_TAIL)
        row = cursor.fetchone()
    except psycopg.Error as error:
        raise _wrapped(_TAIL, error) from error
    if row is None:
        return None
    sequence, at, *rest = row
    return AuditRecord(sequence, at.astimezone(UTC), *rest)


def append(connection: Connection, records: Sequence[AuditRecord]) -> None:
    """Insert the chained records in one round trip (one INSERT each, pipelined)."""
    driver = _driver(connection)
    rows = [tuple(getattr(record, name) for name in _COLUMNS) for record in records]
    try:
        with driver.pipeline(), driver.cursor() as cursor:
            cursor.executemany(_INSERT, rows)
    except psycopg.Error as error:
        raise _wrapped(_INSERT, error) from error


def _wrapped(statement: str, error: psycopg.Error) -> sa.exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it, so the unit of work reads its SQLSTATE
    (a deadlock or a serialisation failure is a conflict) as it reads any other."""
    wrapped = sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error)
    assert isinstance(wrapped, sa.exc.DBAPIError)
    return wrapped
