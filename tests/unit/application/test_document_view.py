"""The document view: one assembly of everything a customer-facing document shows, from the
issued document, its contract and engagement, the seller's and the payer's master data and the
time entries behind its lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.memory import InMemoryUnitOfWork
from application import commands as c
from application.document_view import DocumentType, VatCategory
from application.documents import (
    DocumentNotIssuedError,
    document_for_credit_memo,
    document_for_invoice,
    vat_category,
)
from application.errors import NotFoundError
from application.legal_entities import LegalEntityRecord
from domain.invoice import DocumentKind
from domain.money import Money
from tests.support.documents import REVERSE, SELLER, Books, LineSpec, buyer
from tests.unit.application.conftest import ENTITY, EUR, App
from tests.unit.application.test_billing_and_closure import billed_month


def uow(app: App) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(app.store, app.as_("reader"), app.clock.now)


@pytest.mark.parametrize(
    ("rate", "note", "document_note", "seller_vat", "category"),
    [
        (Decimal("0.20"), "", "", "FR1", VatCategory.STANDARD),
        (Decimal(0), "Reverse charge.", "Reverse charge.", "FR1", VatCategory.REVERSE_CHARGE),
        (Decimal(0), "Exempt: training", "", "FR1", VatCategory.EXEMPT),
        (Decimal(0), "", "", "FR1", VatCategory.ZERO_RATED),
        (Decimal(0), "", "", None, VatCategory.NOT_SUBJECT),
    ],
)
def test_a_tax_line_falls_in_its_vat_category(
    rate: Decimal, note: str, document_note: str, seller_vat: str | None, category: VatCategory
) -> None:
    assert vat_category(rate, note, document_note, seller_vat) is category


def test_an_issued_time_invoice_shows_who_worked_when_at_what_rate(app: App) -> None:
    invoice_id = billed_month(app)  # t1: 8 h on 2 March, t2: 4 h on 3 March, at 100.00
    app.do(c.PutLegalEntity(LegalEntityRecord(ENTITY, "TL UK Ltd", SELLER.address)))
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    with uow(app) as reading:
        view = document_for_invoice(reading, invoice_id, app.master)
    assert (view.document_type, view.number) == (DocumentType.INVOICE, "INV-2026-000001")
    assert (view.issue_date, view.due_date) == (date(2026, 3, 31), date(2026, 4, 30))
    assert view.payment_terms == "Payment due within 30 days of the invoice date."
    assert (view.seller.legal_name, view.buyer.legal_name) == ("TL UK Ltd", "Acme Ltd")
    assert (view.contract_id, view.engagement_id) == ("C1", "E1")
    (line,) = view.lines
    assert (line.obligation_label, line.unit_code, line.quantity) == ("Advisory", "HUR", 12)
    assert [(d.work_date, d.role, d.hours, d.amount) for d in line.time_details] == [
        (date(2026, 3, 2), "consultant", Decimal(8), Money(Decimal(800), EUR)),
        (date(2026, 3, 3), "consultant", Decimal(4), Money(Decimal(400), EUR)),
    ]
    (breakdown,) = view.vat_breakdown
    assert (breakdown.category, breakdown.amount) == (VatCategory.STANDARD, Money("240.00", EUR))
    assert view.amount_due == Money("1440.00", EUR)


def test_a_draft_has_no_view_and_an_unknown_document_is_not_found(app: App) -> None:
    invoice_id = billed_month(app)
    with uow(app) as reading:
        with pytest.raises(DocumentNotIssuedError, match="only an issued invoice"):
            document_for_invoice(reading, invoice_id)
        with pytest.raises(NotFoundError):
            document_for_invoice(reading, "INV-404")
        with pytest.raises(NotFoundError):
            document_for_credit_memo(reading, "CM-404")


def test_a_credit_adjustment_is_a_credit_note_with_its_amounts_turned_positive() -> None:
    books = Books()
    books.keep(SELLER, buyer("acme", "tl-fr", "DE", "DE811907980"))
    first = books.issue([LineSpec(Decimal(10), Decimal(135))])
    adjustment = books.issue(
        [LineSpec(Decimal(10), Decimal("-15"))],
        kind=DocumentKind.CREDIT_ADJUSTMENT,
        references=first,
    )
    view = books.invoice_view(adjustment)
    assert view.document_type is DocumentType.CREDIT_NOTE
    assert (view.net.amount, view.tax.amount, view.gross.amount) == (150, 30, 180)
    assert view.preceding is not None
    assert view.preceding.number == "INV-2026-0001"
    assert (view.due_date, view.payment_account) == (None, None)


def test_a_reverse_charged_document_prints_the_legal_note_once() -> None:
    books = Books()
    books.keep(SELLER, buyer("acme", "tl-fr", "BE", "BE0403170701"))
    view = books.invoice_view(books.issue([LineSpec(Decimal(2), Decimal(500), REVERSE)]))
    assert view.notes == (REVERSE.note,)
    (breakdown,) = view.vat_breakdown
    assert (breakdown.category, breakdown.exemption_reason) == (
        VatCategory.REVERSE_CHARGE,
        REVERSE.note,
    )
