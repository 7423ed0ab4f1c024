"""How a SQLite unit of work opens its transaction: `BEGIN IMMEDIATE` for one that may write
(it takes the write lock before it reads anything), a deferred `BEGIN` for a read-only one,
and a busy database refused as SQLAlchemy refuses the driver's errors (database.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy.database import Database
from application.context import RequestContext

CTX = RequestContext("tester", "begin")


def _now() -> datetime:
    return datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "begin.db"


@pytest.fixture
def database(path: Path) -> Iterator[Database]:
    migrated = Database(f"sqlite:///{path}")
    migrated.upgrade()
    yield migrated
    migrated.dispose()


@pytest.fixture
def holder(path: Path, database: Database) -> Iterator[sqlite3.Connection]:
    """Another connection holding the write lock."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    yield connection
    connection.rollback()
    connection.close()


def test_a_writing_unit_of_work_holds_the_write_lock_from_its_start(
    path: Path, database: Database
) -> None:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with database.unit_of_work(CTX, _now) as uow:
            assert uow.connection.in_transaction()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # let go when the unit of work ended
        other.rollback()
    finally:
        other.close()


def test_a_read_only_unit_of_work_opens_while_another_connection_writes(
    database: Database, holder: sqlite3.Connection
) -> None:
    with database.unit_of_work(CTX, _now, read_only=True) as uow:
        assert uow.connection.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() == 0


def test_a_busy_database_refuses_the_begin_as_sqlalchemy_refuses_driver_errors(
    database: Database, holder: sqlite3.Connection
) -> None:
    with database.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        driver.execute("PRAGMA busy_timeout=0")  # refuse at once rather than wait 30 s
        with pytest.raises(sa.exc.OperationalError, match="BEGIN IMMEDIATE") as refused:
            connection.begin()
        assert isinstance(refused.value.orig, sqlite3.OperationalError)
        assert not connection.in_transaction()
