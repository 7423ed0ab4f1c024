"""Credits by amount and credits on milestones through HTTP (ADR 0026, 0027): an amount
concession returns no hours, over-crediting is refused in both forms, bad amounts are refused
at their field, and a milestone credited after the last one was billed is billed again by
exactly the released amount, on that milestone, and nothing else."""

from __future__ import annotations

from typing import Any

from tests.e2e.http.books_setup import issued_invoice, milestone_contract, money, problem
from tests.e2e.http.harness import Api


def credit(api: Api, invoice_id: str, *lines: dict[str, Any]) -> Any:
    body = {"lines": list(lines), "reason": "goodwill"}
    return api.post(f"/invoices/{invoice_id}/credit-memos", body, who="finance")


def approve_and_issue(api: Api, memo_id: str, on: str) -> None:
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").is_success
    issued = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": on})
    assert issued.status_code == 200, issued.text


def test_an_amount_concession_takes_value_and_returns_no_hours(api_on: Api) -> None:
    api = api_on  # stored and read back on every store
    invoice_id = issued_invoice(api)  # t1 8 h + t2 4 h at 100.00, VAT 20 %
    response = credit(api, invoice_id, {"line_no": 1, "amount": "150.00"})
    assert response.status_code == 201, response.text
    memo = response.json()
    assert (memo["net"], memo["tax"], memo["gross"]) == (
        money("150.00"),
        money("30.00"),
        money("180.00"),
    )
    assert (memo["write_off"], memo["conceded_lines"]) == (False, [1])
    (line,) = memo["lines"]
    # 150.00 over 800.00 and 400.00 of value: 100.00 and 50.00, no hours
    assert [(a["source"], a["quantity"]) for a in line["allocations"]] == [
        ("time_entry:t1", "0"),
        ("time_entry:t2", "0"),
    ]
    approve_and_issue(api, memo["credit_memo_id"], "2026-04-03")
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert invoice["outstanding"] == money("1260.00")  # 1,440.00 − 180.00
    api.app.clock.advance(days=31)
    april = api.post("/billing-runs/preview", {"period": "2026-04"}, who="finance").json()
    assert april["invoices"] == []  # no hour came back to be billed


def test_a_discarded_draft_gives_back_what_it_reserved_once_stored(api_on: Api) -> None:
    api = api_on  # the release is stored and read back on every store
    invoice_id = issued_invoice(api)  # line 1 bills 1,200.00
    wrong = credit(api, invoice_id, {"line_no": 1, "amount": "1200.00"})
    assert wrong.status_code == 201, wrong.text
    assert credit(api, invoice_id, {"line_no": 1, "amount": "120.00"}).status_code == 422
    memo_id = wrong.json()["credit_memo_id"]
    dropped = api.post(f"/credit-memos/{memo_id}/discard", {"reason": "1,200 for 120"})
    assert (dropped.status_code, dropped.json()["state"]) == (200, "discarded"), dropped.text
    right = credit(api, invoice_id, {"line_no": 1, "amount": "120.00"})
    assert right.status_code == 201, right.text
    approve_and_issue(api, right.json()["credit_memo_id"], "2026-04-03")
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert invoice["outstanding"] == money("1296.00")  # 1,440.00 - 144.00
    stored = api.get(f"/credit-memos/{memo_id}", who="finance").json()
    assert (stored["state"], stored["discard_reason"]) == ("discarded", "1,200 for 120")
    assert "discard_reason" not in right.json()  # a credit not discarded says nothing of it


def test_over_crediting_is_refused_by_amount_and_by_quantity_alike(api: Api) -> None:
    invoice_id = issued_invoice(api)
    assert credit(api, invoice_id, {"line_no": 1, "amount": "1000.00"}).status_code == 201
    # 200.00 of the line's 1,200.00 is left, drafts reserved
    for line in (
        {"line_no": 1, "amount": "200.01"},
        {"line_no": 1, "source": "time_entry:t2", "amount": "133.34"},
        {"line_no": 1, "quantity": "13"},
    ):
        refused = credit(api, invoice_id, line)
        assert (refused.status_code, problem(refused)) == (422, "business-rule"), line
    rest = credit(api, invoice_id, {"line_no": 1})
    assert (rest.status_code, rest.json()["net"]) == (201, money("200.00"))


def test_bad_amount_credit_lines_are_refused_at_their_field(api: Api) -> None:
    invoice_id = issued_invoice(api)
    cases = [
        ({"line_no": 1, "quantity": "1", "amount": "100.00"}, "/lines/0/amount"),
        ({"line_no": 1, "amount": "100"}, "/lines/0/amount"),
        ({"line_no": 1, "amount": "100.001"}, "/lines/0/amount"),
        ({"line_no": 1, "amount": "-5.00"}, "/lines/0/amount"),
        ({"line_no": 1, "amount": "0.00"}, "/lines/0/amount"),
        ({"line_no": 1, "quantity": "1", "releases": True}, "/lines/0/releases"),
        ({"line_no": 1, "quantity": "0"}, "/lines/0/quantity"),
        ({"line_no": 1, "quantity": "-1"}, "/lines/0/quantity"),
    ]
    for line, pointer in cases:
        refused = credit(api, invoice_id, line)
        assert refused.status_code == 400, (line, refused.text)
        assert refused.json()["errors"][0]["pointer"] == pointer, line
    listed = api.get("/credit-memos", who="finance", invoice_id=invoice_id).json()["items"]
    assert listed == []  # nothing was drafted


def test_a_milestone_credited_after_the_last_one_is_billed_again_by_exactly_that_amount(
    api_on: Api,
) -> None:
    api = api_on  # stored and read back on every store
    milestone_contract(api)  # C2: 1,000.00, M1 40 %, M2 60 % final
    for milestone, day in (("M1", "2026-03-10"), ("M2", "2026-03-20")):
        done = {"evidence": "signed off", "on": day}
        assert api.post(f"/milestones/{milestone}/complete", done, who="delivery_manager")
        accepted = api.post(f"/milestones/{milestone}/accept", {"on": day}, who="integration")
        assert accepted.status_code == 200, accepted.text
    scope = {"period": "2026-03", "contract_ids": ["C2"]}
    preview = api.post("/billing-runs/preview", scope, who="finance").json()
    committed = api.post(
        "/billing-runs", {**scope, "expected_fingerprint": preview["fingerprint"]}, who="finance"
    )
    (invoice_id,) = committed.json()["invoice_ids"]
    assert api.post(f"/invoices/{invoice_id}/approve", who="finance_approver").is_success
    assert api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"}).is_success
    drafted = credit(api, invoice_id, {"line_no": 1, "amount": "100.00", "releases": True})
    assert (drafted.status_code, drafted.json()["conceded_lines"]) == (201, []), drafted.text
    approve_and_issue(api, drafted.json()["credit_memo_id"], "2026-04-03")
    api.app.clock.advance(days=31)
    april = api.post("/billing-runs/preview", {"period": "2026-04", "contract_ids": ["C2"]})
    body = april.json()
    assert body["blocked"] == []
    (invoice,) = body["invoices"]
    (line,) = invoice["lines"]
    assert (line["amount"], invoice["net"]) == (money("100.00"), money("100.00"))
    assert [(a["source"], a["quantity"]) for a in line["allocations"]] == [("milestone:M1", "0")]
