"""Writing off a receivable through the application (ADR 0040): the invoice, its journal entry
(Dr write-off expense / Cr receivables, mapped with the engagement's dimensions), the
`invoice.written_off` event and the audit record are written in one transaction, or none of
them; a refused write-off changes nothing. Also the PSA's project code: kept on the engagement
when setup completes and carried by every journal line of its documents.

Written against the `app` fixture, so `tests/integration/test_ledger_gaps_sql.py` runs the
same tests on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
import pytest

from application import commands as c
from application.handlers import create_bus
from application.records import OutboxEvent
from domain.errors import IllegalTransitionError
from domain.ids import EngagementId, InvoiceId, PaymentId
from domain.invoice import InvoiceState, OverpaymentError, WriteOffExceedsOutstandingError
from domain.ledger import Account
from tests.unit.application.conftest import App
from tests.unit.application.test_billing_and_closure import MARCH, eur
from tests.unit.application.test_journal_posting import CHARTS, issued, journal, postings

INSOLVENT = "customer in liquidation"


@pytest.fixture
def books(app: App) -> App:
    """The application with the chart of accounts of its legal entity."""
    return attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=CHARTS)))


def after_issue(app: App) -> InvoiceId:
    """The March invoice (1,440.00) issued on 31 March, the clock on 15 April."""
    invoice_id = issued(app)
    app.clock.advance(days=45)
    return invoice_id


def outbox(app: App) -> list[OutboxEvent]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return uow.outbox.pending(1000)


def written_off_events(app: App) -> list[OutboxEvent]:
    return [e for e in outbox(app) if e.event_type == "InvoiceWrittenOff"]


def audited(app: App, action: str) -> list[Any]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return [r for r in uow.audit.all() if r.action == action]


def invoice_of(app: App, invoice_id: str) -> Any:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return uow.invoices.get(invoice_id)


def test_writing_off_an_invoice_posts_the_expense_against_receivables_in_one_commit(
    books: App,
) -> None:
    invoice_id = after_issue(books)
    given_up = books.do(c.WriteOffInvoice(invoice_id, INSOLVENT), actor="fay.approver")
    assert given_up == eur("1440.00")
    invoice = invoice_of(books, invoice_id)
    assert (invoice.state, invoice.written_off) == (InvoiceState.WRITTEN_OFF, eur("1440.00"))
    assert invoice.outstanding == eur("0.00")
    _issue, entry = journal(books)
    assert entry.posted_on == date(2026, 4, 15)
    assert entry.source_document == "INV-2026-000001"
    assert [(ln.account, str(ln.debit), str(ln.credit)) for ln in entry.lines] == [
        (Account.WRITE_OFF_EXPENSE, "1,440.00 EUR", "0.00 EUR"),
        (Account.RECEIVABLES, "0.00 EUR", "1,440.00 EUR"),
    ]
    _issued, posting = postings(books)
    lines = posting.payload["lines"]
    assert [(ln["gl_account"], ln["debit"], ln["credit"]) for ln in lines] == [
        ("6900", "1440.00", "0.00"),
        ("1100", "0.00", "1440.00"),
    ]
    for line in lines:
        assert line["dimensions"]["engagement_id"] == "E1"
        assert line["dimensions"]["project_code"] == "PRJ-E1"
        assert line["dimensions"]["customer_id"] == "acme"
    (event,) = written_off_events(books)
    assert (event.aggregate_type, event.aggregate_id) == ("Invoice", invoice_id)
    assert event.payload["written_off_amount"] == "1440.00"
    assert event.payload["outstanding"] == "0.00"
    assert event.payload["invoice_state"] == "written_off"
    assert event.payload["reason"] == INSOLVENT
    (record,) = audited(books, "write_off")
    assert (record.subject, record.before, record.after) == (
        f"invoice:{invoice_id}",
        "issued",
        "written_off",
    )
    assert record.actor == "fay.approver"
    assert record.reason == f"1,440.00 EUR: {INSOLVENT}"
    (update,) = [u for u in books.crm.updates.values() if u[1] == "invoice_written_off"]
    assert update[2]["amount"] == "1,440.00 EUR"


def test_a_second_write_off_of_a_written_off_invoice_is_refused_and_posts_nothing(
    books: App,
) -> None:
    invoice_id = after_issue(books)
    books.do(c.WriteOffInvoice(invoice_id, INSOLVENT), actor="fay.approver")
    with pytest.raises(IllegalTransitionError, match="'written_off' cannot 'write_off'"):
        books.do(c.WriteOffInvoice(invoice_id, INSOLVENT), actor="fay.approver")
    assert len(journal(books)) == 2  # the issue and the one write-off
    assert len(postings(books)) == 2
    assert len(written_off_events(books)) == 1
    assert len(audited(books, "write_off")) == 1


def test_a_write_off_beyond_what_is_owed_changes_nothing(books: App) -> None:
    invoice_id = after_issue(books)
    books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1400.00"), date(2026, 4, 10)))
    with pytest.raises(WriteOffExceedsOutstandingError):
        books.do(c.WriteOffInvoice(invoice_id, "short", eur("40.01")), actor="fay.approver")
    invoice = invoice_of(books, invoice_id)
    assert (invoice.state, invoice.written_off) == (InvoiceState.PARTIALLY_PAID, None)
    assert len(journal(books)) == 2  # the issue and the payment
    assert written_off_events(books) == []
    assert audited(books, "write_off") == []


def test_the_short_payment_written_off_settles_the_invoice_and_receivables(books: App) -> None:
    invoice_id = after_issue(books)
    books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1400.00"), date(2026, 4, 10)))
    books.do(c.WriteOffInvoice(invoice_id, "bank charges", eur("40.00")), actor="fay.approver")
    invoice = invoice_of(books, invoice_id)
    assert invoice.state is InvoiceState.WRITTEN_OFF
    receivables = [
        line.net_debit.minor
        for entry in journal(books)
        for line in entry.lines
        if line.account is Account.RECEIVABLES
    ]
    assert receivables == [144000, -140000, -4000]
    with books.bus.deps.uow(books.as_("reader")) as uow:
        (figures,) = uow.invoices.figures()
    assert (figures.outstanding, figures.written_off) == (eur("0.00"), eur("40.00"))


def test_a_partial_write_off_lowers_what_is_owed_and_the_rest_is_paid_later(books: App) -> None:
    invoice_id = after_issue(books)
    books.do(c.WriteOffInvoice(invoice_id, "goodwill", eur("40.00")), actor="fay.approver")
    with books.bus.deps.uow(books.as_("reader")) as uow:
        (figures,) = uow.invoices.figures()
    assert (figures.state, figures.outstanding) == (InvoiceState.ISSUED, eur("1400.00"))
    books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1400.00"), date(2026, 4, 20)))
    assert invoice_of(books, invoice_id).state is InvoiceState.PAID


def test_a_written_off_invoice_refuses_a_payment(books: App) -> None:
    invoice_id = after_issue(books)
    books.do(c.WriteOffInvoice(invoice_id, INSOLVENT), actor="fay.approver")
    with pytest.raises(OverpaymentError, match=r"exceeds the 0\.00 EUR outstanding"):
        books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("10.00"), date(2026, 4, 20)))
    assert invoice_of(books, invoice_id).amount_paid == eur("0.00")


# The PSA's project code -------------------------------------------------------------------


def test_setup_keeps_the_psas_project_code_and_the_activation_event_carries_it(
    books: App,
) -> None:
    issued(books)
    with books.bus.deps.uow(books.as_("reader")) as uow:
        assert uow.engagements.get(EngagementId("E1")).project_code == "PRJ-E1"
    (activated,) = [e for e in outbox(books) if e.event_type == "EngagementActivated"]
    assert activated.payload["project_code"] == "PRJ-E1"


def test_every_journal_line_of_the_engagements_documents_carries_its_project_code(
    books: App,
) -> None:
    invoice_id = issued(books)
    books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1440.00"), date(2026, 4, 20)))
    books.do(c.RecogniseRevenue(MARCH), actor="finance-lead")
    events = postings(books)
    assert len(events) == 3
    codes = {ln["dimensions"]["project_code"] for e in events for ln in e.payload["lines"]}
    assert codes == {"PRJ-E1"}


def test_the_tax_line_of_an_issued_invoice_keeps_its_tax_code_in_the_journal(
    books: App,
) -> None:
    issued(books)
    (entry,) = journal(books)
    tax = [(ln.tax_code, str(ln.credit)) for ln in entry.lines if ln.tax_code is not None]
    assert tax == [("VAT20", "240.00 EUR")]
    (posting,) = postings(books)
    assert [ln["tax_code"] for ln in posting.payload["lines"]] == [None, None, "VAT20"]
