"""Due dates: an invoice is due its payer's payment terms after its issue date, fixed at issue;
the payer's record gives the terms, else the documented default of 30 days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from application import commands as c
from application.payment_terms import terms_days, terms_text
from domain.accounting_period import PeriodLock
from domain.errors import DomainError
from domain.invoice import DEFAULT_PAYMENT_TERMS_DAYS, Invoice
from domain.money import Currency
from tests.support.documents import AT, buyer, document_lines
from tests.support.documents import LineSpec as Spec
from tests.support.invoices import Parties, drafted_invoice
from tests.unit.application.conftest import App
from tests.unit.application.test_billing_and_closure import billed_month


def approved() -> Invoice:
    lines, totals = document_lines([Spec(Decimal(2), Decimal(100))], Currency.of("EUR"))
    invoice = drafted_invoice("I1", lines, totals, "maker", AT, parties=Parties(contract="C1"))
    invoice.approve("checker", AT)
    return invoice


def test_an_invoice_is_due_its_terms_after_its_issue_date() -> None:
    invoice = approved()
    invoice.issue("INV-1", date(2026, 1, 31), AT, PeriodLock(), 45)
    assert (invoice.due_date, invoice.payment_terms_days) == (date(2026, 3, 17), 45)


def test_without_terms_an_invoice_is_due_thirty_days_after_issue() -> None:
    invoice = approved()
    invoice.issue("INV-1", date(2026, 3, 31), AT, PeriodLock())
    assert DEFAULT_PAYMENT_TERMS_DAYS == 30
    assert invoice.due_date == date(2026, 4, 30)


def test_payment_terms_are_never_negative() -> None:
    with pytest.raises(DomainError, match="payment terms"):
        approved().issue("INV-1", date(2026, 3, 31), AT, PeriodLock(), -1)


def test_the_terms_come_from_the_record_or_the_default_and_print_as_a_sentence() -> None:
    record = buyer("acme", "tl-uk")
    assert terms_days(record) == 45
    assert terms_days(attrs.evolve(record, payment_terms_days=None)) == 30
    assert terms_days(None) == 30
    assert terms_text(0) == "Payment due on receipt."
    assert terms_text(45) == "Payment due within 45 days of the invoice date."


def test_issuing_fixes_the_due_date_from_the_payers_record_of_that_moment(app: App) -> None:
    invoice_id = billed_month(app)
    pushed = attrs.evolve(buyer("acme", "tl-uk", "GB"), currency="EUR", version=0)
    app.do(c.PushCustomerRecord(pushed), actor="erp")
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    issued = app.data.aggregates["invoice"][invoice_id]
    assert issued.due_date == date(2026, 5, 15)  # 31 March + 45 days
    # Terms changed later do not move the due date of an issued invoice.
    app.do(c.PushCustomerRecord(attrs.evolve(pushed, payment_terms_days=10)), actor="erp")
    assert app.data.aggregates["invoice"][invoice_id].due_date == date(2026, 5, 15)


def test_a_payer_without_a_pushed_record_gets_the_erp_masters_terms_or_the_default(
    app: App,
) -> None:
    invoice_id = billed_month(app)  # the ERP master's record of acme states no terms
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    assert app.data.aggregates["invoice"][invoice_id].due_date == date(2026, 4, 30)
