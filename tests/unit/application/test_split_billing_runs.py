"""Split billing through the application layer: a grant pays a fixed amount per period and the
customer the rest; a second run of the same period bills the grant only what is left of its
amount, and discarding a draft gives it back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from application import commands as c
from domain.ids import CustomerId, InvoiceId
from domain.money import Money
from domain.period import Period
from domain.split import ObligationPayers, Payer
from domain.tax import TaxProfile
from tests.unit.application.conftest import (
    CUSTOMER,
    ENTITY,
    EUR,
    TM,
    App,
    set_up_tm_contract,
    time_entry,
)

MARCH = Period.month(2026, 3)
GRANT = CustomerId("innovation-grant")


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def grant_and_customer(app: App) -> None:
    """T&M at 100.00 an hour; the grant pays 500.00 a month first, the customer the rest."""
    app.do(c.UpdateCustomerMaster(TaxProfile(GRANT, ENTITY, "VAT20")))
    payers = (Payer.fixed(GRANT, eur("500.00")), Payer.percentage(CUSTOMER, "100"))
    set_up_tm_contract(app, payers=(ObligationPayers(TM, payers),))


def nets(result: object) -> dict[str, Money]:
    return {i.payer: i.totals.net for i in result.proposal.invoices}  # type: ignore[attr-defined]


def test_a_second_run_of_the_period_bills_a_fixed_amount_payer_only_what_is_left(app: App) -> None:
    grant_and_customer(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "3"),)))
    first = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    assert nets(first) == {GRANT: eur("300.00")}
    app.do(c.RecordTimeEntries((time_entry("t2", date(2026, 3, 20), "4"),)))
    second = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert nets(second) == {CUSTOMER: eur("200.00"), GRANT: eur("200.00")}


def test_a_discarded_draft_gives_the_fixed_amount_back_to_the_period(app: App) -> None:
    grant_and_customer(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "3"),)))
    first = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    (invoice_id,) = first.invoice_ids
    app.do(c.DiscardInvoice(InvoiceId(invoice_id), "wrong hours"), actor="billing-clerk")
    app.do(c.RecordTimeEntries((time_entry("t2", date(2026, 3, 20), "4"),)))
    again = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert nets(again) == {GRANT: eur("500.00"), CUSTOMER: eur("200.00")}
