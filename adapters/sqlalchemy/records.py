"""The stores of integration records: idempotency keys, the outbox and document-number
sequences. Like the business stores, they write straight into the unit of work's transaction;
the audit trail, chained at commit, is in `audit_log.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import insert_many
from adapters.sqlalchemy.driver import DriverStatement
from adapters.sqlalchemy.repositories import Session, chunks
from adapters.sqlalchemy.types import UtcDateTime
from application.errors import ConflictError, NotFoundError, RequestInProgressError
from application.records import (
    DeliveryState,
    IdempotencyRecord,
    IdempotencyStatus,
    OutboxEvent,
)


@attrs.frozen
class Answer:
    """A request's answer for the key this transaction claimed, written by the commit: on
    PostgreSQL by the audit chain's lock statement when the commit appends to the chain
    (`audit_chain.locked_append`), else by `write` just before the commit."""

    principal: str
    key: str
    status: int
    body: str

    def write(self, connection: sa.Connection) -> None:
        parameters = {
            **_identity(self.principal, self.key),
            "response_status": self.status,
            "response_body": self.body,
        }
        if _idempotency_complete().execute(connection, parameters)[0] != 1:
            raise RequestInProgressError(f"idempotency key {self.key!r} was never claimed")


class SqlAlchemyIdempotency:
    """Idempotency keys. A key this unit of work did not read is claimed with an insert that
    does nothing when the key exists; one it read is updated only if unchanged since. Either
    way, two requests racing for one key cannot both go ahead.

    On PostgreSQL the answer to a key this transaction inserted is left to the commit
    (`Answer`): the transaction holds the key's row from its insert, so the update cannot
    miss it, and the commit writes it without a statement of its own where it can (ADR 0068,
    amendment "fewer statements on PostgreSQL")."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[tuple[str, str], tuple[str, datetime]] = {}
        #: The keys this transaction inserted, whose row it holds (PostgreSQL).
        self._inserted: set[tuple[str, str]] = set()
        self._answer: Answer | None = None

    def find(self, principal: str, key: str) -> IdempotencyRecord | None:
        self._write_answer()
        row = (
            self._session.connection.execute(_idempotency_find(), _identity(principal, key))
            .mappings()
            .first()
        )
        if row is None:
            self._read.pop((principal, key), None)
            return None
        record = codec.idempotency_record(row)
        self._read[(principal, key)] = (record.status.value, record.created_at)
        return record

    def save(self, record: IdempotencyRecord) -> None:
        self._write_answer()
        connection, table = self._session.connection, t.idempotency_keys
        row = codec.idempotency_row(record)
        identity = (record.principal, record.key)
        loaded = self._read.get(identity)
        if loaded is None:
            _, claimed = _idempotency_claim(self._session.dialect).execute(connection, row)
            written = 1 if claimed else 0
            if claimed:
                self._inserted.add(identity)
        else:
            status, created_at = loaded
            written = connection.execute(
                table.update()
                .where(
                    table.c.principal == record.principal,
                    table.c.key == record.key,
                    table.c.status == status,
                    table.c.created_at == created_at,
                )
                .values(row)
            ).rowcount
        if written != 1:
            raise RequestInProgressError(f"idempotency key {record.key!r} was claimed meanwhile")
        self._read[identity] = (record.status.value, record.created_at)

    def add_new(self, record: IdempotencyRecord) -> bool:
        self._write_answer()
        claim = _idempotency_claim(self._session.dialect)
        _, claimed = claim.execute(self._session.connection, codec.idempotency_row(record))
        if not claimed:
            return False
        identity = (record.principal, record.key)
        self._read[identity] = (record.status.value, record.created_at)
        self._inserted.add(identity)
        return True

    def complete(self, principal: str, key: str, status: int, body: str) -> None:
        answer = Answer(principal, key, status, body)
        self._write_answer()  # one answer left at a time
        if self._session.dialect == "postgresql" and (principal, key) in self._inserted:
            self._answer = answer
        else:
            answer.write(self._session.connection)
        loaded = self._read.get((principal, key))
        if loaded is not None:
            self._read[(principal, key)] = (IdempotencyStatus.COMPLETED.value, loaded[1])

    def answer_at_commit(self) -> Answer | None:
        """The answer left to the commit, if any; the commit takes it and must write it."""
        answer, self._answer = self._answer, None
        return answer

    def rolled_back(self) -> None:
        """The transaction's claims and its answer are undone."""
        self._inserted.clear()
        self._answer = None

    def _write_answer(self) -> None:
        """The answer left to the commit, written now: a statement on the keys follows, which
        must see it."""
        answer = self.answer_at_commit()
        if answer is not None:
            answer.write(self._session.connection)

    def delete(self, principal: str, key: str) -> None:
        self._write_answer()
        self._inserted.discard((principal, key))
        c = t.idempotency_keys.c
        self._session.connection.execute(
            t.idempotency_keys.delete().where(c.principal == principal, c.key == key)
        )
        self._read.pop((principal, key), None)

    def purge_before(self, cutoff: datetime) -> int:
        self._write_answer()
        table = t.idempotency_keys
        result = self._session.connection.execute(table.delete().where(table.c.created_at < cutoff))
        self._read.clear()
        return result.rowcount


def _identity(principal: str, key: str) -> dict[str, str]:
    return {"principal_": principal, "key_": key}


# The statements of every state-changing request, built once (parameters: principal_, key_).


@functools.cache
def _idempotency_find() -> sa.Select[Any]:
    c = t.idempotency_keys.c
    return sa.select(t.idempotency_keys).where(
        c.principal == sa.bindparam("principal_", type_=sa.String()),
        c.key == sa.bindparam("key_", type_=sa.String()),
    )


@functools.cache
def _idempotency_claim(dialect: str) -> DriverStatement:
    """Insert the key unless it exists (parameters: the row); returns the key when inserted."""
    table = t.idempotency_keys
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return DriverStatement(insert.on_conflict_do_nothing().returning(table.c.key))


@functools.cache
def _idempotency_complete() -> DriverStatement:
    """Parameters: principal_, key_, response_status, response_body."""
    c = t.idempotency_keys.c
    return DriverStatement(
        t.idempotency_keys.update()
        .where(
            c.principal == sa.bindparam("principal_", type_=sa.String()),
            c.key == sa.bindparam("key_", type_=sa.String()),
        )
        .values(
            status=IdempotencyStatus.COMPLETED.value,
            response_status=sa.bindparam("response_status", type_=sa.Integer()),
            response_body=sa.bindparam("response_body", type_=sa.Text()),
        )
    )


class SqlAlchemyOutbox:
    """The outbox and its delivery state, moved a batch per statement (ADR 0016).

    Claims are one `UPDATE ... RETURNING` over the due events that head their aggregate (no
    earlier undelivered event of the same aggregate: `NOT EXISTS` on the aggregate index).
    PostgreSQL picks them with `FOR UPDATE SKIP LOCKED`, so concurrent workers skip each
    other's rows instead of waiting or claiming twice; SQLite has one writer at a time (every
    unit of work opens with `BEGIN IMMEDIATE`). Walking the candidates in commit order costs
    only the rows still to be sent: PostgreSQL scans the partial index `ix_outbox_due`; SQLite
    the `(state, next_attempt_at)` index, because a pending row never carries a next attempt
    (claim, reap and replay clear it), so its pending entries are in rowid order.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[str, str] = {}

    def add(self, events: Sequence[OutboxEvent]) -> None:
        if events:
            insert_many(self._session.connection, t.outbox, [codec.outbox_row(e) for e in events])

    def pending(self, limit: int) -> list[OutboxEvent]:
        c = t.outbox.c
        statement = (
            sa.select(t.outbox)
            .where(c.state == DeliveryState.PENDING.value)
            .order_by(c.sequence)
            .limit(limit)
        )
        return self._events(statement)

    def claim(
        self, worker: str, now: datetime, limit: int, aggregate_type: str | None = None
    ) -> list[OutboxEvent]:
        statement = _claim_statement(self._session.dialect, filtered=aggregate_type is not None)
        parameters: dict[str, object] = {
            "worker": worker,
            "claimed_at": now,
            "due_by": now,
            "batch": limit,
        }
        if aggregate_type is not None:
            parameters["only_aggregate_type"] = aggregate_type
        rows = self._session.connection.execute(statement, parameters).mappings().all()
        return [codec.outbox_event(row) for row in sorted(rows, key=lambda r: r["sequence"])]

    def mark_delivered(self, worker: str, event_ids: Sequence[str]) -> int:
        statement = _mark_delivered_statement()
        marked = 0
        for batch in chunks(list(event_ids)):
            parameters = {"worker": worker, "event_ids": batch}
            marked += self._session.connection.execute(statement, parameters).rowcount
        return marked

    def mark_failed(
        self, worker: str, event_id: str, error: str, now: datetime
    ) -> OutboxEvent | None:
        c = t.outbox.c
        held = sa.and_(
            c.event_id == event_id,
            c.state == DeliveryState.IN_FLIGHT.value,
            c.claimed_by == worker,
        )
        statement = sa.select(t.outbox).where(held)
        if self._session.dialect == "postgresql":
            statement = statement.with_for_update()
        found = self._events(statement)
        if not found:
            return None
        (event,) = found
        event.delivery_failed(error, now)
        self._session.connection.execute(
            t.outbox.update().where(held).values(codec.outbox_delivery_columns(event))
        )
        return event

    def reap(self, stale_before: datetime) -> int:
        c = t.outbox.c
        statement = (
            t.outbox.update()
            .where(c.state == DeliveryState.IN_FLIGHT.value, c.claimed_at < stale_before)
            .values(
                state=DeliveryState.PENDING.value,
                claimed_by=None,
                claimed_at=None,
                next_attempt_at=None,
            )
        )
        return self._session.connection.execute(statement).rowcount

    def release(self, worker: str, event_ids: Sequence[str]) -> int:
        c = t.outbox.c
        released = 0
        for batch in chunks(list(event_ids)):
            statement = (
                t.outbox.update()
                .where(
                    c.state == DeliveryState.IN_FLIGHT.value,
                    c.claimed_by == worker,
                    c.event_id.in_(batch),
                )
                .values(
                    state=DeliveryState.PENDING.value,
                    claimed_by=None,
                    claimed_at=None,
                    next_attempt_at=None,
                )
            )
            released += self._session.connection.execute(statement).rowcount
        return released

    def get(self, event_id: str) -> OutboxEvent:
        found = self._events(sa.select(t.outbox).where(t.outbox.c.event_id == event_id))
        if not found:
            raise NotFoundError(f"no outbox event {event_id}")
        self._read[event_id] = found[0].state.value
        return found[0]

    def in_state(self, state: DeliveryState, limit: int) -> list[OutboxEvent]:
        c = t.outbox.c
        statement = (
            sa.select(t.outbox).where(c.state == state.value).order_by(c.sequence).limit(limit)
        )
        return self._events(statement)

    def save(self, event: OutboxEvent) -> None:
        c = t.outbox.c
        loaded = self._read.get(event.event_id)
        if loaded is None:
            raise ConflictError(f"outbox event {event.event_id} was not read in this unit of work")
        statement = (
            t.outbox.update()
            .where(c.event_id == event.event_id, c.state == loaded)
            .values(codec.outbox_delivery_columns(event))
        )
        if self._session.connection.execute(statement).rowcount != 1:
            raise ConflictError(f"outbox event {event.event_id} changed meanwhile; try again")
        self._read[event.event_id] = event.state.value

    def _events(self, statement: sa.Select[Any]) -> list[OutboxEvent]:
        rows = self._session.connection.execute(statement).mappings()
        return [codec.outbox_event(row) for row in rows]


@functools.cache
def _claim_statement(dialect: str, *, filtered: bool = False) -> sa.Update:
    """The claim, built once per dialect (parameters: worker, claimed_at, due_by, batch; and
    only_aggregate_type when `filtered`: only that aggregate's events are candidates).

    The candidates are an alias of the outbox, so they are not correlated with the UPDATE's
    own table; `held_back` is an earlier undelivered event of the same aggregate.
    """
    candidate, earlier = t.outbox.alias("candidate"), t.outbox.alias("earlier")
    c = candidate.c
    batch = sa.bindparam("batch", type_=sa.Integer())
    held_back = (
        sa.exists()
        .where(
            earlier.c.aggregate_type == c.aggregate_type,
            earlier.c.aggregate_id == c.aggregate_id,
            earlier.c.sequence < c.sequence,
            earlier.c.state != DeliveryState.DELIVERED.value,
        )
        .correlate(candidate)
    )
    pending = sa.and_(c.state == DeliveryState.PENDING.value, c.next_attempt_at.is_(None))
    retry_due = sa.and_(
        c.state == DeliveryState.FAILED.value,
        c.next_attempt_at <= sa.bindparam("due_by", type_=UtcDateTime()),
    )
    if filtered:
        wanted = c.aggregate_type == sa.bindparam("only_aggregate_type", type_=sa.String())
        pending, retry_due = sa.and_(pending, wanted), sa.and_(retry_due, wanted)
    chosen: sa.Select[Any]
    if dialect == "postgresql":
        # Literal values, so the planner can match the partial index `ix_outbox_due` with a
        # prepared (generic) plan too; it then walks only the rows still to be sent.
        due_index = c.state.in_([sa.literal_column(f"'{s}'") for s in t.CLAIMABLE_STATES])
        locked = (
            sa.select(c.sequence)
            .where(due_index, sa.or_(pending, retry_due), ~held_back)
            .order_by(c.sequence)
            .limit(batch)
            .with_for_update(of=candidate, skip_locked=True)
            .cte("claimable")
            .prefix_with("MATERIALIZED")
        )
        chosen = sa.select(locked.c.sequence)
    else:
        # Two index walks in commit order (an OR would make SQLite sort every pending row).
        each = [
            sa.select(c.sequence)
            .where(due, ~held_back)
            .order_by(c.sequence)
            .limit(batch)
            .subquery()
            for due in (pending, retry_due)
        ]
        both = sa.union_all(*(sa.select(s.c.sequence) for s in each)).subquery()
        chosen = sa.select(both.c.sequence).order_by(both.c.sequence).limit(batch)
    return (
        t.outbox.update()
        .where(t.outbox.c.sequence.in_(chosen))
        .values(
            state=DeliveryState.IN_FLIGHT.value,
            claimed_by=sa.bindparam("worker", type_=sa.String()),
            claimed_at=sa.bindparam("claimed_at", type_=UtcDateTime()),
            next_attempt_at=None,
        )
        .returning(*t.outbox.c)
    )


@functools.cache
def _mark_delivered_statement() -> sa.Update:
    """Parameters: worker, event_ids (an expanding list)."""
    c = t.outbox.c
    return (
        t.outbox.update()
        .where(
            c.event_id.in_(sa.bindparam("event_ids", expanding=True)),
            c.state == DeliveryState.IN_FLIGHT.value,
            c.claimed_by == sa.bindparam("worker", type_=sa.String()),
        )
        .values(state=DeliveryState.DELIVERED.value)
    )


class SqlAlchemySequences:
    """Gap-free numbers: the counter row is incremented in the transaction that uses the
    number, so a rollback gives it back and a concurrent issuer waits for the row."""

    PREFIXES: ClassVar[dict[str, str]] = {"invoice": "INV", "credit_memo": "CN"}

    def __init__(self, session: Session) -> None:
        self._session = session

    def next_number(self, series: str, on: date) -> str:
        key = f"{series}:{on.year}"
        statement = self._session.insert(t.sequences).values(series=key, value=1)
        statement = statement.on_conflict_do_update(
            index_elements=["series"], set_={"value": t.sequences.c.value + 1}
        ).returning(t.sequences.c.value)
        value = self._session.connection.execute(statement).scalar_one()
        prefix = self.PREFIXES.get(series, series.upper())
        return f"{prefix}-{on.year}-{value:06d}"
