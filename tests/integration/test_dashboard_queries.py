"""The dashboard's query port answers the same on every store, and what it answers is the
application's rule (`overview_of`) applied to the documents themselves."""

from __future__ import annotations

from decimal import Decimal

from application.context import RequestContext
from application.queries.dashboard import Overview, overview_of
from domain.invoice import InvoiceState
from tests.integration.read_side import Books, books_on

__all__ = ["books_on"]

CTX = RequestContext("controller", "corr-dashboard")


def _by_the_rule(books: Books) -> Overview:
    with books.app.bus.deps.uow(CTX, read_only=True) as uow:
        return overview_of(
            (invoice.figures for invoice in uow.invoices.all()),
            (memo.state.value for memo in uow.credit_memos.all()),
            ((x.kind.value, x.state) for x in uow.exceptions.all()),
        )


def test_the_dashboard_adds_up_the_documents_as_the_application_rule_does(books_on: Books) -> None:
    assert books_on.queries.dashboard.overview() == _by_the_rule(books_on)


def test_drafts_wait_for_a_checker_and_what_is_owed_is_what_was_issued_less_what_was_paid(
    books_on: Books,
) -> None:
    overview = books_on.queries.dashboard.overview()
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        invoices = uow.invoices.all()
    drafts = [i for i in invoices if i.state is InvoiceState.DRAFT]
    issued = [i for i in invoices if i.number is not None]
    assert overview.awaiting_approval == len(drafts) > 0
    (eur,) = overview.by_currency
    assert eur.issued_gross.amount == sum((i.totals.gross.amount for i in issued), Decimal(0))
    assert eur.paid.amount == sum((i.amount_paid.amount for i in issued), Decimal(0))
    assert eur.outstanding.amount == sum((i.outstanding.amount for i in issued), Decimal(0))


def test_the_failed_hand_over_is_an_open_exception_on_the_dashboard(books_on: Books) -> None:
    overview = books_on.queries.dashboard.overview()
    assert sum(overview.open_exceptions_by_kind.values()) == 1
    assert overview.dead_exceptions == 0
