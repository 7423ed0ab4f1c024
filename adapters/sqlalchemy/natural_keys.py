"""Natural keys on SQL (ADR 0024): one row per (kind, source, key), the primary key the
constraint.

`record` inserts with ON CONFLICT DO NOTHING straight into the unit of work's transaction,
before the handler changes anything. When the key is taken it reads the row that holds it. On
PostgreSQL (READ COMMITTED) an insert that meets a key another transaction inserted but has
not committed waits for that transaction: if it commits, nothing is inserted and the next
statement sees its row; if it rolls back, the insert goes ahead. On SQLite writers take turns
(BEGIN IMMEDIATE), so the row is simply there or not. Either way two writers of one key never
both record it, and the unique violation never reaches the commit as an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repositories import Session
from application.errors import ConflictError
from application.natural_keys import Fact, RecordedFact, content_json


def natural_key_row(recorded: RecordedFact) -> dict[str, Any]:
    fact = recorded.fact
    return {
        "kind": fact.kind,
        "source": fact.source,
        "key": fact.key,
        "content": content_json(fact.content),
        "recorded_at": recorded.recorded_at,
        "actor": recorded.actor,
        "correlation_id": recorded.correlation_id,
    }


def recorded_fact(row: Mapping[Any, Any]) -> RecordedFact:
    content = json.loads(row["content"])
    fact = Fact(row["kind"], row["source"], row["key"], content)
    return RecordedFact(fact, row["recorded_at"], row["actor"], row["correlation_id"])


class SqlAlchemyNaturalKeys:
    """The `NaturalKeyStore` port on the `natural_keys` table."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, recorded: RecordedFact) -> RecordedFact | None:
        statement = self._session.insert(t.natural_keys).values(natural_key_row(recorded))
        statement = statement.on_conflict_do_nothing().returning(t.natural_keys.c.kind)
        if self._session.connection.execute(statement).first() is not None:
            return None
        first = self.find(*recorded.fact.identity)
        if first is None:  # pragma: no cover - the holder committed, so its row is visible
            raise ConflictError(f"{recorded.fact} is being recorded by someone else; try again")
        return first

    def find(self, kind: str, source: str, key: str) -> RecordedFact | None:
        c = t.natural_keys.c
        statement = sa.select(t.natural_keys).where(
            c.kind == kind, c.source == source, c.key == key
        )
        row = self._session.connection.execute(statement).mappings().first()
        return None if row is None else recorded_fact(row)
