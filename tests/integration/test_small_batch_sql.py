"""A small batch of new time entries on PostgreSQL goes in as one INSERT from arrays, without
a savepoint (adapters/sqlalchemy/small_batch.py): it stores exactly what the bulk path
(COPY) stores, and a refused entry leaves none of its batch and ends the unit of work with a
conflict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import insert_values_all_or_none
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.small_batch import INSERT_FROM_ARRAYS_UP_TO, insert_from_arrays
from adapters.sqlalchemy.time_entry_rows import TIME_ENTRY_NAMES, time_entry_values
from application.context import RequestContext
from application.errors import ConflictError
from domain.ids import ObligationId, ResourceId, Role, TaskId, TimeEntryId
from domain.time_entry import TimeEntry
from tests.integration.conftest import empty_database_url
from tests.unit.test_time_entry_values import ENTRIES

CTX = RequestContext("tester", "small-batch")


def _now() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """PostgreSQL only: the small batch's path is PostgreSQL's (SQLite keeps its own)."""
    db = Database(empty_database_url(request, "postgresql", tmp_path))
    yield db
    db.dispose()


def _entries(prefix: str) -> list[TimeEntry]:
    """The hand conversion's entries (no cost rate, a zero, an exponent), numbered after
    `prefix`."""
    return [attrs.evolve(e, entry_id=TimeEntryId(f"{prefix}{n}")) for n, e in enumerate(ENTRIES)]


def _stored(database: Database, prefix: str) -> list[tuple[Any, ...]]:
    """The stored rows of the entries numbered after `prefix`, without their ids."""
    c = t.time_entries.c
    columns = [c[name] for name in TIME_ENTRY_NAMES if name != "entry_id"]
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(c.entry_id, *columns)
            .where(c.entry_id.startswith(prefix))
            .order_by(c.entry_id)
        ).all()
    return [(row[0].removeprefix(prefix), *row[1:]) for row in rows]


def test_a_small_batch_stores_what_the_bulk_path_stores(database: Database) -> None:
    for prefix, insert in (("copy-", insert_values_all_or_none), ("arrays-", insert_from_arrays)):
        with database.unit_of_work(CTX, _now) as uow:
            values = time_entry_values(_entries(prefix), sqlite=False)
            insert(uow.connection, t.time_entries, TIME_ENTRY_NAMES, values)
            uow.commit()
    by_arrays = _stored(database, "arrays-")
    assert len(by_arrays) == 4
    assert by_arrays == _stored(database, "copy-")
    assert [row[TIME_ENTRY_NAMES.index("hours")] for row in by_arrays] == [
        Decimal("8"), Decimal("7.50"), Decimal("0.25"), Decimal("10"),
    ]  # fmt: skip


def test_a_refused_entry_leaves_none_of_its_batch_and_ends_the_unit_of_work(
    database: Database,
) -> None:
    first, *rest = _entries("e-")
    with database.unit_of_work(CTX, _now) as uow:
        uow.delivery.add_time_entries([first])
        uow.commit()
    with pytest.raises(ConflictError), database.unit_of_work(CTX, _now) as uow:
        # the duplicate comes last: the rows before it in the same statement are not kept
        uow.delivery.add_time_entries([*rest, first])
    assert [row[0] for row in _stored(database, "e-")] == ["0"]
    # the connection went back to the pool with its transaction rolled back: it works
    with database.unit_of_work(CTX, _now) as uow:
        uow.delivery.add_time_entries(rest)
        uow.commit()
    assert [row[0] for row in _stored(database, "e-")] == ["0", "1", "2", "3"]


def _savepoints(database: Database, entries: list[TimeEntry]) -> int:
    """How many savepoints adding these entries took."""
    statements: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with database.unit_of_work(CTX, _now) as uow:
        sa.event.listen(uow.connection, "before_cursor_execute", before)
        uow.delivery.add_time_entries(entries)
        uow.commit()
    return sum(s.startswith("SAVEPOINT") for s in statements)


def test_only_a_batch_over_the_limit_is_copied_in_a_savepoint(database: Database) -> None:
    many = [
        TimeEntry.received_approved(
            TimeEntryId(f"m-{n:04d}"),
            ObligationId("tm"),
            ResourceId(f"r{n}"),
            Role("consultant"),
            date(2026, 3, 2),
            Decimal("1"),
            task_id=TaskId("T1"),
        )
        for n in range(INSERT_FROM_ARRAYS_UP_TO + 2)
    ]
    assert _savepoints(database, many[:1]) == 0
    assert _savepoints(database, many[1:]) == 1  # over the limit: the bulk path, unchanged
    assert len(_stored(database, "m-")) == INSERT_FROM_ARRAYS_UP_TO + 2
