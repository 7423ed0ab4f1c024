"""Issuing starts from the proposal itself: `Invoice.from_proposal` drafts exactly what the
long form, copying the proposal's fields into `Invoice.draft`, drafts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest

import domain as tl
from domain.billing_run import AdjustmentKind
from domain.errors import DomainError
from domain.invoice import DocumentKind, InvoiceDrafted

NOW = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
JAN = date(2026, 1, 1)


def proposed_invoice() -> tl.InvoiceProposal:
    card = tl.RateCard.with_rates("emea", "EUR", JAN, {"consultant": "120.00"})
    terms = tl.time_and_materials_terms("tm", "Advisory", card)
    contract = tl.approved_contract("C-1", "acme", "tl-de", [terms], JAN, "legal", NOW)
    work = [tl.approved_time("t-1", "tm", "ana", "consultant", date(2026, 3, 3), "7.5", "l", NOW)]
    vat = tl.TaxRate("VAT", JAN, Decimal("0.19"))
    run = tl.billing_input("2026-03", contract, rate_cards=[card], time_entries=work, tax=vat)
    (invoice,) = tl.run_billing(run).raise_if_blocked().invoices
    return invoice


def state(invoice: tl.Invoice) -> dict[str, object]:
    return attrs.asdict(invoice, recurse=False)


def test_from_proposal_equals_the_long_form() -> None:
    proposal = proposed_invoice()
    short = tl.Invoice.from_proposal("INV-1", proposal, created_by="billing", at=NOW)
    long = tl.Invoice.draft(
        tl.InvoiceId("INV-1"),
        proposal.customer_id,
        proposal.contract_id,
        proposal.legal_entity_id,
        proposal.period,
        proposal.lines,
        proposal.totals,
        "billing",
        NOW,
    )
    assert state(short) == state(long)
    assert short.events == [InvoiceDrafted(tl.InvoiceId("INV-1"), NOW, "billing")]
    assert short.ledger_entries() == proposal.ledger_entries("INV-1")


def test_an_adjustment_proposal_becomes_a_memo_citing_its_invoice() -> None:
    proposal = proposed_invoice()
    for kind, document in (
        (AdjustmentKind.DEBIT_MEMO, DocumentKind.DEBIT_MEMO),
        (AdjustmentKind.CREDIT_MEMO, DocumentKind.CREDIT_ADJUSTMENT),
    ):
        adjustment = tl.AdjustmentProposal(
            "INV-1/adj",
            kind,
            "INV-1",
            proposal.customer_id,
            proposal.contract_id,
            proposal.legal_entity_id,
            proposal.currency,
            proposal.lines,
            proposal.totals,
        )
        memo = tl.Invoice.from_proposal("ADJ-1", adjustment, "billing", NOW, proposal.period)
        assert (memo.kind, memo.references, memo.period) == (document, "INV-1", proposal.period)
        assert (memo.lines, memo.totals) == (proposal.lines, proposal.totals)
        with pytest.raises(DomainError, match="pass the run's period"):
            tl.Invoice.from_proposal("ADJ-2", adjustment, "billing", NOW)
