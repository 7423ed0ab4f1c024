"""The dashboard in one aggregate statement: invoices grouped by state, currency and whether
they are numbered, with the exact sums of their figure columns (migration 0018); credit memos
by state; integration exceptions by state and kind. One UNION ALL, so a request costs one round
trip and a handful of rows however many documents the books hold."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.data_version import data_version_of
from adapters.sqlalchemy.queries.exact import as_number, decimal_of, exact_sum, owed
from adapters.sqlalchemy.queries.reading import reading
from application.queries.dashboard import (
    OPEN_EXCEPTION_STATES,
    CurrencyFigures,
    Overview,
)
from application.records import ExceptionState
from domain.invoice import InvoiceState
from domain.money import Currency, Money

_OPEN = frozenset(s.value for s in (InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID))
_DISPUTED = InvoiceState.DISPUTED.value


class SqlDashboard:
    """`DashboardQueries` on SQLite and PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._version = data_version_of(engine)

    def version(self) -> int | None:
        """SQLite: `PRAGMA data_version` (adapters/sqlalchemy/data_version.py); else None."""
        return None if self._version is None else self._version()

    def overview(self) -> Overview:
        with reading(self._engine) as connection:
            rows = connection.execute(_statement(connection.dialect.name)).all()
        return _overview(rows)


def _overview(rows: list[Any]) -> Overview:
    invoices: Counter[str] = Counter()
    memos: Counter[str] = Counter()
    open_kinds: Counter[str] = Counter()
    dead = 0
    sums: defaultdict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(("issued", "paid", "outstanding", "disputed"), Decimal(0))
    )
    for row in rows:
        if row.family == "invoice":
            invoices[row.state] += row.n
            if row.numbered:
                _add(sums[row.key], row)
        elif row.family == "credit_memo":
            memos[row.state] += row.n
        elif ExceptionState(row.state) in OPEN_EXCEPTION_STATES:
            open_kinds[row.key] += row.n
        elif row.state == ExceptionState.DEAD.value:
            dead += row.n
    return Overview(
        invoices_by_state=dict(sorted(invoices.items())),
        awaiting_approval=invoices.get(InvoiceState.DRAFT.value, 0),
        credit_memos_by_state=dict(sorted(memos.items())),
        by_currency=tuple(_figures(code, amounts) for code, amounts in sorted(sums.items())),
        open_exceptions_by_kind=dict(sorted(open_kinds.items())),
        dead_exceptions=dead,
    )


def _add(into: dict[str, Decimal], row: Any) -> None:
    owed_now = decimal_of(row.owed)
    into["issued"] += decimal_of(row.gross)
    into["paid"] += decimal_of(row.paid)
    if row.state in _OPEN or row.state == _DISPUTED:
        into["outstanding"] += owed_now
    if row.state == _DISPUTED:
        into["disputed"] += owed_now


def _figures(code: str, amounts: dict[str, Decimal]) -> CurrencyFigures:
    currency = Currency.of(code)
    money = {name: Money(amount, currency) for name, amount in amounts.items()}
    return CurrencyFigures(
        code, money["outstanding"], money["disputed"], money["issued"], money["paid"]
    )


def _constant(value: str) -> sa.ColumnElement[str]:
    """A constant of this module written into the statement (no parameter to bind per call)."""
    assert value.replace("_", "").isalnum() or not value, value
    return sa.literal_column(f"'{value}'", sa.String())


@functools.cache
def _statement(dialect: str) -> sa.CompoundSelect:
    i, m, x = t.invoices.c, t.credit_memos.c, t.integration_exceptions.c

    gross, paid = as_number(dialect, i.gross), as_number(dialect, i.paid)
    credited, written_off = as_number(dialect, i.credited), as_number(dialect, i.written_off)
    numbered = sa.case((i.number.is_(None), 0), else_=1)
    currency = i.currency
    # Only an open invoice is owed: the others need not be computed row by row.
    open_ = sa.or_(*(i.state == _constant(state) for state in sorted({*_OPEN, _DISPUTED})))
    still_owed = owed(dialect, gross, paid, credited, written_off)
    nothing = sa.null()
    invoices = sa.select(
        _constant("invoice").label("family"),
        i.state.label("state"),
        currency.label("key"),
        numbered.label("numbered"),
        sa.func.count().label("n"),
        exact_sum(dialect, gross).label("gross"),
        exact_sum(dialect, paid).label("paid"),
        exact_sum(dialect, sa.case((open_, still_owed))).label("owed"),
    ).group_by(i.state, currency, numbered)
    memos = sa.select(
        _constant("credit_memo"),
        m.state,
        _constant(""),
        sa.literal_column("0"),
        sa.func.count(),
        nothing,
        nothing,
        nothing,
    ).group_by(m.state)
    kind = x.body["kind"].as_string()
    exceptions = sa.select(
        _constant("exception"),
        x.state,
        kind,
        sa.literal_column("0"),
        sa.func.count(),
        nothing,
        nothing,
        nothing,
    ).group_by(x.state, kind)
    return sa.union_all(invoices, memos, exceptions)
