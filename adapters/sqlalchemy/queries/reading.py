"""One read on its own connection: a read-only transaction (SQLite opens it deferred, so it
never waits for the write lock), with the exact decimal functions ready; and the steps the
query ports share on it (an object by its id, a keyset page)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapters.serialization import structure
from adapters.sqlalchemy.queries.exact import prepare
from adapters.sqlalchemy.unit_of_work import READ_ONLY
from application.queries.paging import PageRequest

T = TypeVar("T")


class EngineQueries:
    """A query port answered from SQLite or PostgreSQL, each call on a `reading` connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for one query port call; it never commits."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        prepare(connection)
        yield connection


def stored(connection: Connection, table: sa.Table, key: str, kind: type[T]) -> T | None:
    """The object kept as the JSON `body` of the row of `table` whose `id` is `key`; None
    when there is no such row."""
    body = connection.execute(sa.select(table.c.body).where(table.c.id == key)).scalar_one_or_none()
    return None if body is None else structure(body, kind)


def after(column: sa.ColumnElement[str], request: PageRequest) -> sa.ColumnElement[bool]:
    """Rows past the keyset position of `request` on a one-column sort key (all rows on the
    first page)."""
    if request.after is None:
        return sa.true()
    return column > request.after[0]


def keyset(
    statement: sa.Select[Any], column: sa.ColumnElement[str], request: PageRequest
) -> sa.Select[Any]:
    """`statement` ordered by its one-column sort key, past the position of `request`, at most
    one row beyond the page (which tells whether there is a next one)."""
    if request.after is not None:
        statement = statement.where(column > request.after[0])
    return statement.order_by(column).limit(request.limit + 1)
