"""The operations screens' questions in SQL: the exception queue filtered, sorted and paged on
its snapshot's fields, the outbox by delivery state in commit order, and the audit trail read
once, in order, for its verification."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, reading, stored
from application.audit import ChainReport, verify_chain
from application.queries.operations import ExceptionFilter, exception_key
from application.queries.paging import Page, PageRequest
from application.records import DeliveryState, ExceptionState, IntegrationException, OutboxEvent

_X = t.integration_exceptions
_created_at = _X.c.body["created_at"].as_string()
_kind = _X.c.body["kind"].as_string()


class SqlAlchemyOperationsQueries(EngineQueries):
    """`OperationsQueries` on the database."""

    def exceptions(self, where: ExceptionFilter, page: PageRequest) -> Page[IntegrationException]:
        statement = sa.select(_X.c.body)
        if where.state is not None:
            statement = statement.where(_X.c.state == where.state)
        if where.kind is not None:
            statement = statement.where(_kind == where.kind)
        if not where.include_resolved:
            statement = statement.where(_X.c.state != ExceptionState.RESOLVED.value)
        if page.after is not None:
            created, exception_id = page.after[0], page.after[-1]
            statement = statement.where(
                sa.or_(
                    _created_at > created, sa.and_(_created_at == created, _X.c.id > exception_id)
                )
            )
        statement = statement.order_by(_created_at, _X.c.id).limit(page.limit + 1)
        with reading(self._engine) as connection:
            bodies = connection.execute(statement).scalars().all()
        found = [structure(body, IntegrationException) for body in bodies]
        return Page.from_rows(found, page, exception_key)

    def exception(self, exception_id: str) -> IntegrationException | None:
        with reading(self._engine) as connection:
            return stored(connection, _X, exception_id, IntegrationException)

    def open_exceptions_for(self, subject: str) -> list[IntegrationException]:
        statement = (
            sa.select(_X.c.body)
            .where(_X.c.subject == subject, _X.c.state != ExceptionState.RESOLVED.value)
            .order_by(_X.c.id)
        )
        with reading(self._engine) as connection:
            bodies = connection.execute(statement).scalars().all()
        return [structure(body, IntegrationException) for body in bodies]

    def outbox_events(self, state: DeliveryState, page: PageRequest) -> Page[OutboxEvent]:
        c = t.outbox.c
        statement: sa.Select[Any] = sa.select(t.outbox).where(c.state == state.value)
        if page.after is not None:
            statement = statement.where(c.sequence > _sequence(page.after[0]))
        statement = statement.order_by(c.sequence).limit(page.limit + 1)
        with reading(self._engine) as connection:
            rows = connection.execute(statement).mappings().all()
        sequences = {row["event_id"]: row["sequence"] for row in rows}
        events = [codec.outbox_event(row) for row in rows]
        return Page.from_rows(events, page, lambda e: (str(sequences[e.event_id]),))

    def outbox_event(self, event_id: str) -> OutboxEvent | None:
        statement = sa.select(t.outbox).where(t.outbox.c.event_id == event_id)
        with reading(self._engine) as connection:
            row = connection.execute(statement).mappings().first()
        return None if row is None else codec.outbox_event(row)

    def audit_trail(self) -> ChainReport:
        statement = sa.select(t.audit_log).order_by(t.audit_log.c.sequence)
        with reading(self._engine) as connection:
            rows = connection.execute(statement).mappings()
            records = [codec.audit_record(row) for row in rows]
        return verify_chain(records)

    def ping(self) -> None:
        with reading(self._engine) as connection:
            connection.execute(sa.select(sa.literal(1))).scalar_one()


def _sequence(key: str) -> int:
    """The commit position a cursor names (a cursor of another list reads as the start)."""
    return int(key) if key.isdigit() else 0
