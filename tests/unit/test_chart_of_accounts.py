"""The chart-of-accounts mapping (ADR 0033): every posting role has an ERP account, revenue and
tax payable may be refined, and every line handed to the ERP carries the same dimensions.

The expected accounts are read off the test's own mapping below, not derived from the code.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from adapters.chart_of_accounts import (
    DEFAULT_CHARTS,
    chart_from_json,
    chart_to_json,
    charts_from_json,
    read_charts,
)
from domain.accounting_period import PeriodLock
from domain.chart_of_accounts import (
    FIXED_DIMENSIONS,
    POSTING_ROLES,
    ChartOfAccounts,
    ChartsOfAccounts,
    GlEntry,
    InvalidChartOfAccountsError,
    PostingScope,
    UnmappedLegalEntityError,
    gl_trial_balance,
    map_entry,
)
from domain.ids import LegalEntityId, ObligationId
from domain.ledger import (
    ObligationBalance,
    post_credit_memo,
    post_invoice_issue,
    post_payment,
    post_recognition,
    post_write_off,
)
from domain.money import Currency, Money
from domain.obligation import registered_models

EUR = Currency.of("EUR")
OPEN = PeriodLock()
ON = date(2026, 3, 31)
TM, FF = ObligationId("tm"), ObligationId("ff")

ACCOUNTS = {
    "receivables": "411000",
    "unbilled_wip": "418100",
    "deferred_revenue": "487000",
    "revenue": "706000",
    "tax_payable": "445700",
    "cash": "512000",
    "intercompany_receivable": "451100",
    "intercompany_revenue": "706900",
    "cost_of_services": "604000",
    "intercompany_payable": "451200",
    "write_off_expense": "654000",
}


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def chart(**overrides: object) -> ChartOfAccounts:
    fields: dict[str, object] = {
        "legal_entity_id": "HR-FR",
        "accounts": ACCOUNTS,
        "revenue_by_obligation_type": {"time_and_materials": "706100"},
        "tax_payable_by_tax_code": {"FR-VAT-20": "445710"},
        "dimensions": {"region": "EMEA"},
    }
    fields.update(overrides)
    return ChartOfAccounts.of(**fields)  # type: ignore[arg-type]


SCOPE = PostingScope(
    LegalEntityId("HR-FR"),
    customer_id="acme",
    contract_id="C1",
    engagement_id="E1",
    project_code="P-100",
    tax_code="FR-VAT-20",
    obligation_types=(("ff", "fixed_fee"), ("tm", "time_and_materials")),
)


def accounts(entry: GlEntry) -> list[tuple[str, str, str]]:
    """(account, Dr/Cr, amount) per line."""
    return [
        (
            line.gl_account,
            "Dr" if not line.debit.is_zero() else "Cr",
            str(line.debit if not line.debit.is_zero() else line.credit),
        )
        for line in entry.lines
    ]


def nothing_yet(*oids: ObligationId) -> dict[ObligationId, ObligationBalance]:
    return {oid: ObligationBalance.nothing_yet(oid, EUR) for oid in oids}


# Validation ----------------------------------------------------------------------------------


def test_a_mapping_without_an_account_for_every_posting_role_is_refused() -> None:
    partial = {k: v for k, v in ACCOUNTS.items() if k != "deferred_revenue"}
    with pytest.raises(InvalidChartOfAccountsError, match=r"no account for .*deferred_revenue"):
        chart(accounts=partial)


def test_a_mapping_naming_an_unknown_posting_role_is_refused() -> None:
    with pytest.raises(InvalidChartOfAccountsError, match="unknown posting roles bonus"):
        chart(accounts={**ACCOUNTS, "bonus": "999"})


@pytest.mark.parametrize("account", ["", " 411", "41 10", "x" * 33, "41/10"])
def test_an_account_number_outside_the_erp_syntax_is_refused(account: str) -> None:
    with pytest.raises(InvalidChartOfAccountsError, match="not an account number"):
        chart(accounts={**ACCOUNTS, "cash": account})


def test_a_refined_revenue_account_is_checked_like_the_others() -> None:
    with pytest.raises(InvalidChartOfAccountsError, match=r"revenue\.fixed_fee"):
        chart(revenue_by_obligation_type={"fixed_fee": "7 06"})


def test_revenue_refined_for_a_billing_model_that_does_not_exist_is_refused() -> None:
    misspelt = chart(revenue_by_obligation_type={"time_and_material": "706100"})
    with pytest.raises(
        InvalidChartOfAccountsError,
        match=r"names no billing model time_and_material; the billing models are fixed_fee, ",
    ):
        misspelt.check_billing_models(model.name for model in registered_models())
    chart(revenue_by_obligation_type={"fixed_fee": "706200"}).check_billing_models(["fixed_fee"])


def test_a_mapping_file_refining_revenue_for_no_billing_model_stops_start_up(
    tmp_path: Path,
) -> None:
    written = chart_to_json(chart(revenue_by_obligation_type={"retainers": "706400"}))
    path = tmp_path / "charts.json"
    path.write_text(json.dumps({"charts": [written]}), encoding="utf-8")
    with pytest.raises(InvalidChartOfAccountsError, match="names no billing model retainers"):
        read_charts(path)


@pytest.mark.parametrize("name", ["customer_id", "Region", "", "9lives"])
def test_an_extra_dimension_cannot_reuse_a_fixed_name_or_break_snake_case(name: str) -> None:
    with pytest.raises(InvalidChartOfAccountsError, match="cannot name an extra dimension"):
        chart(dimensions={name: "x"})


def test_two_mappings_for_one_legal_entity_are_refused() -> None:
    with pytest.raises(InvalidChartOfAccountsError, match=r"two charts of accounts for .* HR-FR"):
        ChartsOfAccounts.of([chart(), chart()])


def test_posting_for_a_legal_entity_without_a_mapping_is_refused_by_name() -> None:
    with pytest.raises(UnmappedLegalEntityError, match="HR-DE has no chart of accounts"):
        ChartsOfAccounts.of([chart()]).for_entity("HR-DE")


def test_the_shipped_default_mapping_covers_every_role_of_both_demo_entities() -> None:
    charts = read_charts(DEFAULT_CHARTS)
    for entity in ("HR-FR", "HR-US"):
        assert [role for role, _ in charts.for_entity(entity).accounts] == list(POSTING_ROLES)


def test_a_mapping_file_that_is_not_json_names_itself(tmp_path: Path) -> None:
    broken = tmp_path / "charts.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidChartOfAccountsError, match=r"charts\.json: cannot be read as JSON"):
        read_charts(broken)


def test_a_mapping_document_names_the_chart_and_field_that_is_wrong() -> None:
    document = {"charts": [chart_to_json(chart()), {"legal_entity_id": "HR-US", "acounts": {}}]}
    with pytest.raises(InvalidChartOfAccountsError, match="chart 2: unknown fields acounts"):
        charts_from_json(document)


def test_a_mapping_reads_back_as_it_was_written() -> None:
    assert chart_from_json(chart_to_json(chart())) == chart()


# Each posting type on the right accounts ----------------------------------------------------


def test_an_invoice_posts_receivables_wip_deferred_and_the_tax_codes_account() -> None:
    # Nothing recognised yet: the whole net is billed ahead, so it is deferred.
    entry = post_invoice_issue(
        "JE-1", "INV-1", ON, {TM: eur("1000.00")}, eur("200.00"), nothing_yet(TM), OPEN
    )
    assert accounts(map_entry(entry, chart(), SCOPE)) == [
        ("411000", "Dr", "1,200.00 EUR"),
        ("487000", "Cr", "1,000.00 EUR"),
        ("445710", "Cr", "200.00 EUR"),
    ]


def test_tax_without_a_refined_tax_code_goes_to_the_tax_payable_account() -> None:
    entry = post_invoice_issue(
        "JE-1", "INV-1", ON, {TM: eur("100.00")}, eur("20.00"), nothing_yet(TM), OPEN
    )
    mapped = map_entry(entry, chart(), PostingScope(LegalEntityId("HR-FR"), tax_code="FR-X"))
    assert accounts(mapped)[-1] == ("445700", "Cr", "20.00 EUR")


def test_a_credit_memo_reverses_the_invoices_accounts() -> None:
    billed = {TM: ObligationBalance(TM, eur("0.00"), eur("1000.00"))}
    entry = post_credit_memo("JE-2", "CM-1", ON, {TM: eur("100.00")}, eur("20.00"), billed, OPEN)
    assert accounts(map_entry(entry, chart(), SCOPE)) == [
        ("487000", "Dr", "100.00 EUR"),
        ("445710", "Dr", "20.00 EUR"),
        ("411000", "Cr", "120.00 EUR"),
    ]


def test_recognised_revenue_goes_to_each_obligation_types_revenue_account() -> None:
    # T&M has its own revenue account; fixed fee is not refined and uses the plain one.
    entry = post_recognition(
        "JE-3", ON, {TM: eur("300.00"), FF: eur("50.00")}, nothing_yet(TM, FF), OPEN
    )
    assert sorted(accounts(map_entry(entry, chart(), SCOPE))) == [
        ("418100", "Dr", "300.00 EUR"),
        ("418100", "Dr", "50.00 EUR"),
        ("706000", "Cr", "50.00 EUR"),
        ("706100", "Cr", "300.00 EUR"),
    ]


def test_a_payment_posts_cash_against_receivables() -> None:
    entry = post_payment("JE-4", "PAY-1", ON, eur("1200.00"), OPEN)
    assert accounts(map_entry(entry, chart(), SCOPE)) == [
        ("512000", "Dr", "1,200.00 EUR"),
        ("411000", "Cr", "1,200.00 EUR"),
    ]


def test_a_write_off_posts_the_expense_against_receivables() -> None:
    entry = post_write_off("JE-5", "INV-1", ON, eur("35.50"), OPEN)
    assert accounts(map_entry(entry, chart(), SCOPE)) == [
        ("654000", "Dr", "35.50 EUR"),
        ("411000", "Cr", "35.50 EUR"),
    ]


# Dimensions ----------------------------------------------------------------------------------


def test_every_line_carries_the_fixed_dimensions_and_the_mappings_own() -> None:
    entry = post_invoice_issue(
        "JE-1", "INV-1", ON, {TM: eur("1000.00")}, eur("200.00"), nothing_yet(TM), OPEN
    )
    mapped = map_entry(entry, chart(), SCOPE)
    for line in mapped.lines:
        assert [name for name, _ in line.dimensions] == [*FIXED_DIMENSIONS, "region"]
        assert line.dimension("legal_entity_id") == "HR-FR"
        assert line.dimension("customer_id") == "acme"
        assert line.dimension("contract_id") == "C1"
        assert line.dimension("engagement_id") == "E1"
        assert line.dimension("project_code") == "P-100"
        assert line.dimension("region") == "EMEA"
    by_account = {line.gl_account: line.dimension("obligation_id") for line in mapped.lines}
    assert by_account == {"411000": None, "487000": "tm", "445710": None}


def test_an_entry_is_not_mapped_with_another_legal_entitys_chart() -> None:
    entry = post_payment("JE-4", "PAY-1", ON, eur("10.00"), OPEN)
    with pytest.raises(UnmappedLegalEntityError, match="booked by HR-US, not by HR-FR"):
        map_entry(entry, chart(), PostingScope(LegalEntityId("HR-US")))


def test_the_trial_balance_of_mapped_entries_balances_to_zero_per_currency() -> None:
    entries = [
        post_invoice_issue(
            "JE-1", "INV-1", ON, {TM: eur("1000.00")}, eur("200.00"), nothing_yet(TM), OPEN
        ),
        post_payment("JE-2", "PAY-1", ON, eur("1200.00"), OPEN),
        post_recognition("JE-3", ON, {TM: eur("400.00")}, nothing_yet(TM), OPEN),
    ]
    balances = gl_trial_balance(map_entry(e, chart(), SCOPE) for e in entries)
    assert balances[("411000", EUR)] == eur("0.00")
    assert balances[("512000", EUR)] == eur("1200.00")
    assert sum((m.amount for m in balances.values()), eur("0").amount) == 0
