"""A small batch of new rows on PostgreSQL: one prepared INSERT from arrays, no savepoint.

`bulk.insert_values_all_or_none` copies rows in (`COPY ... FROM STDIN`) inside a savepoint, so
a refused row leaves none of them and the transaction goes on. For the few rows of an HTTP
request that costs more than the rows: on the bench's world one `COPY` of one time entry took
about 0.19 ms of the server against about 0.05 ms for an INSERT, a COPY is two round trips and
is never prepared, and the savepoint is two more statements and a subtransaction whose id the
rows carry (ADR 0068, amendment "fewer statements on PostgreSQL").

Here the rows go in as one `INSERT ... SELECT ... FROM unnest(<one array per column>)`: one
statement text whatever the number of rows, so psycopg prepares it like any other statement
of the hot path. One statement is all or nothing by itself; what the savepoint added is that
the transaction could go on after a refusal. The callers of this path do not go on: a refused
row is a conflict that ends their unit of work (the caller says so where it calls it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

#: Up to this many rows a batch goes in as one INSERT from arrays; a larger one is copied in
#: (COPY's fixed cost is then spread over the rows, and a bulk load keeps its own path).
INSERT_FROM_ARRAYS_UP_TO = 100


@functools.cache
def _statement(table: sa.Table, names: tuple[str, ...]) -> str:
    """The INSERT of rows given as one array per column of `names`, in the arrays' order (a
    serial key is numbered in that order, as COPY numbers rows in theirs)."""
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]" for name in names)
    return (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns})"
        f" SELECT {columns} FROM unnest({arrays}) WITH ORDINALITY AS row ({columns}, n)"
        " ORDER BY n"
    )


def insert_from_arrays(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    values: Sequence[tuple[Any, ...]],
) -> None:
    """Insert the rows (already converted to what the driver takes, in the order of `names`)
    in one statement; a refused row (a duplicate key) is raised as SQLAlchemy's
    `IntegrityError` and leaves the transaction aborted, to be rolled back."""
    if not values:
        return
    statement = _statement(table, names)
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection), "the PostgreSQL driver is psycopg 3"
    try:
        driver.execute(statement, [list(column) for column in zip(*values, strict=True)])
    except psycopg.Error as error:
        wrapped = sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error)
        raise wrapped from error
