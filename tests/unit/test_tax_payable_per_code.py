"""Tax payable per tax code (ADR 0040): an invoice or credit memo with several tax codes posts
one tax payable line per code that carries tax, each naming its code and booked on the account
the chart maps that code to (else the tax payable account); the entry still balances exactly.

The accounts expected are read off the chart of test_chart_of_accounts (FR-VAT-20 → 445710,
tax payable 445700), not derived from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from application.journal import document_tax_by_code
from domain.chart_of_accounts import map_entry
from domain.document import DocumentTotals
from domain.engagement import EngagementActivated, EngagementState
from domain.ledger import (
    Account,
    JournalEntry,
    JournalLine,
    ObligationBalance,
    TaxBreakdownMismatchError,
    post_credit_memo,
    post_invoice_issue,
)
from domain.money import Money
from domain.tax import TaxLine
from tests.unit.test_chart_of_accounts import (
    ON,
    OPEN,
    SCOPE,
    TM,
    accounts,
    chart,
    eur,
    nothing_yet,
)
from tests.unit.test_engagement_lifecycle import engagement_in

TWO_CODES = {"FR-VAT-20": eur("200.00"), "FR-VAT-10": eur("5.50")}


def tax_lines(entry_lines: Iterable[JournalLine]) -> list[tuple[str | None, str, str]]:
    return [
        (line.tax_code, str(line.debit), str(line.credit))
        for line in entry_lines
        if line.account is Account.TAX_PAYABLE
    ]


def invoice(net: str, tax: str, tax_by_code: dict[str, Money] | None = None) -> JournalEntry:
    """INV-1 billing the T&M obligation `net` plus `tax`, nothing recognised or billed before."""
    return post_invoice_issue(
        "JE-1",
        "INV-1",
        ON,
        {TM: eur(net)},
        eur(tax),
        nothing_yet(TM),
        OPEN,
        tax_by_code=tax_by_code,
    )


def test_an_invoice_with_two_tax_codes_posts_one_tax_line_per_code() -> None:
    entry = invoice("1055.00", "205.50", TWO_CODES)
    assert tax_lines(entry.lines) == [
        ("FR-VAT-10", "0.00 EUR", "5.50 EUR"),
        ("FR-VAT-20", "0.00 EUR", "200.00 EUR"),
    ]
    assert entry.total_debits == entry.total_credits == eur("1260.50")


def test_each_tax_line_books_its_codes_account_and_an_unmapped_code_the_tax_payable_one() -> None:
    entry = invoice("1055.00", "205.50", TWO_CODES)
    mapped = map_entry(entry, chart(), SCOPE)
    assert accounts(mapped) == [
        ("411000", "Dr", "1,260.50 EUR"),
        ("487000", "Cr", "1,055.00 EUR"),
        ("445700", "Cr", "5.50 EUR"),  # FR-VAT-10: not refined by the chart
        ("445710", "Cr", "200.00 EUR"),  # FR-VAT-20
    ]
    assert [line.tax_code for line in mapped.lines] == [None, None, "FR-VAT-10", "FR-VAT-20"]
    # The scope's single code no longer decides a line that names its own.
    assert all(line.dimension("project_code") == "P-100" for line in mapped.lines)


def test_a_code_that_carries_no_tax_posts_no_line() -> None:
    entry = invoice("1500.00", "200.00", {"FR-VAT-20": eur("200.00"), "EXEMPT": eur("0.00")})
    assert tax_lines(entry.lines) == [("FR-VAT-20", "0.00 EUR", "200.00 EUR")]


def test_a_credit_memo_debits_tax_payable_per_code() -> None:
    billed = {TM: ObligationBalance(TM, eur("0.00"), eur("1055.00"))}
    entry = post_credit_memo(
        "JE-2", "CM-1", ON, {TM: eur("1055.00")}, eur("205.50"), billed, OPEN, tax_by_code=TWO_CODES
    )
    assert tax_lines(entry.lines) == [
        ("FR-VAT-10", "5.50 EUR", "0.00 EUR"),
        ("FR-VAT-20", "200.00 EUR", "0.00 EUR"),
    ]
    assert accounts(map_entry(entry, chart(), SCOPE))[-1] == ("411000", "Cr", "1,260.50 EUR")


def test_a_breakdown_that_does_not_add_up_to_the_documents_tax_is_refused() -> None:
    with pytest.raises(TaxBreakdownMismatchError, match=r"205\.51 EUR, but its tax codes add up"):
        invoice("1055.00", "205.51", TWO_CODES)


def test_without_a_breakdown_the_tax_is_one_line_with_no_code_as_before() -> None:
    entry = invoice("1000.00", "200.00")
    assert tax_lines(entry.lines) == [(None, "0.00 EUR", "200.00 EUR")]
    # The scope's code still refines such a line, as it did (ADR 0033).
    assert accounts(map_entry(entry, chart(), SCOPE))[-1] == ("445710", "Cr", "200.00 EUR")


def test_a_documents_tax_by_code_adds_its_tax_lines_per_code() -> None:
    totals = DocumentTotals(
        eur("1712.43"),
        (
            TaxLine("EXEMPT", eur("500.00"), Decimal("0"), eur("0.00")),
            TaxLine("RED10", eur("212.43"), Decimal("0.10"), eur("21.24")),
            TaxLine("VAT20", eur("1000.00"), Decimal("0.20"), eur("200.00")),
        ),
        eur("221.24"),
        eur("1933.67"),
    )
    assert document_tax_by_code(totals) == {
        "EXEMPT": eur("0.00"),
        "RED10": eur("21.24"),
        "VAT20": eur("200.00"),
    }
    assert document_tax_by_code(totals, sign=-1)["RED10"] == eur("-21.24")


# The PSA's project code on the engagement ---------------------------------------------------

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_engagement_keeps_the_project_code_the_psa_gave_when_it_becomes_active() -> None:
    engagement = engagement_in(EngagementState.PROVISIONING)
    assert engagement.project_code is None
    engagement.activate(AT, " PRJ-E1 ")
    assert engagement.project_code == "PRJ-E1"
    assert engagement.events[-1] == EngagementActivated(engagement.engagement_id, AT, "PRJ-E1")


def test_an_engagement_activated_without_a_project_code_has_none() -> None:
    engagement = engagement_in(EngagementState.PROVISIONING)
    engagement.activate(AT)
    assert engagement.project_code is None
    assert engagement.state is EngagementState.ACTIVE
