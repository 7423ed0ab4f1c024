"""Split billing through HTTP, on memory, SQLite and PostgreSQL: a contract version whose T&M
obligation is paid 70 % by the customer (acme) and 30 % by another company (globex), a run that
drafts one invoice per payer, a partial credit on globex's invoice, and the next run billing the
credited hours to globex only. Each payer's client viewer sees the invoice it is billed."""

from __future__ import annotations

from typing import Any

from application import commands as c
from domain.ids import CustomerId
from domain.tax import TaxProfile
from tests.e2e.http.books_setup import credit_of_line_one, drafted_credit, entry, money, problem
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import ENTITY, set_up_rates_and_deal

GLOBEX = "globex"
TM = {
    "model": "time_and_materials",
    "obligation_id": "tm",
    "name": "Advisory",
    "rate_card_id": "RC",
}
SPLIT = [
    {
        "obligation_id": "tm",
        "payers": [
            {"payer_id": "acme", "percent": "70"},
            {"payer_id": GLOBEX, "percent": "30"},
        ],
    }
]


def seed(api: Api) -> None:
    """Rates, the deal and the contract, seeded through commands; globex's tax profile with our
    legal entity is in the ERP master (reverse-charged: a cross-border B2B payer)."""
    app = api.app
    app.do(c.UpdateCustomerMaster(TaxProfile(CustomerId(GLOBEX), ENTITY, "VAT20", True)))
    set_up_rates_and_deal(app)


def version(api: Api, payers: Any) -> Any:
    body = {"effective_from": "2026-01-01", "obligations": [TM], "payers": payers}
    return api.post("/contracts/C1/versions", body, who="sales_ops")


def shared_contract_with_march_time(api: Api) -> None:
    seed(api)
    drafted = version(api, SPLIT)
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["payers"] == SPLIT
    approved = api.post("/contracts/C1/versions/1/approve", who="sales_ops")
    assert approved.status_code == 200, approved.text
    entries = [entry("t1", "2026-03-02", "8"), entry("t2", "2026-03-03", "4")]
    posted = api.post("/time-entries", {"entries": entries}, who="integration")
    assert posted.status_code == 200, posted.text


def issue(api: Api, invoice_id: str) -> None:
    assert api.post(f"/invoices/{invoice_id}/approve", who="finance_approver").status_code == 200
    issued = api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    assert issued.status_code == 200, issued.text


def test_two_payers_two_invoices_a_partial_credit_on_one_and_a_rerun_for_it_only(
    api_on: Api,
) -> None:
    api = api_on
    shared_contract_with_march_time(api)
    preview = api.post("/billing-runs/preview", {"period": "2026-03"}, who="finance").json()
    assert [(i["key"], i["payer_id"], i["customer_id"], i["net"]) for i in preview["invoices"]] == [
        ("C1/2026-03", "acme", "acme", money("840.00")),
        ("C1/2026-03/globex", GLOBEX, "acme", money("360.00")),
    ]
    acme_preview, globex_preview = preview["invoices"]
    assert (acme_preview["tax"], globex_preview["tax"]) == (money("168.00"), money("0.00"))
    t2 = [a for a in globex_preview["lines"][0]["allocations"] if a["source"] == "time_entry:t2"]
    assert [(a["quantity"], a["payer"]) for a in t2] == [("1.2", GLOBEX)]
    body = {"period": "2026-03", "expected_fingerprint": preview["fingerprint"]}
    committed = api.post("/billing-runs", body, who="finance")
    assert committed.status_code == 201, committed.text
    acme_id, globex_id = committed.json()["invoice_ids"]
    issue(api, acme_id)
    issue(api, globex_id)

    listed = api.get("/invoices", who="finance", payer_id=GLOBEX).json()["items"]
    assert [(i["invoice_id"], i["payer_id"]) for i in listed] == [(globex_id, GLOBEX)]
    assert api.get(f"/invoices/{globex_id}", who="client_viewer_b").status_code == 200
    assert problem(api.get(f"/invoices/{acme_id}", who="client_viewer_b")) == "not-found"
    seen_by_globex = api.get("/invoices", who="client_viewer_b").json()["items"]
    assert [i["invoice_id"] for i in seen_by_globex] == [globex_id]

    not_theirs = credit_of_line_one("1", "1 h of t2 was not globex's", "time_entry:t2")
    drafted = drafted_credit(api, globex_id, not_theirs)
    memo_id = drafted["credit_memo_id"]
    assert drafted["net"] == money("100.00")
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").status_code == 200
    assert api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"}).is_success
    acme_after = api.get(f"/invoices/{acme_id}", who="finance").json()
    assert acme_after["outstanding"] == money("1008.00")  # acme's invoice is untouched

    api.app.clock.advance(days=31)  # April has begun: a run may bill it (ADR 0025)
    april = api.post("/billing-runs/preview", {"period": "2026-04"}, who="finance").json()
    (rebill,) = april["invoices"]
    assert (rebill["payer_id"], rebill["net"]) == (GLOBEX, money("100.00"))
    (line,) = rebill["lines"]
    assert [(a["source"], a["quantity"], a["payer"]) for a in line["allocations"]] == [
        ("time_entry:t2", "1", GLOBEX)
    ]


def test_payers_that_do_not_add_up_are_refused_at_the_field_and_nothing_is_drafted(
    api_on: Api,
) -> None:
    api = api_on
    seed(api)
    wrong = [
        {
            "obligation_id": "tm",
            "payers": [
                {"payer_id": "acme", "percent": "70"},
                {"payer_id": GLOBEX, "percent": "20"},
            ],
        }
    ]
    refused = version(api, wrong)
    assert (refused.status_code, problem(refused)) == (400, "validation-error")
    assert refused.json()["errors"][0]["pointer"] == "/payers/0/payers"
    assert "sum to 90" in refused.json()["detail"]
    both = [{"obligation_id": "tm", "payers": [{"payer_id": "acme"}]}]
    refused = version(api, both)
    assert refused.json()["errors"][0]["pointer"] == "/payers/0/payers/0"
    unknown = [{"obligation_id": "tm", "payers": [{"payer_id": "acme", "share": "100"}]}]
    assert version(api, unknown).status_code == 400
    too_precise = [
        {
            "obligation_id": "tm",
            "payers": [
                {"payer_id": GLOBEX, "fixed_amount": "10.001"},
                {"payer_id": "acme", "percent": "100"},
            ],
        }
    ]
    refused = version(api, too_precise)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["pointer"] == "/payers/0/payers/0/fixed_amount"
    assert api.get("/contracts/C1", who="finance").json()["versions"] == []
