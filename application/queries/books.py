"""The finance reports that are answered from the books as a whole, through one read-only unit
of work per call: the posted journal (entries, trial balance, charts in force, the export),
the leakage report and an engagement's balances.

Their rules are the application's own (`application.journal`, `journal_export`, `leakage`,
`balances`); `UnitOfWorkBooks` is the query port over any store's read-only units of work,
so every store answers the same. Entries are paged by keyset over (posting date, posting
order): the journal is append-only, so a position never moves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

import attrs

from application.balances import EngagementBalances, engagement_balances
from application.journal import (
    JournalFilter,
    TrialBalanceRow,
    charts_in_force,
    posted_entries,
    trial_balance,
)
from application.journal_export import JournalExport, entries_to_export
from application.leakage import LeakageQuery, leakage
from application.queries.paging import Page, PageRequest
from application.queries.viewer import Viewer
from application.records import PostedEntry
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import ChartOfAccounts, ChartsOfAccounts
from domain.leakage import LeakageReport
from domain.period import Period


@attrs.frozen
class JournalRow:
    """A posted entry and its position in the journal (the n-th ever posted)."""

    entry: PostedEntry
    ordinal: int


def journal_key(row: JournalRow) -> tuple[str, str]:
    """The entry list's sort key: posting date, then posting order."""
    return (row.entry.posted_on.isoformat(), f"{row.ordinal:012d}")


class BooksQueries(Protocol):
    """The query port of the reports answered from the books as a whole."""

    def journal_entries(self, wanted: JournalFilter, request: PageRequest) -> Page[JournalRow]:
        """The posted entries the filter admits, by date then posting order, one page."""
        ...

    def trial_balance(self, period: Period, legal_entity_id: str) -> list[TrialBalanceRow]:
        """What a legal entity's entries of the month moved, per account and currency."""
        ...

    def charts(self, configured: ChartsOfAccounts | None) -> list[ChartOfAccounts]:
        """Per legal entity, the chart finance set, else the one the deployment configured."""
        ...

    def journal_export(self, export: JournalExport) -> list[PostedEntry]:
        """The entries of the export's months (and legal entity), as the ERP received them."""
        ...

    def leakage(self, query: LeakageQuery) -> LeakageReport:
        """The leakage report the query asks for (`NotFoundError` for a named unknown)."""
        ...

    def balances(
        self, engagement_id: str, viewer: Viewer, as_of: date
    ) -> EngagementBalances | None:
        """The engagement's balances on `as_of`; None when it does not exist or `viewer` may
        not see it."""
        ...


@attrs.frozen
class UnitOfWorkBooks:
    """`BooksQueries` over read-only units of work of any store."""

    read: Callable[[], UnitOfWork]

    def journal_entries(self, wanted: JournalFilter, request: PageRequest) -> Page[JournalRow]:
        with self.read() as uow:
            ordinals = {p.entry_id: n for n, p in enumerate(uow.journal.postings())}
            rows = [JournalRow(p, ordinals[p.entry_id]) for p in posted_entries(uow, wanted)]
        if request.after is not None:
            position = tuple(request.after)
            rows = [row for row in rows if journal_key(row) > position]
        return Page.from_rows(rows[: request.limit + 1], request, journal_key)

    def trial_balance(self, period: Period, legal_entity_id: str) -> list[TrialBalanceRow]:
        with self.read() as uow:
            return trial_balance(uow, period, legal_entity_id)

    def charts(self, configured: ChartsOfAccounts | None) -> list[ChartOfAccounts]:
        with self.read() as uow:
            return charts_in_force(uow, configured)

    def journal_export(self, export: JournalExport) -> list[PostedEntry]:
        with self.read() as uow:
            return entries_to_export(uow, export)

    def leakage(self, query: LeakageQuery) -> LeakageReport:
        with self.read() as uow:
            return leakage(uow, query)

    def balances(
        self, engagement_id: str, viewer: Viewer, as_of: date
    ) -> EngagementBalances | None:
        with self.read() as uow:
            engagement = uow.engagements.find(engagement_id)
            if engagement is None or not viewer.sees(engagement.customer_id):
                return None
            return engagement_balances(uow, engagement_id, as_of)
