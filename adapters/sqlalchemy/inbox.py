"""The inbox on SQL: inbound webhooks as received, one row per (source, message id).

The primary key is the dedupe. Adding a message inserts with ON CONFLICT DO NOTHING, so a
concurrent delivery of the same message waits for the first one's transaction and then finds
the key taken (`ConflictError`), on SQLite and PostgreSQL alike. Saving checks that the row
is still as this unit of work read it (state, attempts, steps done), so two processors of one
message cannot both record progress.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.codec import FieldRows, by_value
from adapters.sqlalchemy.repositories import Session
from application.errors import ConflictError
from application.records import InboxMessage, InboxState

_Version = tuple[str, int, int]


#: The inbox table has a column per field of the message, named alike.
_INBOX = FieldRows(InboxMessage, state=by_value(InboxState))
inbox_row, inbox_message = _INBOX.row, _INBOX.record


def _version(message: InboxMessage) -> _Version:
    return (message.state.value, message.attempts, message.steps_done)


class SqlAlchemyInbox:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[tuple[str, str], _Version] = {}

    def find(self, source: str, message_id: str) -> InboxMessage | None:
        c = t.inbox.c
        statement = sa.select(t.inbox).where(c.source == source, c.message_id == message_id)
        row = self._session.connection.execute(statement).mappings().first()
        if row is None:
            return None
        message = inbox_message(row)
        self._read[(source, message_id)] = _version(message)
        return message

    def add(self, message: InboxMessage) -> None:
        statement = self._session.insert(t.inbox).values(inbox_row(message))
        statement = statement.on_conflict_do_nothing().returning(t.inbox.c.source)
        if self._session.connection.execute(statement).first() is None:
            raise ConflictError(f"{message.subject} is already stored")
        self._read[(message.source, message.message_id)] = _version(message)

    def save(self, message: InboxMessage) -> None:
        key = (message.source, message.message_id)
        loaded = self._read.get(key)
        if loaded is None:
            raise ConflictError(f"{message.subject} was not read in this unit of work")
        c = t.inbox.c
        state, attempts, steps_done = loaded
        result = self._session.connection.execute(
            t.inbox.update()
            .where(
                c.source == message.source,
                c.message_id == message.message_id,
                c.state == state,
                c.attempts == attempts,
                c.steps_done == steps_done,
            )
            .values(inbox_row(message))
        )
        if result.rowcount != 1:
            raise ConflictError(f"{message.subject} was changed by someone else since it was read")
        self._read[key] = _version(message)

    def received_before(self, cutoff: datetime, limit: int) -> list[InboxMessage]:
        c = t.inbox.c
        statement = (
            sa.select(t.inbox)
            .where(c.state == InboxState.RECEIVED.value, c.received_at < cutoff)
            .order_by(c.received_at, c.source, c.message_id)
            .limit(limit)
        )
        rows = self._session.connection.execute(statement).mappings()
        return [inbox_message(row) for row in rows]
