"""Writing off a receivable (ADR 0040): finance gives up part or all of what an issued or partly
paid invoice still owes, for a stated reason; all of it makes the invoice written off, and a
written-off invoice takes no payment and no credit.

The invoice is the hand-built one of test_invoice_lifecycle: gross 2,088.00 EUR.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounting_period import PeriodClosedError, PeriodLock
from domain.credit_memo import CreditRequest
from domain.errors import DomainError, IllegalTransitionError
from domain.invoice import (
    InvoiceState,
    InvoiceWrittenOff,
    OverpaymentError,
    WriteOffExceedsOutstandingError,
    WriteOffReasonRequiredError,
)
from domain.money import Money
from domain.period import Period
from tests.unit.test_invoice_lifecycle import (
    AT,
    ISSUE_DATE,
    OPEN,
    credit,
    drafted,
    eur,
    everything_left,
    issued,
    pay,
)

BAD_DEBT = "customer in liquidation"


def test_writing_off_all_that_is_owed_writes_the_invoice_off() -> None:
    invoice = issued()
    given_up = invoice.write_off(None, BAD_DEBT, ISSUE_DATE, AT, OPEN)
    assert given_up == eur("2088.00")
    assert invoice.state is InvoiceState.WRITTEN_OFF
    assert invoice.outstanding == eur("0.00")
    assert invoice.written_off == eur("2088.00")
    assert invoice.events[-1] == InvoiceWrittenOff(
        invoice.invoice_id, AT, eur("2088.00"), BAD_DEBT, ISSUE_DATE
    )


def test_writing_off_the_rest_of_a_short_payment_writes_the_invoice_off() -> None:
    invoice = issued()
    pay(invoice, "2053.00")
    invoice.write_off(eur("35.00"), "bank charges not worth chasing", ISSUE_DATE, AT, OPEN)
    assert invoice.state is InvoiceState.WRITTEN_OFF
    assert (invoice.amount_paid, invoice.amount_written_off) == (eur("2053.00"), eur("35.00"))
    assert invoice.refund_due == eur("0.00")


def test_a_partial_write_off_leaves_the_invoice_owing_the_rest_in_its_state() -> None:
    invoice = issued()
    revision = invoice.revision
    invoice.write_off(eur("88.00"), "goodwill on a slow payer", ISSUE_DATE, AT, OPEN)
    assert invoice.state is InvoiceState.ISSUED
    assert invoice.outstanding == eur("2000.00")
    assert invoice.figures.outstanding == eur("2000.00")
    assert invoice.revision == revision + 1
    pay(invoice, "2000.00")
    assert invoice.state is InvoiceState.PAID


def test_two_partial_write_offs_add_up_and_the_second_may_finish_it() -> None:
    invoice = issued()
    invoice.write_off(eur("1000.00"), "first instalment lost", ISSUE_DATE, AT, OPEN)
    invoice.write_off(eur("1088.00"), "the rest lost", ISSUE_DATE, AT, OPEN)
    assert invoice.written_off == eur("2088.00")
    assert invoice.state is InvoiceState.WRITTEN_OFF


def test_a_write_off_beyond_what_is_owed_is_refused_and_changes_nothing() -> None:
    invoice = issued()
    pay(invoice, "2000.00")
    revision = invoice.revision
    with pytest.raises(
        WriteOffExceedsOutstandingError, match=r"exceeds the 88\.00 EUR outstanding"
    ):
        invoice.write_off(eur("88.01"), BAD_DEBT, ISSUE_DATE, AT, OPEN)
    assert (invoice.state, invoice.written_off, invoice.revision) == (
        InvoiceState.PARTIALLY_PAID,
        None,
        revision,
    )


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "10.005"])
def test_a_write_off_is_a_positive_amount_in_whole_minor_units(amount: str) -> None:
    invoice = issued()
    with pytest.raises(DomainError, match="positive amount in whole EUR minor units"):
        invoice.write_off(eur(amount), BAD_DEBT, ISSUE_DATE, AT, OPEN)
    assert invoice.written_off is None


def test_a_write_off_in_another_currency_is_refused() -> None:
    invoice = issued()
    with pytest.raises(DomainError, match="is in EUR, not in USD"):
        invoice.write_off(Money.of("10.00", "USD"), BAD_DEBT, ISSUE_DATE, AT, OPEN)


def test_a_write_off_is_not_dated_before_the_invoice_was_issued() -> None:
    invoice = issued()
    with pytest.raises(DomainError, match="before it was issued"):
        invoice.write_off(None, BAD_DEBT, ISSUE_DATE - timedelta(days=1), AT, OPEN)
    assert invoice.written_off is None


def test_a_write_off_needs_a_reason() -> None:
    invoice = issued()
    with pytest.raises(WriteOffReasonRequiredError):
        invoice.write_off(None, "   ", ISSUE_DATE, AT, OPEN)
    assert invoice.state is InvoiceState.ISSUED


def test_a_write_off_dated_in_a_closed_period_is_refused() -> None:
    invoice = issued()
    april_closed = PeriodLock(frozenset({Period.month(2026, 4)}))
    with pytest.raises(PeriodClosedError):
        invoice.write_off(None, BAD_DEBT, ISSUE_DATE, AT, april_closed)
    assert invoice.state is InvoiceState.ISSUED


def test_a_disputed_invoice_is_settled_before_it_is_written_off() -> None:
    invoice = issued()
    invoice.open_dispute("hours contested", AT)
    with pytest.raises(IllegalTransitionError, match="'disputed' cannot 'write_off'"):
        invoice.write_off(eur("10.00"), BAD_DEBT, ISSUE_DATE, AT, OPEN)
    invoice.resolve_dispute("upheld; the customer is insolvent", AT)
    invoice.write_off(None, BAD_DEBT, ISSUE_DATE, AT, OPEN)
    assert invoice.state is InvoiceState.WRITTEN_OFF


@pytest.mark.parametrize("state", ["draft", "paid", "credited", "written_off"])
def test_only_an_invoice_that_still_owes_can_be_written_off(state: str) -> None:
    invoice = drafted() if state == "draft" else issued()
    if state == "paid":
        pay(invoice, "2088.00")
    elif state == "credited":
        credit(invoice, everything_left(invoice))
    elif state == "written_off":
        invoice.write_off(None, BAD_DEBT, ISSUE_DATE, AT, OPEN)
    with pytest.raises(IllegalTransitionError, match=f"'{state}' cannot 'write_off'"):
        invoice.write_off(None, BAD_DEBT, ISSUE_DATE, AT, OPEN)


def test_a_written_off_invoice_takes_no_payment_and_no_credit() -> None:
    invoice = issued()
    invoice.write_off(None, BAD_DEBT, ISSUE_DATE, AT, OPEN)
    with pytest.raises(OverpaymentError):
        pay(invoice, "100.00")
    with pytest.raises(DomainError, match="is written_off: only issued invoices are credited"):
        credit(invoice, [CreditRequest(2)])
    assert (invoice.amount_paid, invoice.amount_credited) == (eur("0.00"), eur("0.00"))


def test_after_a_partial_write_off_a_credit_takes_at_most_what_is_still_owed() -> None:
    invoice = issued()
    invoice.write_off(eur("1800.00"), "most of it is lost", ISSUE_DATE, AT, OPEN)
    with pytest.raises(
        WriteOffExceedsOutstandingError, match=r"at most the 288\.00 EUR still owed"
    ):
        credit(invoice, [CreditRequest(1)])  # 1,500.00 + 20 % VAT = 1,800.00
    assert invoice.state is InvoiceState.ISSUED
    assert invoice.amount_credited == eur("0.00")


def test_a_credit_of_exactly_what_is_left_after_a_partial_write_off_credits_the_invoice() -> None:
    invoice = issued()
    invoice.write_off(eur("1800.00"), "most of it is lost", ISSUE_DATE, AT, OPEN)
    assert invoice.outstanding == eur("288.00")
    credit(invoice, [CreditRequest(2)])  # the travel line: 240.00 + 20 % VAT = 288.00
    assert invoice.state is InvoiceState.CREDITED
    assert invoice.outstanding == eur("0.00")
