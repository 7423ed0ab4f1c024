"""The write path's fixed statements on SQLite's driver (adapters/sqlalchemy/driver.py): the
driver receives the SQL text and values SQLAlchemy would have sent, the stored rows are the
same, a driver error is SQLAlchemy's exception, and whatever listens to statements still sees
every one of them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.audit_log import _audit_tail
from adapters.sqlalchemy.bulk import insert_many
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.driver import driver_rows, on_driver
from application import idempotency
from application.audit import record_transition
from application.context import RequestContext
from application.records import IdempotencyRecord, IdempotencyStatus
from entrypoints.composition import tracing
from tests.integration.conftest import empty_database_url

CTX = RequestContext("tester", "driver")
AT = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


#: What tracing hooks on every engine, for the rest of the process, once a test configured it.
_PROCESS_WIDE = (
    ("before_cursor_execute", tracing._sql_started),
    ("after_cursor_execute", tracing._sql_finished),
    ("handle_error", tracing._sql_failed),
)


@pytest.fixture(autouse=True)
def _nothing_listens_process_wide() -> Iterator[None]:
    """These tests compare the driver's path, taken when nothing listens, with SQLAlchemy's:
    tracing hooked by an earlier test in the same process is taken off for their duration."""
    hooked = [(name, fn) for name, fn in _PROCESS_WIDE if sa.event.contains(sa.Engine, name, fn)]
    for name, fn in hooked:
        sa.event.remove(sa.Engine, name, fn)
    yield
    for name, fn in hooked:
        sa.event.listen(sa.Engine, name, fn)


def _now() -> datetime:
    return AT


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite only: the driver's path is SQLite's (PostgreSQL keeps SQLAlchemy's)."""
    return empty_database_url(request, "sqlite", tmp_path)


def _claim_and_answer(database: Database, key: str, *, listened: bool) -> list[str]:
    """A key claimed and answered in one unit of work; the SQL the driver ran for it."""
    traced: list[str] = []
    seen: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    with database.unit_of_work(CTX, _now) as uow:
        connection = uow.connection
        if listened:
            sa.event.listen(connection, "before_cursor_execute", before)
        assert on_driver(connection) is not listened
        connection.connection.driver_connection.set_trace_callback(traced.append)  # type: ignore[union-attr]
        record = IdempotencyRecord("p", key, "f" * 64, IdempotencyStatus.IN_PROGRESS, AT)
        assert idempotency.begin(uow, "p", key, "f" * 64, AT) is None
        assert not uow.idempotency.add_new(record)  # the key exists now: nothing inserted
        idempotency.complete(uow, "p", key, 201, '{"ok":true}')
        connection.connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
        uow.commit()
    # Through SQLAlchemy the listener saw each statement; on the driver none passed it.
    assert len(seen) == (3 if listened else 0)
    return [" ".join(sql.split()).replace(key, "KEY") for sql in traced]


def test_the_claim_and_its_answer_store_the_same_row_and_text_as_through_sqlalchemy(
    database: Database,
) -> None:
    on_the_driver = _claim_and_answer(database, "k-driver", listened=False)
    through_sqlalchemy = _claim_and_answer(database, "k-core", listened=True)

    assert on_the_driver == through_sqlalchemy
    with database.engine.connect() as connection:
        rows = {
            row.key: {k: v for k, v in row._mapping.items() if k != "key"}
            for row in connection.execute(sa.select(t.idempotency_keys))
        }
        stored = connection.exec_driver_sql(
            "SELECT created_at, status FROM idempotency_keys WHERE key = 'k-driver'"
        ).one()
    assert rows["k-driver"] == rows["k-core"]
    assert rows["k-driver"]["status"] == IdempotencyStatus.COMPLETED.value
    assert rows["k-driver"]["response_status"] == 201
    assert rows["k-driver"]["created_at"] == AT
    # The driver got the text SQLAlchemy's type writes, not sqlite3's own rendering of an
    # aware datetime (which would read "2026-03-02 09:30:15.123456+00:00").
    assert stored.created_at == "2026-03-02T09:30:15.123456Z"


def test_a_refused_row_is_sqlalchemys_integrity_error_and_the_transaction_goes_on(
    database: Database,
) -> None:
    row = {"principal": "p", "key": "k", "fingerprint": "f", "status": "in_progress",
           "created_at": AT, "response_status": None, "response_body": None}  # fmt: skip
    with database.unit_of_work(CTX, _now) as uow:
        connection = uow.connection
        assert on_driver(connection)
        insert_many(connection, t.idempotency_keys, [row])
        with pytest.raises(sa.exc.IntegrityError) as refused:
            insert_many(connection, t.idempotency_keys, [row])
        assert isinstance(refused.value.orig, sqlite3.IntegrityError)
        assert driver_rows(connection, "SELECT count(*) FROM idempotency_keys", []) == [(1,)]
        uow.commit()


def test_outside_a_transaction_statements_keep_sqlalchemys_path(database: Database) -> None:
    with database.engine.connect() as connection:
        assert not on_driver(connection)
        assert driver_rows(connection, "SELECT ?", [7]) == [(7,)]
        connection.rollback()


def test_the_audit_tail_reads_the_same_values_on_the_driver_as_through_sqlalchemy(
    database: Database,
) -> None:
    with database.unit_of_work(CTX, _now) as uow:
        record_transition(
            uow.audit, at=AT, actor="tester", correlation_id="driver", subject="INV-1",
            action="issue", before="draft", after="issued", reason="due",
        )  # fmt: skip
        uow.commit()
    with database.unit_of_work(CTX, _now) as uow:
        connection = uow.connection
        assert on_driver(connection)
        on_the_driver = _audit_tail().mappings(connection, {})
        sa.event.listen(connection, "before_cursor_execute", lambda *_: None)
        assert not on_driver(connection)
        through_sqlalchemy = [
            dict(row) for row in connection.execute(_audit_tail().statement).mappings()
        ]
    assert on_the_driver == through_sqlalchemy
    assert on_the_driver[0]["at"] == AT  # an aware datetime, as the column type reads it
    assert on_the_driver[0]["subject"] == "INV-1"
