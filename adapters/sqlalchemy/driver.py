"""The write path's fixed statements sent straight to SQLite's driver (ADR 0068, amendment
"statements on the driver").

Through SQLAlchemy a statement costs about 20 µs on top of the driver's 1.5 µs when it is a
Core statement built once, and about 8 µs as driver text (`exec_driver_sql`): an execution
context, a cursor result, the statement events. A `POST /time-entries` runs nine of them. On
SQLite, inside a transaction that SQLAlchemy began, these helpers run them on the connection's
own DBAPI cursor instead:

- `driver_rows`: SQL text with positional parameters, the driver's rows (what
  `exec_driver_sql` gave, without its `Row` wrapper);
- `DriverStatement`: a Core statement compiled once per dialect and set of parameter names,
  its parameters converted by the same bind processors SQLAlchemy would apply, so the driver
  receives the same SQL text and values and the stored rows are the same.

Everything else keeps SQLAlchemy's way: PostgreSQL, a connection outside a transaction, and
any connection whose statements something listens to (the SQL spans of a traced process, a
statement count), so those listeners still see every statement. A driver error is raised as
SQLAlchemy raises it (`DBAPIError.instance`: `IntegrityError`, `OperationalError`), so callers
catch the same exceptions either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler


def on_driver(connection: Connection) -> bool:
    """Whether this connection's statements may skip SQLAlchemy: SQLite, in a transaction,
    and nothing listening to its statements."""
    dispatch = connection.dispatch
    return (
        connection.dialect.name == "sqlite"
        and connection.in_transaction()
        and not dispatch.before_cursor_execute
        and not dispatch.after_cursor_execute
        and not connection.dialect.dispatch.handle_error
    )


def driver_rows(
    connection: Connection, sql: str, parameters: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """The rows of SQL text with positional parameters, as the driver returns them."""
    if not on_driver(connection):
        return [tuple(row) for row in connection.exec_driver_sql(sql, tuple(parameters))]
    rows, _ = _run(connection, sql, parameters)
    return rows


class DriverStatement:
    """A Core statement run on SQLite's driver, compiled once per set of parameter names."""

    def __init__(self, statement: sa.Executable) -> None:
        self._statement = statement
        self._compiled: dict[tuple[str, ...], _Compiled | None] = {}
        self._columns: tuple[tuple[str, ...], tuple[Any, ...]] | None = None

    def execute(
        self, connection: Connection, parameters: Mapping[str, Any]
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """(rows changed, rows returned): the driver's row count and its `RETURNING` rows."""
        compiled = self._for(connection, parameters) if on_driver(connection) else None
        if compiled is None:
            result = connection.execute(self._statement, dict(parameters))
            returned = [tuple(row) for row in result] if result.returns_rows else []
            return result.rowcount, returned
        rows, count = self._run(connection, compiled, parameters)
        return count, rows

    @staticmethod
    def _run(
        connection: Connection, compiled: _Compiled, parameters: Mapping[str, Any]
    ) -> tuple[list[tuple[Any, ...]], int]:
        sql, order = compiled
        values = [
            fixed if name is None else parameters[name] if p is None else p(parameters[name])
            for name, p, fixed in order
        ]
        return _run(connection, sql, values)

    @property
    def statement(self) -> sa.Executable:
        """The Core statement, as SQLAlchemy runs it."""
        return self._statement

    def rows(self, connection: Connection, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows a query returns, each value converted by its column type's result
        processor as SQLAlchemy's result converts it."""
        compiled = self._for(connection, parameters) if on_driver(connection) else None
        if compiled is None:
            return [tuple(row) for row in connection.execute(self._statement, dict(parameters))]
        rows, _ = self._run(connection, compiled, parameters)
        _, processors = self._results(connection)
        if not any(processors):
            return rows
        return [
            tuple(v if p is None else p(v) for v, p in zip(row, processors, strict=True))
            for row in rows
        ]

    def mappings(
        self, connection: Connection, parameters: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """`rows`, each as a mapping by result column name."""
        names, _ = self._results(connection)
        return [dict(zip(names, row, strict=True)) for row in self.rows(connection, parameters)]

    def _results(self, connection: Connection) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        """The result columns' names and result processors (compiled once)."""
        if self._columns is None:
            dialect = connection.dialect
            compiled = self._statement.compile(dialect=dialect)
            columns = compiled._result_columns  # type: ignore[attr-defined]
            self._columns = (
                tuple(c.keyname for c in columns),
                tuple(c.type._cached_result_processor(dialect, None) for c in columns),
            )
        return self._columns

    def _for(self, connection: Connection, parameters: Mapping[str, Any]) -> _Compiled | None:
        names = tuple(parameters)
        if names not in self._compiled:
            self._compiled[names] = _compile(self._statement, connection, names)
        return self._compiled[names]


#: The SQL text and, in the driver's order, each parameter's name and bind processor, or
#: (None, None, the value) for one the statement itself holds.
_Compiled = tuple[str, tuple[tuple[str | None, Any, Any], ...]]


def _compile(
    statement: sa.Executable, connection: Connection, names: tuple[str, ...]
) -> _Compiled | None:
    """The statement as SQLAlchemy compiles it for these parameters; None when SQLAlchemy
    would add anything of its own at execution (a column default, an expanding list)."""
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(names))
    if not isinstance(compiled, SQLCompiler) or not compiled.positional:
        return None
    added = ("insert_prefetch", "update_prefetch", "postfetch", "post_compile_params")
    if any(getattr(compiled, name, None) for name in added):
        return None
    processors = compiled._bind_processors
    order: list[tuple[str | None, Any, Any]] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None
        if name in names:
            order.append((name, processors.get(name), None))
        elif bind.required:
            return None
        else:
            processor = processors.get(name)
            order.append((None, None, bind.value if processor is None else processor(bind.value)))
    return compiled.string, tuple(order)


def _run(
    connection: Connection, sql: str, parameters: Sequence[Any]
) -> tuple[list[tuple[Any, ...]], int]:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, parameters)
        return cursor.fetchall(), cursor.rowcount
    except sqlite3.Error as error:
        raise sa.exc.DBAPIError.instance(sql, parameters, error, sqlite3.Error) from error
    finally:
        cursor.close()


def driver_many(connection: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """SQL text run once per row of positional parameters (one statement for one row)."""
    if not on_driver(connection):
        connection.exec_driver_sql(sql, list(rows))
        return
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)
    except sqlite3.Error as error:
        raise sa.exc.DBAPIError.instance(sql, rows, error, sqlite3.Error) from error
    finally:
        cursor.close()
