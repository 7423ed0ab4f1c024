"""Accounting periods on SQL: filtered by state, sorted by start and end, keyset-paged by the
database on the period's date columns."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, reading, stored
from application.queries.paging import Page, PageRequest
from application.queries.periods import never_closed, period_key
from domain.accounting_period import AccountingPeriod
from domain.period import Period

_P = t.accounting_periods.c


class SqlPeriods(EngineQueries):
    """`PeriodQueries` on SQLite and PostgreSQL."""

    def page(self, state: str | None, request: PageRequest) -> Page[AccountingPeriod]:
        statement = sa.select(_P.body)
        if state is not None:
            statement = statement.where(_P.state == state)
        if request.after is not None:
            start, end = (date.fromisoformat(part) for part in request.after[:2])
            statement = statement.where(
                sa.or_(
                    _P.period_start > start, sa.and_(_P.period_start == start, _P.period_end > end)
                )
            )
        statement = statement.order_by(_P.period_start, _P.period_end).limit(request.limit + 1)
        with reading(self._engine) as connection:
            bodies = connection.execute(statement).scalars().all()
        found = [structure(body, AccountingPeriod) for body in bodies]
        return Page.from_rows(found, request, period_key)

    def period(self, period: Period) -> AccountingPeriod:
        with reading(self._engine) as connection:
            found = stored(connection, t.accounting_periods, period.key, AccountingPeriod)
        return never_closed(period) if found is None else found
