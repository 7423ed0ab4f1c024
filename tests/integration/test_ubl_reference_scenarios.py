"""Every invoice and credit memo the four reference scenarios issue (loaded through the real
application into SQLite, once for the module) has a UBL 2.1 e-invoice that passes the UBL 2.1
schema and the EN 16931 Schematron with no fatal assert, and states the document's own
figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from adapters.documents.ubl import amount_text, render_ubl
from application.context import RequestContext
from application.document_view import DocumentType, DocumentView
from application.documents import document_for_credit_memo, document_for_invoice
from entrypoints.composition.database import Database, open_database
from entrypoints.demo.loader import load_reference_scenarios
from tests.support.ubl_validation import schematron, xsd_errors

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = open_database(f"sqlite:///{path}")
    database.upgrade()
    load_reference_scenarios(database)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def views(demo: Database) -> list[DocumentView]:
    ctx = RequestContext("test", "ubl-reference")
    with demo.unit_of_work(ctx, lambda: datetime.now(UTC), read_only=True) as uow:
        invoices = [document_for_invoice(uow, i.invoice_id) for i in uow.invoices.all() if i.number]
        memos = [
            document_for_credit_memo(uow, m.credit_memo_id)
            for m in uow.credit_memos.all()
            if m.number
        ]
    return invoices + memos


def test_the_scenarios_issue_invoices_in_two_currencies_and_a_credit_note(
    views: list[DocumentView],
) -> None:
    kinds = {(v.document_type, v.currency.code) for v in views}
    assert (DocumentType.INVOICE, "EUR") in kinds
    assert (DocumentType.INVOICE, "USD") in kinds
    assert (DocumentType.CREDIT_NOTE, "EUR") in kinds


def test_every_issued_document_of_the_scenarios_passes_the_schema_and_en_16931(
    views: list[DocumentView],
) -> None:
    for view in views:
        document = render_ubl(view)
        assert xsd_errors(document) == [], view.number
        report = schematron(document)
        assert report.fatal == (), f"{view.number}: {report.describe()}"


def test_each_e_invoice_states_the_figures_of_its_document(views: list[DocumentView]) -> None:
    for view in views:
        root = ET.fromstring(render_ubl(view))
        totals = root.find(f"{CAC}LegalMonetaryTotal")
        assert totals is not None
        stated = (
            totals.findtext(f"{CBC}LineExtensionAmount"),
            root.findtext(f"{CAC}TaxTotal/{CBC}TaxAmount"),
            totals.findtext(f"{CBC}PayableAmount"),
        )
        assert stated == (amount_text(view.net), amount_text(view.tax), amount_text(view.gross))
        assert root.findtext(f"{CBC}ID") == view.number


def test_the_reverse_charged_customer_is_billed_under_category_ae_with_its_legal_note(
    views: list[DocumentView],
) -> None:
    verhaegen = [v for v in views if v.buyer.legal_name == "Verhaegen Logistics NV"]
    assert verhaegen
    for view in verhaegen:
        root = ET.fromstring(render_ubl(view))
        assert root.findtext(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory/{CBC}ID") == "AE"
        assert root.findtext(f"{CBC}Note") == view.notes[0]


def test_the_credit_note_cites_the_invoice_it_credits(views: list[DocumentView]) -> None:
    (credit,) = [v for v in views if v.document_type is DocumentType.CREDIT_NOTE]
    assert credit.preceding is not None
    root = ET.fromstring(render_ubl(credit))
    reference = f"{CAC}BillingReference/{CAC}InvoiceDocumentReference/{CBC}ID"
    assert root.findtext(reference) == credit.preceding.number
