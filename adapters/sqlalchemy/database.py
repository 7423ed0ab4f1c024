"""The database: one engine per process, the migrations, and units of work over it.

SQLite (the embedded default, a file under `var/`) runs in WAL mode with foreign keys on and
a busy timeout; every unit of work opens its transaction with `BEGIN IMMEDIATE`, so two
writers take turns at the start instead of one failing at commit (the threads of one process
queue for that turn on an in-process lock, `WriteLock`). PostgreSQL (when a firm
outgrows one machine) goes through psycopg 3 with a connection pool, which checks a connection
that sat idle before handing it out again.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from adapters.sqlalchemy.kept_references import ReferenceCache
from adapters.sqlalchemy.unit_of_work import READ_ONLY, SqlAlchemyUnitOfWork, WriteLock
from application.context import RequestContext

DATABASE_URL_VARIABLE = "THROUGHLINE_DATABASE_URL"
DEFAULT_SQLITE_PATH = Path("var") / "throughline.db"
MIGRATIONS = Path(__file__).parent / "migrations"

#: How long a SQLite writer waits for the one before it, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_database_url() -> str:
    """`THROUGHLINE_DATABASE_URL`, or the SQLite file `var/throughline.db` (folder created)."""
    configured = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if configured:
        return configured
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


class UnsupportedDatabaseError(ValueError):
    """Only SQLite and PostgreSQL are supported."""


def _normalised(url: str | URL) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.get_driver_name() not in ("pysqlite", ""):
            raise UnsupportedDatabaseError(
                f"use the standard sqlite3 driver, not {parsed.drivername}"
            )
        return parsed.set(drivername="sqlite+pysqlite")
    raise UnsupportedDatabaseError(f"{backend} is not supported: use sqlite or postgresql")


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _: Any) -> None:
        # The driver's own transaction handling is switched off: `begin` below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        # Straight to the driver: through `exec_driver_sql` the one fixed statement of every
        # unit of work cost an execution context, a cursor result and the statement events
        # (about a third of opening a unit of work). An error is raised as SQLAlchemy raises
        # the driver's errors, so a busy database is the same `OperationalError` as before.
        try:
            connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as error:
            raise sa.exc.DBAPIError.instance(statement, None, error, sqlite3.Error) from error

    return engine


#: A pooled PostgreSQL connection idle longer than this is pinged before it is used again.
PING_AFTER_IDLE_SECONDS = 2.0
_IDLE_SINCE = "throughline_idle_since"


def _postgresql_engine(url: URL) -> Engine:
    engine = sa.create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, idle_after: float) -> None:
    """Check a pooled connection with a round trip before use only when it has sat idle for
    `idle_after` seconds: a server restart or an idle timeout closes connections that wait,
    and a dead one found here is replaced by the pool, so the request never sees it. A
    connection given back a moment ago is used at once: under load that saves one round trip
    (and one statement for PostgreSQL to run) per unit of work."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def idle_from_now(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_after:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(error)) from error  # the pool reconnects
            raise


class Database:
    """One database: the engine (created once), its migrations and its units of work."""

    def __init__(self, url: str | URL | None = None) -> None:
        self.url = _normalised(url if url is not None else default_database_url())
        self._write_lock: WriteLock | None = None
        #: Admission's reference reads, kept for this database's units of work (ADR 0070).
        self._references = ReferenceCache()
        if self.url.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(self.url)
            # SQLite has one writer at a time: this process's writers queue here first.
            self._write_lock = WriteLock(SQLITE_BUSY_TIMEOUT_MS / 1000)
        else:
            self.engine = _postgresql_engine(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Run the Alembic migrations to the newest revision; doing it twice changes nothing."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        """The migration the database is at (None before the first `upgrade`)."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def unit_of_work(
        self, ctx: RequestContext, now: Callable[[], datetime], *, read_only: bool = False
    ) -> SqlAlchemyUnitOfWork:
        """A unit of work on its own connection; `read_only` ones never take the write lock."""
        return SqlAlchemyUnitOfWork(
            self.engine,
            ctx,
            now,
            read_only=read_only,
            write_lock=self._write_lock,
            references=self._references,
        )

    def dispose(self) -> None:
        self.engine.dispose()
