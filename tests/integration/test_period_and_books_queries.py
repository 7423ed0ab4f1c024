"""The periods' and the books' query ports: the same answers on every store; periods and
journal entries paged by keyset, each row once and in order."""

from __future__ import annotations

from datetime import date

from application import commands as c
from application.context import RequestContext
from application.journal import JournalFilter, posted_entries, trial_balance
from application.journal_export import JournalExport, entries_to_export
from application.leakage import LeakageQuery, leakage
from application.queries.paging import PageRequest
from application.queries.viewer import Viewer
from domain.accounting_period import PeriodState
from domain.period import Period
from tests.integration.read_side import Books, books_on
from tests.support.paging import every_row

__all__ = ["books_on"]

CTX = RequestContext("controller", "corr-books")
MONTHS = [Period.month(2025, 12), Period.month(2026, 1), Period.month(2026, 2)]


def _close_three_months_and_reopen_january(books: Books) -> None:
    for month in MONTHS:
        books.app.do(c.ClosePeriod(month), actor="controller")
    books.app.do(c.ReopenPeriod(MONTHS[1], "late supplier invoice"), actor="controller")


def test_periods_are_listed_once_each_by_start_and_filtered_by_state(books_on: Books) -> None:
    _close_three_months_and_reopen_january(books_on)
    periods = books_on.queries.periods
    assert [p.period for p in every_row(lambda request: periods.page(None, request))] == MONTHS
    closed = periods.page("closed", PageRequest()).items
    assert [p.period for p in closed] == [MONTHS[0], MONTHS[2]]
    assert periods.period(MONTHS[1]).reopen_reason == "late supplier invoice"


def test_a_month_nobody_closed_is_open(books_on: Books) -> None:
    assert books_on.queries.periods.period(Period.month(2026, 3)).state is PeriodState.OPEN


def test_journal_entries_are_paged_by_date_then_posting_order_each_once(books_on: Books) -> None:
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        expected = [p.entry_id for p in posted_entries(uow, JournalFilter())]
    assert expected
    journal = books_on.queries.books.journal_entries
    rows = every_row(lambda request: journal(JournalFilter(), request), size=2)
    assert [row.entry.entry_id for row in rows] == expected


def test_the_trial_balance_export_and_leakage_are_the_applications_own(books_on: Books) -> None:
    books = books_on.queries.books
    march = Period.month(2026, 3)
    export = JournalExport.months(march, march)
    query = LeakageQuery(date(2026, 3, 31))
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        (entity, *_) = sorted({p.legal_entity_id for p in uow.journal.postings()})
        assert books.trial_balance(march, entity) == trial_balance(uow, march, entity)
        assert books.journal_export(export) == entries_to_export(uow, export)
        assert books.leakage(query) == leakage(uow, query)


def test_balances_are_there_for_the_firm_and_the_engagements_own_client_only(
    books_on: Books,
) -> None:
    acme, globex = books_on.world.acme, books_on.world.globex
    books, day = books_on.queries.books, date(2026, 3, 31)
    found = books.balances(acme.engagement_id, Viewer.staff(), day)
    assert found is not None
    assert found.engagement_id == acme.engagement_id
    assert books.balances(acme.engagement_id, Viewer.client(acme.customer_id), day) == found
    assert books.balances(acme.engagement_id, Viewer.client(globex.customer_id), day) is None
    assert books.balances("E-NOPE", Viewer.staff(), day) is None
