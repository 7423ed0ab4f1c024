"""The demo report says what the application says: each reference scenario is run through the
application on a real database (SQLite, and PostgreSQL in CI), and every figure of its report
equals what the application's own reads of that same database answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from adapters.memory import FakeCustomerMaster
from application.balances import engagement_balances
from application.context import RequestContext
from application.documents import document_for_credit_memo, document_for_invoice
from application.queries.dashboard import Overview
from application.unit_of_work import UnitOfWork
from domain.ledger import Account, JournalEntry
from domain.money import Money
from entrypoints.composition.database import open_database
from entrypoints.composition.finance_reads import finance_queries
from entrypoints.demo.result import DocumentType, ScenarioResult
from entrypoints.demo.runner import run_scenario


def _report_and_books(
    database_url: str, number: int
) -> tuple[ScenarioResult, UnitOfWork, Overview]:
    database = open_database(database_url)
    report = run_scenario(number, database)
    ctx = RequestContext("test", f"demo-report-{number}")
    now = lambda: datetime.now(UTC)  # noqa: E731
    overview = finance_queries(database, FakeCustomerMaster(), now).dashboard.overview()
    return report, database.unit_of_work(ctx, now, read_only=True), overview


def _by_id(entries: Iterable[JournalEntry]) -> list[JournalEntry]:
    return sorted(entries, key=lambda e: e.entry_id)


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_every_figure_of_a_scenario_report_is_what_the_application_reads_back(
    database_url: str, number: int
) -> None:
    report, read, overview = _report_and_books(database_url, number)
    with read as uow:
        for doc in report.documents:
            stored = (
                document_for_invoice(uow, doc.document_id)
                if doc.type is DocumentType.INVOICE
                else document_for_credit_memo(uow, doc.document_id)
            )
            assert stored.number == doc.number
            assert (stored.net, stored.tax, stored.gross) == (doc.net, doc.tax, doc.gross)
            assert len(stored.lines) == len(doc.lines), doc.number
        for doc in report.invoices:
            invoice = uow.invoices.get(doc.document_id)
            assert (invoice.amount_paid, invoice.amount_credited, invoice.outstanding) == (
                doc.paid,
                doc.credited,
                doc.outstanding,
            )
        for figures in overview.by_currency:
            (trial,) = [t for t in report.trial_balances if t.currency == figures.currency]
            assert trial.balance(Account.RECEIVABLES) == figures.outstanding
            assert trial.balance(Account.CASH) == figures.paid
        positions = {(p.contract_id, p.obligation_id): p for p in report.positions}
        for engagement in uow.engagements.all():
            balances = engagement_balances(uow, engagement.engagement_id, report.as_of)
            for row in balances.obligations:
                shown = positions.pop((balances.contract_id, row.obligation_id))
                assert (shown.recognised, shown.billed) == (row.recognised, row.billed)
                assert (shown.unbilled_wip, shown.deferred) == (row.unbilled_wip, row.deferred)
        assert positions == {}
        assert _by_id(report.journal) == _by_id(uow.journal.all())
        assert len(report.exceptions) == len(uow.exceptions.all())


def test_the_scenarios_books_are_the_same_on_a_real_database_as_in_memory(
    database_url: str,
) -> None:
    on_disk, _, _ = _report_and_books(database_url, 1)
    in_memory = run_scenario(1)
    assert on_disk.documents == in_memory.documents
    assert on_disk.journal == in_memory.journal
    assert on_disk.positions == in_memory.positions
    # only the final milestone invoice is open: 130,900.00 net + 20 % VAT
    assert on_disk.trial_balances[0].balance(Account.RECEIVABLES) == Money.of("157080.00", "EUR")
