"""The printable invoice of every document the four reference scenarios issue (domain guide
section 9), loaded once into a SQLite file through the real application: every figure of each
invoice and credit note is found in its PDF's text, and the PDF renders the same bytes twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.documents.pdf import render_pdf, title_of
from adapters.memory import FakeClock
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.document_view import DocumentType, DocumentView
from application.documents import document_for_credit_memo, document_for_invoice
from domain.credit_memo import CreditMemoState
from domain.invoice import InvoiceState
from entrypoints.composition.database import reader
from entrypoints.demo.firm import DEMO_START
from entrypoints.demo.loader import load_reference_scenarios
from tests.support.pdf_reading import figures, page_texts, words

UNISSUED = {InvoiceState.DRAFT, InvoiceState.APPROVED, InvoiceState.DISCARDED}


@pytest.fixture(scope="session")
def reference_documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[DocumentView]]:
    """The view of every invoice and credit memo the reference scenarios issued."""
    path: Path = tmp_path_factory.mktemp("reference") / "throughline.db"
    database = Database(f"sqlite:///{path}")
    try:
        database.upgrade()
        load_reference_scenarios(database)
        read = reader(database, FakeClock(DEMO_START))
        with read(RequestContext("auditor", "printable-reference")) as uow:
            invoices = [i.invoice_id for i in uow.invoices.all() if i.state not in UNISSUED]
            memos = [
                m.credit_memo_id
                for m in uow.credit_memos.all()
                if m.state is CreditMemoState.ISSUED
            ]
            views = [document_for_invoice(uow, i) for i in sorted(invoices)]
            views += [document_for_credit_memo(uow, m) for m in sorted(memos)]
        yield views
    finally:
        database.dispose()


def test_the_reference_scenarios_issue_invoices_in_two_currencies_and_a_credit_note(
    reference_documents: list[DocumentView],
) -> None:
    kinds = {v.document_type for v in reference_documents}
    assert kinds == {DocumentType.INVOICE, DocumentType.CREDIT_NOTE}
    assert len({v.currency.code for v in reference_documents}) >= 2
    assert any(line.time_details for v in reference_documents for line in v.lines)


def test_every_figure_of_every_reference_document_is_in_its_pdf(
    reference_documents: list[DocumentView],
) -> None:
    missing = {}
    for view in reference_documents:
        text = words(render_pdf(view))
        absent = [figure for figure in figures(view) if figure not in text]
        if absent or title_of(view) not in text:
            missing[view.number] = absent
    assert missing == {}


def test_every_reference_document_renders_the_same_bytes_and_numbers_its_pages(
    reference_documents: list[DocumentView],
) -> None:
    for view in reference_documents:
        pdf = render_pdf(view)
        assert render_pdf(view) == pdf
        pages = page_texts(pdf)
        assert all(f"Page {n} of {len(pages)}" in p for n, p in enumerate(pages, 1))
