"""One read on its own connection: a read-only transaction (SQLite opens it deferred, so it
never waits for the write lock), with the exact decimal functions ready."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from adapters.sqlalchemy.queries.exact import prepare
from adapters.sqlalchemy.unit_of_work import READ_ONLY


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for one query port call; it never commits."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        prepare(connection)
        yield connection
