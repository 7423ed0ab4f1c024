"""Tax per line through HTTP (ADR 0030): finance pushes a tax profile whose expenses are
zero-rated and whose training expenses are exempt, billing runs, and the invoice shows each
line's tax code and one tax line per code; a reverse-charged payer's invoice carries the legal
note once. Run on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from application import commands as c
from domain.ids import ContractId, EngagementId, ObligationId, RateCardId, Role
from domain.ratecard import RateCardVersion
from domain.time_and_materials import ExpensePolicy, TimeAndMaterialsTerms
from tests.e2e.http.books_setup import MARCH, entry, expense, money, problem
from tests.e2e.http.harness import Api
from tests.e2e.http.routing import body_examples, operation
from tests.support.builders import d
from tests.unit.application.conftest import CUSTOMER, ENTITY, EUR

#: The profile the API documents for this case: time at the standard rate, expenses
#: zero-rated, training exempt (the example of the push with categories); these tests show it
#: bills as its summary says.
PROFILE = next(
    example
    for example in body_examples(operation("POST /customers/{customer_id}/master-data")) or ()
    if "categories" in example
)
RATES = {
    "rates": [
        {"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "0.20"},
        {"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"},
    ]
}


def tm_contract_billing_expenses(api: Api) -> None:
    """Engagement E1 on contract C1 (acme): time at 100.00 an hour, expenses at cost; March
    has 10 h of time, 212.43 of travel and 500.00 of training."""
    app = api.app
    app.do(c.CreateRateCard(RateCardId("RC"), "UK rates", "EUR"))
    version = RateCardVersion(1, date(2026, 1, 1), EUR, {Role("consultant"): d("100")})
    app.do(c.PublishRateCardVersion(RateCardId("RC"), version))
    app.do(c.ProposeEngagement(EngagementId("E1"), CUSTOMER, ContractId("C1")), actor="crm")
    app.do(c.RegisterContract(ContractId("C1"), CUSTOMER, ENTITY, "EUR", "Advisory"), actor="clm")
    terms = TimeAndMaterialsTerms(
        ObligationId("tm"), "Advisory", EUR, RateCardId("RC"), expenses=ExpensePolicy()
    )
    app.do(c.DraftContractVersion(ContractId("C1"), date(2026, 1, 1), (terms,)), actor="clm")
    app.do(c.ApproveContractVersion(ContractId("C1"), 1), actor="legal")
    assert api.post("/tax-rates", RATES, who="finance").status_code == 200
    time = {"entries": [entry("t1", "2026-03-02", "8"), entry("t2", "2026-03-03", "2")]}
    assert api.post("/time-entries", time, who="integration").status_code == 200
    spent = {"items": [expense("x1", "travel", "212.43"), expense("x2", "training", "500.00")]}
    answered = api.post("/expenses", spent, who="integration")
    assert [r["status"] for r in answered.json()["results"]] == ["accepted", "accepted"]


def billed_invoice(api: Api) -> dict[str, Any]:
    preview = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    body = {"period": MARCH, "expected_fingerprint": preview["fingerprint"]}
    committed = api.post("/billing-runs", body, who="finance")
    assert committed.status_code == 201, committed.text
    (invoice_id,) = committed.json()["invoice_ids"]
    assert committed.json()["invoices"] == preview["invoices"]
    invoice: dict[str, Any] = api.get(f"/invoices/{invoice_id}", who="finance").json()
    return invoice


def test_a_profile_with_an_expense_mapping_bills_expenses_under_their_own_tax_codes(
    api_on: Api,
) -> None:
    api = api_on
    tm_contract_billing_expenses(api)
    pushed = api.post(f"/customers/{CUSTOMER}/master-data", PROFILE, who="finance")
    assert pushed.status_code == 200, pushed.text
    (entity,) = pushed.json()["legal_entities"]
    assert entity["tax_profile"]["categories"] == [
        {"category": "expenses", "tax_code": "ZERO", "exemption_reason": ""},
        {
            "category": "expenses:training",
            "tax_code": "EXEMPT",
            "exemption_reason": "Exempt: vocational training",
        },
    ]
    invoice = billed_invoice(api)
    assert [(line["description"], line["tax_code"]) for line in invoice["lines"]] == [
        ("Advisory: consultant", "VAT20"),
        ("Expenses: training", "EXEMPT"),
        ("Expenses: travel", "ZERO"),
    ]
    # 10 h x 100 = 1,000.00 at 20 %: 200.00; training exempt; travel zero-rated
    assert invoice["tax_lines"] == [
        {
            "tax_code": "EXEMPT",
            "rate": "0",
            "base": money("500.00"),
            "tax": money("0.00"),
            "note": "Exempt: vocational training",
        },
        {
            "tax_code": "VAT20",
            "rate": "0.20",
            "base": money("1000.00"),
            "tax": money("200.00"),
            "note": "",
        },
        {
            "tax_code": "ZERO",
            "rate": "0",
            "base": money("212.43"),
            "tax": money("0.00"),
            "note": "",
        },
    ]
    assert (invoice["net"], invoice["tax"], invoice["gross"], invoice["note"]) == (
        money("1712.43"),
        money("200.00"),
        money("1912.43"),
        "",
    )


def test_a_reverse_charged_payer_gets_the_legal_note_once_on_the_invoice(api_on: Api) -> None:
    api = api_on
    tm_contract_billing_expenses(api)
    note = "Autoliquidation - article 283-2 du CGI"
    profile = {**PROFILE, "reverse_charge": True, "legal_note": note}
    assert api.post(f"/customers/{CUSTOMER}/master-data", profile, who="finance").is_success
    invoice = billed_invoice(api)
    assert (invoice["tax"], invoice["note"]) == (money("0.00"), note)
    assert {t["tax_code"]: t["note"] for t in invoice["tax_lines"]} == {
        "EXEMPT": "Exempt: vocational training",
        "VAT20": note,
        "ZERO": note,
    }


def test_a_tax_category_mapped_twice_is_refused_at_its_field(api: Api) -> None:
    tm_contract_billing_expenses(api)
    twice = {**PROFILE, "categories": [*PROFILE["categories"], PROFILE["categories"][0]]}
    refused = api.post(f"/customers/{CUSTOMER}/master-data", twice, who="finance")
    assert (refused.status_code, problem(refused)) == (400, "validation-error")
    assert refused.json()["errors"][0]["pointer"] == "/categories/2/category"
    profile = api.get(f"/customers/{CUSTOMER}", who="finance").json()["legal_entities"][0]
    assert profile["tax_profile"]["categories"] == []  # nothing changed


def test_a_tax_category_that_is_neither_services_nor_expenses_is_refused(api: Api) -> None:
    tm_contract_billing_expenses(api)
    wrong = {**PROFILE, "categories": [{"category": "time", "tax_code": "ZERO"}]}
    refused = api.post(f"/customers/{CUSTOMER}/master-data", wrong, who="finance")
    assert refused.status_code == 400
    assert "/categories/0/category" in refused.text
