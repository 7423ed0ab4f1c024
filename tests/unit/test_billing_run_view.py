"""What `throughline bill` prints of a proposal: who each invoice bills, and the legal note a
reverse-charged payer's invoice carries."""

from __future__ import annotations

import attrs
from rich.console import Console

from application.handlers.billing import BillingRunResult
from domain.ids import CustomerId
from domain.tax import REVERSE_CHARGE_NOTE, TaxProfile
from entrypoints.cli.views import render_billing_run
from tests.support.builders import CUSTOMER, ENTITY
from tests.unit.test_tax_per_line import billed


def printed(result: BillingRunResult) -> str:
    console = Console(record=True, width=200)
    render_billing_run(console, result, dry_run=True)
    return console.export_text()


def test_a_reverse_charged_invoice_prints_its_legal_note() -> None:
    proposal = billed(TaxProfile(CUSTOMER, ENTITY, "VAT20", reverse_charge=True))
    assert REVERSE_CHARGE_NOTE in printed(BillingRunResult(proposal, (), "f"))


def test_an_invoice_without_a_note_prints_none() -> None:
    proposal = billed(TaxProfile(CUSTOMER, ENTITY, "VAT20"))
    assert REVERSE_CHARGE_NOTE not in printed(BillingRunResult(proposal, (), "f"))


def test_an_invoice_to_another_payer_says_whom_it_bills() -> None:
    proposal = billed(TaxProfile(CUSTOMER, ENTITY, "VAT20"))
    (invoice,) = proposal.invoices
    to_globex = attrs.evolve(invoice, payer_id=CustomerId("globex"))
    text = printed(BillingRunResult(attrs.evolve(proposal, invoices=(to_globex,)), (), "f"))
    assert "Invoice to globex" in text
    assert f"Invoice to {CUSTOMER}" not in text
