"""The bulk insert path: one executemany straight to the driver.

SQLAlchemy's own executemany builds and processes a parameter dictionary per row through its
compiled-statement machinery, which costs more than the database does for narrow rows. Here
the INSERT is compiled once per table, column list and dialect, the columns' own bind
processors (the same `ExactDecimal`, `UtcDateTime`, JSON and date conversions the Core path
uses, so reads see exactly what Core would have written) are applied in one tight loop, and
the rows go to the driver as they are: `executemany` on SQLite, `COPY ... FROM STDIN` on
PostgreSQL (an order of magnitude faster than a pipelined executemany there).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from adapters.sqlalchemy.driver import driver_many

Processor = Callable[[Any], Any] | None

_JSON_TEXT = msgspec.json.Encoder()


class EncodedJson(str):
    """A JSON document already written as text: the bulk insert hands it to the driver as it
    is, where the column's JSON processor would have written the document."""


def encoded_json(document: Any) -> Any:
    """A snapshot checked to hold only plain JSON values (`adapters.serialization`) as compact
    JSON text, written by msgspec (about five times faster than `json.dumps` on an invoice);
    a document it cannot write (a string holding a lone surrogate) is given back as it is,
    for the column's own processor. The text differs from `json.dumps`'s only in its
    whitespace and in writing non-ASCII characters as themselves (ADR 0060)."""
    try:
        return EncodedJson(_JSON_TEXT.encode(document).decode())
    except (msgspec.EncodeError, UnicodeEncodeError):
        return document


def _passing_encoded(processor: Processor) -> Processor:
    """A JSON column's processor that lets text already encoded through."""
    if processor is None:
        return None
    process = processor

    def passing(value: Any) -> Any:
        return value if type(value) is EncodedJson else process(value)

    return passing


@functools.lru_cache(maxsize=512)
def _compiled(
    table: sa.Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...], bool, tuple[Processor, ...]]:
    compiled = table.insert().compile(
        dialect=dialect, column_keys=list(names), for_executemany=True
    )
    order = tuple(compiled.positiontup or ()) if compiled.positional else names
    processors = tuple(_processor(table.c[name], dialect) for name in order)
    return compiled.string, order, compiled.positional, processors


def _processor(column: sa.Column[Any], dialect: Dialect) -> Processor:
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _passing_encoded(processor) if isinstance(column.type, sa.JSON) else processor


def insert_many(connection: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that all have the same keys, in one driver-level statement."""
    if not rows:
        return
    names = tuple(rows[0])
    if connection.dialect.name == "postgresql":
        _copy(connection, table, names, rows)
        return
    sql, order, positional, processors = _compiled(table, names, connection.dialect)
    pairs = tuple(zip(order, processors, strict=True))
    if positional:
        params: list[Any] = [
            tuple(row[name] if p is None else p(row[name]) for name, p in pairs) for row in rows
        ]
    else:
        params = [
            {name: row[name] if p is None else p(row[name]) for name, p in pairs} for row in rows
        ]
    if positional:
        driver_many(connection, sql, params)
    else:
        connection.exec_driver_sql(sql, params)


def insert_all_or_none(
    connection: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """`insert_many`, and when a row is refused (a duplicate key) none of them stays and the
    transaction goes on: a savepoint around them, except for one row on SQLite, which undoes
    a failed statement by itself (a savepoint there costs two more statements)."""
    if len(rows) == 1 and connection.dialect.name == "sqlite":
        insert_many(connection, table, rows)
        return
    with connection.begin_nested():
        insert_many(connection, table, rows)


def insert_values_all_or_none(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    values: Sequence[tuple[Any, ...]],
) -> None:
    """`insert_all_or_none` for rows already converted to what the driver takes, in the order
    of `names` (a hot path that converts its own columns: see `delivery_store`)."""
    if not values:
        return
    if len(values) == 1 and connection.dialect.name == "sqlite":
        _insert_values(connection, table, names, values)
        return
    with connection.begin_nested():
        _insert_values(connection, table, names, values)


def _insert_values(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    values: Sequence[tuple[Any, ...]],
) -> None:
    if connection.dialect.name == "postgresql":
        _copy_values(connection, table, names, values)
        return
    sql, order, positional, _ = _compiled(table, names, connection.dialect)
    assert positional, "SQLite's parameters are positional"
    assert order == names, "the driver's parameter order is the column order"
    driver_many(connection, sql, values)


def _copy(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    processors = _compiled(table, names, connection.dialect)[3]
    pairs = tuple(zip(names, processors, strict=True))
    _copy_values(
        connection,
        table,
        names,
        [tuple(row[n] if p is None else p(row[n]) for n, p in pairs) for row in rows],
    )


def _copy_values(
    connection: Connection,
    table: sa.Table,
    names: tuple[str, ...],
    values: Sequence[tuple[Any, ...]],
) -> None:
    import psycopg

    columns = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in names)
    statement = (
        f"COPY {connection.dialect.identifier_preparer.format_table(table)} ({columns}) FROM STDIN"
    )
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.errors.IntegrityError as error:
        raise sa.exc.IntegrityError(statement, None, error) from error
