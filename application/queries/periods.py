"""Accounting periods as the period screen lists them: the periods that were ever closed
(any other month is open), by start then end, in keyset pages."""

from __future__ import annotations

from typing import Protocol

from application.queries.paging import Page, PageRequest
from domain.accounting_period import AccountingPeriod, PeriodState
from domain.period import Period


class PeriodQueries(Protocol):
    """The accounting periods' query port."""

    def page(self, state: str | None, request: PageRequest) -> Page[AccountingPeriod]:
        """The stored periods (only those in `state`, if named), one keyset page."""
        ...

    def period(self, period: Period) -> AccountingPeriod:
        """The period as it stands; a month never closed is open."""
        ...


def period_key(found: AccountingPeriod) -> tuple[str, str]:
    """The list's sort key (its keyset position): start, then end."""
    return (found.period.start.isoformat(), found.period.end.isoformat())


def never_closed(period: Period) -> AccountingPeriod:
    """A month nobody closed: open."""
    return AccountingPeriod(period, PeriodState.OPEN)
