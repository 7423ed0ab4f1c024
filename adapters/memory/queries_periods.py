"""Accounting periods over the in-memory store, paged as the SQL store pages."""

from __future__ import annotations

from adapters.memory.queries_paging import page_of
from adapters.memory.store import StoreQueries
from application.queries.paging import Page, PageRequest
from application.queries.periods import never_closed, period_key
from domain.accounting_period import AccountingPeriod
from domain.period import Period


class MemoryPeriods(StoreQueries):
    """`PeriodQueries` on the in-memory store."""

    def page(self, state: str | None, request: PageRequest) -> Page[AccountingPeriod]:
        periods = list(self._store.data.periods.values())
        chosen = (p for p in periods if state in (None, p.state.value))
        return page_of(chosen, period_key, request)

    def period(self, period: Period) -> AccountingPeriod:
        return self._store.data.periods.get(period) or never_closed(period)
