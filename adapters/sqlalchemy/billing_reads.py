"""The billing run's bulk read (`application.billing_reads`) as one driver-level statement.

A run reads every time entry of thousands of obligations. Through Core each of 200k rows is
a row object with a result processor per typed column, then a tracked entry in the delivery
store's identity map; here one statement goes straight to the driver (the obligations as one
JSON array on SQLite, one array on PostgreSQL, so its text never changes), and each plain
tuple becomes an entry through the codec, which parses each distinct day and decimal text
once. Nothing is tracked: the entries a run changes are read again through the delivery store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from adapters.sqlalchemy import codec
from adapters.sqlalchemy.repository_base import Session
from domain.ids import ObligationId
from domain.time_entry import TimeEntry

_COLUMNS = ", ".join(codec.TIME_ENTRY_NAMES)
_SQLITE = (
    f"SELECT {_COLUMNS} FROM time_entries"
    " WHERE obligation_id IN (SELECT value FROM json_each(?)) ORDER BY entry_id"
)
_POSTGRESQL = f"SELECT {_COLUMNS} FROM time_entries WHERE obligation_id = ANY(%s) ORDER BY entry_id"


class SqlAlchemyBillingReads:
    def __init__(self, session: Session) -> None:
        self._session = session

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        wanted = sorted(set(obligations))
        if not wanted:
            return []
        cursor = self._session.connection.connection.cursor()
        try:
            if self._session.dialect == "sqlite":
                cursor.execute(_SQLITE, (json.dumps(wanted),))
            else:
                cursor.execute(_POSTGRESQL, (wanted,))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        entry = codec.time_entry_from_tuple
        return [entry(row) for row in rows]
