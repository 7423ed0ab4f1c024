"""Tax payable per tax code (ADR 0040): whatever mix of tax codes, rates, obligations and
currencies a document has, its issue posts exactly one tax payable line per code that carries
tax, each naming its code and booked on the account the chart gives that code; the tax lines
add up exactly to the document's tax, and the entry balances. Its credit memo mirrors it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from application.journal import document_tax_by_code
from domain.accounting_period import PeriodLock
from domain.billing import LineKind
from domain.chart_of_accounts import POSTING_ROLES, ChartOfAccounts, PostingScope, map_entry
from domain.document import DocumentLine, DocumentTotals
from domain.ids import LegalEntityId, ObligationId
from domain.ledger import (
    Account,
    JournalEntry,
    ObligationBalance,
    post_credit_memo,
    post_invoice_issue,
)
from domain.money import Currency, Money, money_sum

CURRENCIES = [Currency.of(code) for code in ("EUR", "JPY", "BHD")]
OBLIGATIONS = [ObligationId(name) for name in ("tm", "ff", "ms")]
#: Each code's rate; EXEMPT never carries tax, R0055 often rounds to zero on small bases.
RATES = {
    "VAT20": Decimal("0.20"),
    "RED10": Decimal("0.10"),
    "R0055": Decimal("0.055"),
    "EXEMPT": Decimal("0"),
}
#: The chart refines two codes; the others book the tax payable account itself.
REFINED = {"VAT20": "4457-20", "R0055": "4457-05"}
CHART = ChartOfAccounts.of(
    "HR-FR",
    {role: f"{n + 1}000" for n, role in enumerate(POSTING_ROLES)},
    tax_payable_by_tax_code=REFINED,
)
SCOPE = PostingScope(LegalEntityId("HR-FR"), customer_id="acme")
ON = date(2026, 3, 31)
OPEN = PeriodLock()


@st.composite
def documents(draw: st.DrawFn) -> tuple[tuple[DocumentLine, ...], DocumentTotals]:
    currency = draw(st.sampled_from(CURRENCIES))
    count = draw(st.integers(min_value=1, max_value=8))
    lines = tuple(
        DocumentLine(
            n,
            draw(st.sampled_from(OBLIGATIONS)),
            LineKind.TIME,
            f"line {n}",
            Decimal(1),
            amount,
            amount,
            draw(st.sampled_from(sorted(RATES))),
            (),
        )
        for n in range(1, count + 1)
        for amount in [Money.from_minor(draw(st.integers(0, 10**8)), currency)]
    )
    return lines, DocumentTotals.of(lines, currency, RATES)


def to_post(
    document: tuple[tuple[DocumentLine, ...], DocumentTotals],
) -> tuple[DocumentTotals, dict[ObligationId, Money]]:
    """The document's totals and its net per obligation; a document of nothing posts nothing
    (the ledger's own properties cover it), so it is not drawn here."""
    lines, totals = document
    assume(not totals.gross.is_zero())
    return totals, totals.net_by_obligation(lines)


def tax_lines(entry: JournalEntry) -> list[tuple[str | None, Money]]:
    return [
        (line.tax_code, line.credit if line.debit.is_zero() else line.debit)
        for line in entry.lines
        if line.account is Account.TAX_PAYABLE
    ]


@given(documents())
def test_an_issue_posts_one_tax_line_per_code_with_tax_summing_to_the_documents_tax(
    document: tuple[tuple[DocumentLine, ...], DocumentTotals],
) -> None:
    totals, nets = to_post(document)
    nothing = {oid: ObligationBalance.nothing_yet(oid, totals.net.currency) for oid in nets}
    entry = post_invoice_issue(
        "JE-1",
        "INV-1",
        ON,
        nets,
        totals.tax,
        nothing,
        OPEN,
        tax_by_code=document_tax_by_code(totals),
    )
    posted = tax_lines(entry)
    with_tax = sorted(t.tax_code for t in totals.tax_lines if not t.amount.is_zero())
    assert [code for code, _ in posted] == with_tax
    assert all(not amount.is_zero() for _, amount in posted)
    assert money_sum((amount for _, amount in posted), totals.net.currency) == totals.tax
    assert entry.total_debits == entry.total_credits == totals.gross
    mapped = map_entry(entry, CHART, SCOPE)
    tax_payable = dict(CHART.accounts)["tax_payable"]
    for line in mapped.lines:
        if line.role is Account.TAX_PAYABLE:
            assert line.tax_code is not None
            assert line.gl_account == REFINED.get(line.tax_code, tax_payable)
        else:
            assert line.tax_code is None


@given(documents())
def test_a_credit_of_the_whole_document_reverses_each_codes_tax_line(
    document: tuple[tuple[DocumentLine, ...], DocumentTotals],
) -> None:
    totals, nets = to_post(document)
    billed = {
        oid: ObligationBalance(oid, Money.zero(net.currency), net) for oid, net in nets.items()
    }
    by_code = document_tax_by_code(totals)
    issue = post_invoice_issue(
        "JE-1", "INV-1", ON, nets, totals.tax, billed, OPEN, tax_by_code=by_code
    )
    credit = post_credit_memo(
        "JE-2", "CM-1", ON, nets, totals.tax, billed, OPEN, tax_by_code=by_code
    )
    assert dict(tax_lines(issue)) == dict(tax_lines(credit))
    assert all(line.is_debit for line in credit.lines if line.account is Account.TAX_PAYABLE)
