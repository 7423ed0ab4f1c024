"""Appending to the audit chain on PostgreSQL in one round trip under its lock.

Every write transaction that audits something chains its records onto the current tail under
one transaction-scoped advisory lock (one per schema), held until it commits: the chain's
guarantee (one sequence, each record hashing the one before, never forked) is that lock.
Whatever happens between taking it and committing is time every other writer, in every
worker, waits.

psycopg's pipeline mode sends two statements together and the server runs them in order, each
with its own snapshot (READ COMMITTED):

1. the lock;
2. one INSERT that reads the tail, numbers the records after it and hashes each onto the one
   before in SQL (`sha256` over the previous hash and the record's canonical JSON, which
   Python prepares up to the sequence number: `application.audit.canonical_parts`). It starts
   after the lock is granted, so it sees every append committed before.

3. the transaction's COMMIT: the unit of work commits through SQLAlchemy, as every commit
   does, while the pipeline is still open, so the driver sends the COMMIT behind the two
   statements and waits for the three replies at once (ADR 0065).

The lock's statement also sets the transaction's `synchronous_commit` off (for this
transaction only): its COMMIT makes it visible and lets the lock go without waiting for the
WAL to reach the disk. Before the unit of work returns, one more statement on the same
connection, in its own transaction committed synchronously (a transactional WAL message),
waits for the flush: the WAL is written in order, so that flush makes the audited commit
durable too, and nobody is answered before it. Those flushes are outside the lock, so the
flushes of concurrent requests are shared (PostgreSQL's group commit), where under the lock
each commit waited for its own, one after another (ADR 0068, amendment "PostgreSQL's share of
a request").

After the grant the lock is held for the INSERT's and the COMMIT's run in the server and
nothing else: no reply has to reach the application, no thread of it has to wait for its
turn at the interpreter, and no disk has to confirm a write, before the lock is let go.
(Before ADR 0065 it was held for one more turn: the reply's trip to the application and the
COMMIT's trip back; before ADR 0053 also for the tail's reply, the hashing in Python and one
more turn for the INSERTs.) The hashes are the ones `application.audit` computes, so
`verify_chain` checks the chain as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Any

import attrs
import psycopg
import sqlalchemy as sa
from psycopg import pq
from sqlalchemy.engine import Connection

from application.audit import canonical_parts, record_transition
from application.records import AuditRecord
from application.unit_of_work import AuditLog

if TYPE_CHECKING:
    from adapters.sqlalchemy.records import Answer


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


class Unread:
    """An audit log's pending records, chained provisionally onto no tail: `locked_append`
    numbers and hashes them for real, under the lock (PostgreSQL)."""

    def __init__(self, log: AuditLog, pending: list[AuditRecord]) -> None:
        self._log, self._pending = log, pending

    def append(self, record: AuditRecord) -> None:
        self._log.append(record)

    def last(self) -> AuditRecord | None:
        return self._pending[-1] if self._pending else None

    def all(self) -> list[AuditRecord]:
        return self._log.all()

    def for_subject(self, subject: str) -> list[AuditRecord]:
        return self._log.for_subject(subject)


#: One lock per schema, so two databases in one PostgreSQL cluster do not wait for each other.
#: The same statement turns this transaction's wait for its WAL flush off (the flush is
#: waited for after the lock is let go, `_DURABLE`).
_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log')),"
    " set_config('synchronous_commit', 'off', true)"
)
#: The lock statement of a commit that also writes the request's answer to the key it claimed
#: (`records.Answer`), so the answer costs no statement of its own: the update runs first (the
#: division fails the statement, and so the commit queued behind it, unless it found the
#: key's row, which this transaction inserted and holds), then the lock is taken.
#: Parameters: response status and body, principal, key.
_LOCK_ANSWERING = (
    "WITH answered AS (UPDATE idempotency_keys SET status = 'completed',"
    " response_status = %s, response_body = %s WHERE principal = %s AND key = %s"
    " RETURNING 1)"
    " SELECT 1 / (SELECT count(*)::integer FROM answered),"
    " pg_advisory_xact_lock(hashtext(current_schema() || '.audit_log')),"
    " set_config('synchronous_commit', 'off', true)"
)
#: Run in a transaction of its own, committed synchronously: it writes one WAL record, so its
#: commit waits until the WAL up to it is on disk, the audited commit before it included. It
#: answers the position of its record.
_DURABLE = "SELECT pg_logical_emit_message(true, 'throughline.durable', '')"
#: The columns of a record as the append reads them: its time, actor, correlation id, subject,
#: action, before, after, reason, and its canonical JSON before and after the sequence number.
_COLUMNS = "at, actor, correlation_id, subject, action, before, after, reason, head, tail"
_ARRAYS = (
    """unnest(
      %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
      %s::text[], %s::text[], %s::text[], %s::text[]
    ) WITH ORDINALITY AS i("""
    + _COLUMNS
    + ", n)"
)
#: The append, numbering records `input` holds in its order `n` (1, 2, ...) after the tail.
_CHAIN = """
  tail AS (
    SELECT coalesce(last.sequence, 0) AS sequence, coalesce(last.hash, repeat('0', 64)) AS hash
    FROM (SELECT 1) AS one
    LEFT JOIN (SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1) AS last
      ON true
  ),
  chain AS (
    SELECT 0::bigint AS n, sequence, hash, NULL::text AS previous_hash FROM tail
    UNION ALL
    SELECT i.n, c.sequence + 1,
           encode(sha256(convert_to(
             c.hash || '|' || i.head || (c.sequence + 1)::text || i.tail, 'UTF8')), 'hex'),
           c.hash
    FROM chain AS c JOIN {input} AS i ON i.n = c.n + 1
  )
INSERT INTO audit_log (sequence, at, actor, correlation_id, subject, action, "before",
                       "after", reason, previous_hash, hash)
SELECT c.sequence, i.at, i.actor, i.correlation_id, i.subject, i.action, i.before, i.after,
       i.reason, c.previous_hash, c.hash
FROM chain AS c JOIN {input} AS i ON i.n = c.n
ORDER BY c.n
"""
#: Parameters: the records' columns as arrays, in order (`_ARRAYS`).
_APPEND = (
    "WITH RECURSIVE\n  input AS (SELECT * FROM " + _ARRAYS + ")," + _CHAIN.format(input="input")
)
#: The records a long transaction staged as it went (`stage`), emptied by its end: the table
#: is this connection's own and keeps no row past a commit or a rollback.
_STAGED = "audit_log_staged"
_CREATE_STAGED = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGED} (
  at timestamptz, actor text, correlation_id text, subject text, action text, "before" text,
  "after" text, reason text, head text, tail text, n bigint PRIMARY KEY
) ON COMMIT DELETE ROWS
"""
#: Parameters: the number of the records staged before, then the records' columns as arrays.
_STAGE = f"INSERT INTO {_STAGED} SELECT {_COLUMNS}, n + %s FROM {_ARRAYS}"
#: The staged records appended, in the order they were staged.
_APPEND_STAGED = "WITH RECURSIVE" + _CHAIN.format(input=_STAGED)


def chained(tail: AuditRecord | None, pending: Sequence[AuditRecord]) -> _Chain:
    """The pending records chained anew onto `tail` (SQLite)."""
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


def _columns(pending: Sequence[AuditRecord]) -> list[list[Any]]:
    """The records as the append's arrays (`_ARRAYS`), their time as the database gives it
    back and hashes it."""
    rows = []
    for record in pending:
        at = record.at.astimezone(UTC)
        head, tail = canonical_parts(attrs.evolve(record, at=at))
        rows.append(
            (at, record.actor, record.correlation_id, record.subject, record.action,
             record.before, record.after, record.reason, head, tail)
        )  # fmt: skip
    return [list(column) for column in zip(*rows, strict=True)]


def stage(connection: Connection, pending: Sequence[AuditRecord], staged: int) -> int:
    """Put the records aside in this transaction, after the `staged` ones before them, for
    `locked_append` to chain at the commit: a transaction that writes as it goes holds none
    of them, and takes the chain's lock only at its end, as every other transaction does. The
    number of records staged so far."""
    if not pending:
        return staged
    driver = _driver(connection)
    try:
        if staged == 0:
            driver.execute(_CREATE_STAGED)
        driver.execute(_STAGE, [staged, *_columns(pending)])
    except psycopg.Error as error:
        raise _wrapped(_STAGE, error) from error
    return staged + len(pending)


@contextmanager
def locked_append(
    connection: Connection,
    pending: Sequence[AuditRecord],
    *,
    staged: bool = False,
    answer: Answer | None = None,
) -> Iterator[None]:
    """Take the chain's lock and append the records, numbered and hashed onto the tail; the
    block's commit goes in the same round trip (ADR 0065). Both statements are sent at once
    and the pipeline stays open for the block: the commit the block makes is queued behind
    them, and the server skips it if either failed (the error is raised by the commit).
    `staged`: the records are those `stage` put aside in this transaction (`pending` is then
    empty). `answer`: the request's answer, written by the lock's statement."""
    statement, parameters = (_APPEND_STAGED, None) if staged else (_APPEND, _columns(pending))
    driver = _driver(connection)
    try:
        with driver.pipeline():
            if answer is None:
                driver.execute(_LOCK)
            else:
                driver.execute(
                    _LOCK_ANSWERING, (answer.status, answer.body, answer.principal, answer.key)
                )
            driver.execute(statement, parameters)
            yield
    except psycopg.Error as error:
        raise _wrapped(statement, error) from error
    wait_until_durable(driver)


def wait_until_durable(driver: psycopg.Connection[Any]) -> str | None:
    """Once the block has committed, wait until its commit is on disk (the WAL position
    flushed); None when it did not commit (its transaction is still open, and left alone)."""
    if driver.info.transaction_status is not pq.TransactionStatus.IDLE:
        return None
    driver.autocommit = True  # the statement is its own transaction, committed synchronously
    try:
        row = driver.execute(_DURABLE).fetchone()
    except psycopg.Error as error:
        raise _wrapped(_DURABLE, error) from error
    finally:
        driver.autocommit = False
    return None if row is None else str(row[0])


def _wrapped(statement: str, error: psycopg.Error) -> sa.exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it, so the unit of work reads its SQLSTATE
    (a deadlock or a serialisation failure is a conflict) as it reads any other."""
    wrapped = sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error)
    assert isinstance(wrapped, sa.exc.DBAPIError)
    return wrapped
