"""The databases the composition root can open: `memory://` (the in-memory unit of work, one
store per process) or a SQLAlchemy URL (imported only when asked for, so that
`throughline --version` stays fast), and read-only units of work over either."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from application.context import RequestContext
from application.ports import Clock
from application.unit_of_work import UnitOfWork
from entrypoints.composition.settings import MEMORY_URL

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


class DatabaseUrlError(ValueError):
    """The database URL names no database this build can open."""


Reader = Callable[[RequestContext], UnitOfWork]


class Database(Protocol):
    """What the composition root needs of a database: schema, units of work, cleanup."""

    def upgrade(self) -> None: ...

    def unit_of_work(
        self, ctx: RequestContext, now: Callable[[], datetime], *, read_only: bool = False
    ) -> UnitOfWork: ...

    def dispose(self) -> None: ...


class MemoryDatabase:
    """`memory://`: the in-memory unit of work over one store that lives with the process."""

    def __init__(self) -> None:
        self.store = InMemoryStore()

    def upgrade(self) -> None:
        """An in-memory store has no schema to migrate."""

    def unit_of_work(
        self, ctx: RequestContext, now: Callable[[], datetime], *, read_only: bool = False
    ) -> UnitOfWork:
        return InMemoryUnitOfWork(self.store, ctx, now, read_only=read_only)

    def dispose(self) -> None:
        """Nothing to release; the store lives as long as this object."""


def open_database(url: str) -> Database:
    """The database a URL names (no connection is made until a unit of work needs one)."""
    if url.startswith(MEMORY_URL):
        return MemoryDatabase()
    if not _URL.match(url):
        raise DatabaseUrlError(
            f"{redact(url)!r} is not a database URL; expected e.g. sqlite:///var/throughline.db,"
            " postgresql+psycopg://user@host/db or memory://"
        )
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from adapters.sqlalchemy.database import Database as SqlDatabase
    from adapters.sqlalchemy.database import UnsupportedDatabaseError

    try:
        return SqlDatabase(url)
    except (ArgumentError, NoSuchModuleError, UnsupportedDatabaseError) as error:
        raise DatabaseUrlError(f"cannot open {redact(url)}: {error}") from None


def redact(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def reader(database: Database, clock: Clock) -> Reader:
    """Units of work for questions only: they never commit, and on SQLite never take the
    write lock, so reading does not queue behind writers."""
    return lambda ctx: database.unit_of_work(ctx, clock.now, read_only=True)
