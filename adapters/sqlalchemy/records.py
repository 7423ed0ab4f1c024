"""The stores of integration records: idempotency keys, the outbox, the audit trail and
document-number sequences. Like the business stores, they write straight into the unit of
work's transaction, except the audit trail, which is chained at commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import ClassVar

import sqlalchemy as sa

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import insert_many
from adapters.sqlalchemy.repositories import Session
from application.audit import record_transition
from application.errors import RequestInProgressError
from application.records import AuditRecord, DeliveryState, IdempotencyRecord, OutboxEvent

#: The transaction-scoped PostgreSQL advisory lock serialising appends to the audit chain,
#: one per schema (so two databases in one PostgreSQL cluster do not wait for each other).
AUDIT_CHAIN_LOCK = sa.func.pg_advisory_xact_lock(
    sa.func.hashtext(sa.func.current_schema() + ".audit_log")
)


class SqlAlchemyIdempotency:
    """Idempotency keys. A key this unit of work did not read is claimed with an insert that
    does nothing when the key exists; one it read is updated only if unchanged since. Either
    way, two requests racing for one key cannot both go ahead."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[tuple[str, str], tuple[str, datetime]] = {}

    def find(self, principal: str, key: str) -> IdempotencyRecord | None:
        c = t.idempotency_keys.c
        row = (
            self._session.connection.execute(
                sa.select(t.idempotency_keys).where(c.principal == principal, c.key == key)
            )
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
        connection, table = self._session.connection, t.idempotency_keys
        row = codec.idempotency_row(record)
        identity = (record.principal, record.key)
        loaded = self._read.get(identity)
        if loaded is None:
            statement = self._session.insert(table).values(row).on_conflict_do_nothing()
            claimed = connection.execute(statement.returning(table.c.key)).first()
            written = 0 if claimed is None else 1
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

    def delete(self, principal: str, key: str) -> None:
        c = t.idempotency_keys.c
        self._session.connection.execute(
            t.idempotency_keys.delete().where(c.principal == principal, c.key == key)
        )
        self._read.pop((principal, key), None)

    def purge_before(self, cutoff: datetime) -> int:
        table = t.idempotency_keys
        result = self._session.connection.execute(table.delete().where(table.c.created_at < cutoff))
        self._read.clear()
        return result.rowcount


class SqlAlchemyOutbox:
    def __init__(self, session: Session) -> None:
        self._session = session

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
        return [
            codec.outbox_event(row)
            for row in self._session.connection.execute(statement).mappings()
        ]


class _Chain:
    """An audit log of one tail, for re-chaining records with `record_transition`."""

    def __init__(self, tail: AuditRecord | None) -> None:
        self.records: list[AuditRecord] = []
        self._tail = tail

    def last(self) -> AuditRecord | None:
        return self.records[-1] if self.records else self._tail

    def append(self, record: AuditRecord) -> None:
        self.records.append(record)

    def all(self) -> list[AuditRecord]:
        return list(self.records)


class SqlAlchemyAuditLog:
    """The hash-chained audit trail. Records are kept until commit, then chained onto the tail
    read inside the write transaction (PostgreSQL: under an advisory lock), so two concurrent
    transactions never fork the chain or collide on a sequence number."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pending: list[AuditRecord] = []

    def append(self, record: AuditRecord) -> None:
        self._pending.append(record)

    def last(self) -> AuditRecord | None:
        return self._pending[-1] if self._pending else self._tail()

    def all(self) -> list[AuditRecord]:
        statement = sa.select(t.audit_log).order_by(t.audit_log.c.sequence)
        rows = self._session.connection.execute(statement).mappings()
        return [codec.audit_record(row) for row in rows] + list(self._pending)

    def _tail(self) -> AuditRecord | None:
        statement = sa.select(t.audit_log).order_by(t.audit_log.c.sequence.desc()).limit(1)
        row = self._session.connection.execute(statement).mappings().first()
        return None if row is None else codec.audit_record(row)

    def flush(self) -> None:
        if not self._pending:
            return
        if self._session.dialect == "postgresql":
            self._session.connection.execute(sa.select(AUDIT_CHAIN_LOCK)).all()
        chain = _Chain(self._tail())
        for record in self._pending:
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
        insert_many(
            self._session.connection, t.audit_log, [codec.audit_row(r) for r in chain.records]
        )
        self._pending.clear()


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
