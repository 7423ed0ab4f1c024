"""The invoices' and credit memos' query ports: the same answers on every store, filtered,
scoped to the viewer and paged by keyset in the store."""

from __future__ import annotations

import pytest

from application.context import RequestContext
from application.queries.credit_memos import CreditMemoFilter
from application.queries.invoices import ISSUED_INVOICE_STATES, InvoiceFilter
from application.queries.paging import InvalidPageRequestError, PageRequest
from application.queries.viewer import Viewer
from domain.credit_memo import CreditMemoState
from tests.integration.read_side import Books, books_on
from tests.support.paging import every_row

__all__ = ["books_on"]

CTX = RequestContext("controller", "corr-invoices")
EVERYTHING = PageRequest(limit=200)


def _walk(books: Books, viewer: Viewer, wanted: InvoiceFilter) -> list[str]:
    """Every invoice id, one page of one row at a time."""
    rows = every_row(lambda request: books.queries.invoices.page(wanted, viewer, request))
    return [row.invoice_id for row in rows]


def test_the_firm_sees_every_invoice_once_in_id_order_page_by_page(books_on: Books) -> None:
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        every = sorted(i.invoice_id for i in uow.invoices.all())
    assert _walk(books_on, Viewer.staff(), InvoiceFilter()) == every
    assert len(every) >= 4


def test_the_list_shows_what_the_document_says(books_on: Books) -> None:
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        documents = {i.invoice_id: i for i in uow.invoices.all()}
    page = books_on.queries.invoices.page(InvoiceFilter(), Viewer.staff(), EVERYTHING)
    for row in page.items:
        invoice = documents[row.invoice_id]
        assert (row.state, row.customer_id, row.payer_id, row.number) == (
            invoice.state.value,
            invoice.customer_id,
            invoice.payer,
            invoice.number,
        )
        assert (row.gross, row.outstanding) == (invoice.totals.gross, invoice.outstanding)


def test_a_client_viewer_sees_only_its_customers_issued_invoices(books_on: Books) -> None:
    acme = books_on.world.acme.customer_id
    page = books_on.queries.invoices.page(InvoiceFilter(), Viewer.client(acme), EVERYTHING)
    assert page.items
    assert {row.customer_id for row in page.items} == {acme}
    assert all(row.state in {s.value for s in ISSUED_INVOICE_STATES} for row in page.items)
    drafts = InvoiceFilter(state="draft")
    assert not books_on.queries.invoices.page(drafts, Viewer.client(acme), EVERYTHING).items
    assert books_on.queries.invoices.page(drafts, Viewer.staff(), EVERYTHING).items


def test_filters_narrow_the_list_to_one_customer_and_one_state(books_on: Books) -> None:
    globex = books_on.world.globex.customer_id
    wanted = InvoiceFilter(state="draft", customer_id=globex)
    rows = books_on.queries.invoices.page(wanted, Viewer.staff(), EVERYTHING).items
    assert rows
    assert {(row.state, row.customer_id) for row in rows} == {("draft", globex)}


def test_another_customers_invoice_is_not_there_for_a_client_viewer(books_on: Books) -> None:
    world = books_on.world
    rows = books_on.queries.invoices.page(InvoiceFilter(), Viewer.staff(), EVERYTHING).items
    globex_issued = next(
        r.invoice_id for r in rows if r.customer_id == world.globex.customer_id and r.number
    )
    invoices = books_on.queries.invoices
    assert invoices.invoice(globex_issued, Viewer.client(world.acme.customer_id)) is None
    found = invoices.invoice(globex_issued, Viewer.client(world.globex.customer_id))
    assert found is not None
    assert found.invoice_id == globex_issued
    assert invoices.invoice("INV-NOPE", Viewer.staff()) is None


def test_a_client_viewer_sees_a_credit_memo_only_once_issued_and_only_its_own(
    books_on: Books,
) -> None:
    memos = books_on.queries.credit_memos
    every = memos.page(CreditMemoFilter(), Viewer.staff(), EVERYTHING).items
    acme = books_on.world.acme.customer_id
    mine = memos.page(CreditMemoFilter(), Viewer.client(acme), EVERYTHING).items
    assert mine
    assert {row.customer_id for row in mine} == {acme}
    assert {row.state for row in mine} == {CreditMemoState.ISSUED.value}
    assert {row.credit_memo_id for row in mine} < {row.credit_memo_id for row in every}
    (memo_id, *_) = [r.credit_memo_id for r in every if r.customer_id != acme]
    assert memos.credit_memo(memo_id, Viewer.client(acme)) is None
    document = memos.credit_memo(memo_id, Viewer.staff())
    assert document is not None
    assert document.memo.credit_memo_id == memo_id


def test_the_credit_memo_list_shows_what_the_memo_says(books_on: Books) -> None:
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        documents = {m.credit_memo_id: m for m in uow.credit_memos.all()}
    rows = books_on.queries.credit_memos.page(CreditMemoFilter(), Viewer.staff(), EVERYTHING)
    assert [row.credit_memo_id for row in rows.items] == sorted(documents)
    for row in rows.items:
        memo = documents[row.credit_memo_id]
        assert (row.invoice_id, row.state, row.number, row.issue_date, row.gross) == (
            memo.invoice_id,
            memo.state.value,
            memo.number,
            memo.issue_date,
            memo.totals.gross,
        )


def test_an_offset_cursor_from_before_keyset_pages_is_refused() -> None:
    with pytest.raises(InvalidPageRequestError):
        PageRequest.of(50, "o50")
