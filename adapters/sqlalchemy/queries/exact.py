"""Exact sums of decimal amounts inside the database.

PostgreSQL adds NUMERIC exactly. SQLite has no decimal type: its SUM would turn the stored
decimal strings into floats. So on SQLite the read side registers two small functions on each
connection it reads through, `tl_exact_sum` (an aggregate) and `tl_owed` (what is still owed
of one invoice, never below zero), both computing with `Decimal` in the exact context and
answering the decimal string; the expressions below pick the right form per dialect.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.money import EXACT

_REGISTERED = "throughline_exact_functions"


_ZERO = Decimal(0)


def _decimal(value: Any) -> Decimal:
    if value is None:
        return _ZERO
    if isinstance(value, float):  # pragma: no cover - exact columns never hold one
        raise TypeError("an exact sum was handed a float")
    return Decimal(value)


class _ExactSum:
    """SQLite aggregate: the exact sum of decimal strings (NULL when every value is NULL)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is not None:
            self.total = EXACT.add(self.total or _ZERO, Decimal(value))

    def finalize(self) -> str | None:
        return None if self.total is None else format(self.total, "f")


def _owed(gross: Any, paid: Any, credited: Any, written_off: Any) -> str:
    owed = EXACT.subtract(EXACT.subtract(_decimal(gross), _decimal(paid)), _decimal(credited))
    if written_off is not None:
        owed = EXACT.subtract(owed, Decimal(written_off))
    return format(owed, "f") if owed > 0 else "0"


def prepare(connection: Connection) -> None:
    """Make the exact functions available on this connection (once per pooled SQLite
    connection; nothing to do on PostgreSQL)."""
    if connection.dialect.name != "sqlite":
        return
    pooled = connection.connection
    if pooled.info.get(_REGISTERED):
        return
    raw: Any = pooled.driver_connection
    raw.create_aggregate("tl_exact_sum", 1, _ExactSum)
    raw.create_function("tl_owed", 4, _owed, deterministic=True)
    pooled.info[_REGISTERED] = True


def as_number(dialect: str, text: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A stored decimal (JSON text or an exact column) as the dialect computes with it."""
    return text if dialect == "sqlite" else sa.cast(text, sa.Numeric())


def exact_sum(dialect: str, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """SUM, exactly, on either database."""
    if dialect == "sqlite":
        return sa.func.tl_exact_sum(value)
    return sa.func.sum(value)


def owed(
    dialect: str,
    gross: sa.ColumnElement[Any],
    paid: sa.ColumnElement[Any],
    credited: sa.ColumnElement[Any],
    written_off: sa.ColumnElement[Any],
) -> sa.ColumnElement[Any]:
    """Gross less payments, credits and write-offs, never below zero (`InvoiceFigures`)."""
    if dialect == "sqlite":
        return sa.func.tl_owed(gross, paid, credited, written_off)
    zero = sa.literal(0, sa.Numeric())
    rest = (
        gross
        - sa.func.coalesce(paid, zero)
        - sa.func.coalesce(credited, zero)
        - sa.func.coalesce(written_off, zero)
    )
    return sa.func.greatest(rest, zero)


def decimal_of(value: Any) -> Decimal:
    """A summed value as it comes back (a string on SQLite, NUMERIC on PostgreSQL)."""
    return _decimal(value)
