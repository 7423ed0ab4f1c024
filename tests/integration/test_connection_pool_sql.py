"""PostgreSQL's connection pool: a connection that sat idle is checked before it is used again
(a server restart or an idle timeout may have closed it), one given back a moment ago is
used at once, without a round trip."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import database as db_module
from adapters.sqlalchemy.database import Database
from application.context import RequestContext

CTX = RequestContext("pool-test", "pool-test")


def _now() -> datetime:
    return datetime.now(UTC)


def count_pings(monkeypatch: pytest.MonkeyPatch, database: Database) -> list[object]:
    """The connections the pool pings from now on (the dialect's ping, counted then done)."""
    calls: list[object] = []
    dialect = database.engine.dialect
    original = dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        calls.append(dbapi_connection)
        return bool(original(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counting)
    return calls


@pytest.fixture
def database(postgres_schema: str) -> Iterator[Database]:
    db = Database(postgres_schema)
    yield db
    db.dispose()


def backend_pid(database: Database) -> int:
    """The server process behind the connection a unit of work gets (it reads the outbox)."""
    with database.unit_of_work(CTX, _now, read_only=True) as uow:
        uow.outbox.pending(1)
        pid = uow.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    return int(pid)


def test_a_connection_given_back_a_moment_ago_is_used_again_without_a_ping(
    monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    pinged = count_pings(monkeypatch, database)
    first = backend_pid(database)
    second = backend_pid(database)
    assert second == first
    assert pinged == []


def test_a_connection_that_sat_idle_is_pinged_before_it_is_used(
    monkeypatch: pytest.MonkeyPatch, postgres_schema: str
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    database = Database(postgres_schema)
    pinged = count_pings(monkeypatch, database)
    try:
        first = backend_pid(database)
        second = backend_pid(database)
    finally:
        database.dispose()
    assert second == first
    assert len(pinged) == 1


def test_a_connection_the_server_closed_while_it_sat_idle_is_replaced_unseen(
    monkeypatch: pytest.MonkeyPatch, postgres_schema: str, postgres_admin: sa.Engine
) -> None:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    database = Database(postgres_schema)
    try:
        closed = backend_pid(database)
        with postgres_admin.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": closed})
        replacement = backend_pid(database)
    finally:
        database.dispose()
    assert replacement != closed
