"""Credit memos through HTTP: part of a line credited to the cent, maker-checker on approval,
issue, the credited hours (and only those) billable again, and scoping by the invoice's
customer."""

from __future__ import annotations

from tests.e2e.http.books_setup import (
    approved_by_its_maker,
    credit_of_line_one,
    entry,
    issued_invoice,
    money,
    problem,
)
from tests.e2e.http.harness import Api

TWO_HOURS = credit_of_line_one("2", "2 h booked twice", "time_entry:t2")


def drafted(api: Api) -> tuple[str, str]:
    invoice_id = issued_invoice(api)
    response = api.post(f"/invoices/{invoice_id}/credit-memos", TWO_HOURS, who="finance")
    assert response.status_code == 201, response.text
    return invoice_id, str(response.json()["credit_memo_id"])


def test_part_of_a_line_is_credited_approved_by_a_second_person_and_issued(api: Api) -> None:
    invoice_id = issued_invoice(api)
    response = api.post(f"/invoices/{invoice_id}/credit-memos", TWO_HOURS, who="finance")
    assert response.status_code == 201, response.text
    memo = response.json()
    assert (memo["state"], memo["created_by"], memo["invoice_number"]) == (
        "draft",
        "fran.finance",
        "INV-2026-000001",
    )
    assert (memo["net"], memo["tax"], memo["gross"]) == (
        money("200.00"),
        money("40.00"),
        money("240.00"),
    )
    (line,) = memo["lines"]
    assert (line["credits_line"], line["quantity"], line["amount"]) == (1, "2", money("200.00"))
    assert [(a["source"], a["quantity"]) for a in line["allocations"]] == [("time_entry:t2", "2")]
    memo_id = memo["credit_memo_id"]
    # the person who drafted it holds the approver role too: still not the checker
    maker = approved_by_its_maker(api, f"/credit-memos/{memo_id}/approve", "self-approve")
    assert (maker.status_code, problem(maker)) == (403, "maker-checker")
    approved = api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["approved_by"]) == (
        "approved",
        "alex.approver",
    )
    issued = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"})
    assert issued.status_code == 200, issued.text
    assert (issued.json()["state"], issued.json()["number"], issued.json()["issue_date"]) == (
        "issued",
        "CN-2026-000001",
        "2026-04-03",
    )
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert (invoice["credited"], invoice["outstanding"]) == (money("240.00"), money("1200.00"))
    # the two credited hours, and only those, are billable again
    api.app.clock.advance(days=31)  # April has begun: a run may bill it (ADR 0025)
    april = api.post("/billing-runs/preview", {"period": "2026-04"}, who="finance").json()
    (rebill,) = april["invoices"][0]["lines"]
    assert [(a["source"], a["quantity"]) for a in rebill["allocations"]] == [("time_entry:t2", "2")]


def test_a_credit_memo_is_seen_only_through_its_invoices_customer(api: Api) -> None:
    _invoice_id, memo_id = drafted(api)
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").status_code == 200
    assert api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"}).is_success
    own = api.get(f"/credit-memos/{memo_id}", who="client_viewer")
    assert (own.status_code, own.json()["customer_id"]) == (200, "acme")
    other = api.get(f"/credit-memos/{memo_id}", who="client_viewer_b")
    assert (other.status_code, problem(other)) == (404, "not-found")
    nowhere = api.get("/credit-memos/CM-999999", who="client_viewer_b")
    assert (nowhere.status_code, nowhere.json()["detail"].split()[:4]) == (
        404,
        other.json()["detail"].split()[:4],
    )
    assert [
        m["credit_memo_id"] for m in api.get("/credit-memos", who="client_viewer").json()["items"]
    ] == [memo_id]
    assert api.get("/credit-memos", who="client_viewer_b").json()["items"] == []
    issued = api.get("/credit-memos", who="finance", state="issued").json()["items"]
    assert [(m["credit_memo_id"], m["gross"]) for m in issued] == [(memo_id, money("240.00"))]
    assert api.get("/credit-memos", who="finance", state="draft").json()["items"] == []


def test_a_credit_never_exceeds_what_the_line_billed(api: Api) -> None:
    invoice_id, _memo_id = drafted(api)  # 2 of t2's 4 h are already reserved
    too_much = {
        "lines": [{"line_no": 1, "source": "time_entry:t2", "quantity": "3"}],
        "reason": "more",
    }
    refused = api.post(f"/invoices/{invoice_id}/credit-memos", too_much, who="finance")
    assert (refused.status_code, problem(refused)) == (422, "business-rule")
    no_line = {"lines": [{"line_no": 9}], "reason": "no such line"}
    assert api.post(f"/invoices/{invoice_id}/credit-memos", no_line).status_code == 422
    rest = {"lines": [{"line_no": 1, "source": "time_entry:t2"}], "reason": "the rest of t2"}
    remaining = api.post(f"/invoices/{invoice_id}/credit-memos", rest, who="finance")
    assert (remaining.status_code, remaining.json()["lines"][0]["quantity"]) == (201, "2")


def test_credit_memo_requests_are_validated(api: Api) -> None:
    invoice_id = issued_invoice(api)
    path = f"/invoices/{invoice_id}/credit-memos"
    bad_source = {"lines": [{"line_no": 1, "source": "hours:t2"}], "reason": "x"}
    response = api.post(path, bad_source)
    assert (response.status_code, response.json()["errors"][0]["pointer"]) == (
        400,
        "/lines/0/source",
    )
    chosen_id = {**TWO_HOURS, "credit_memo_id": "CM-MINE"}
    response = api.post(path, chosen_id)
    assert (response.status_code, response.json()["errors"][0]["pointer"]) == (
        400,
        "/credit_memo_id",
    )
    assert api.post(path, {"lines": [], "reason": "x"}).status_code == 400
    assert api.post(path, {"lines": [{"line_no": 1}], "reason": ""}).status_code == 400
    # a credit note states why it was issued: white space is no reason
    blank = api.post(path, {"lines": [{"line_no": 1}], "reason": " \t "})
    assert (blank.status_code, blank.json()["errors"][0]["pointer"]) == (400, "/reason")
    unknown = api.post("/invoices/INV-999999/credit-memos", TWO_HOURS)
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")
    assert api.post(path, TWO_HOURS, who="finance_approver").status_code == 403
    assert api.get("/credit-memos").json()["items"] == []


def test_a_draft_replays_under_its_key_without_a_second_memo(api: Api) -> None:
    invoice_id = issued_invoice(api)
    path = f"/invoices/{invoice_id}/credit-memos"
    first = api.post(path, TWO_HOURS, who="finance", key="credit-t2")
    again = api.post(path, TWO_HOURS, who="finance", key="credit-t2")
    assert (again.status_code, again.json()) == (201, first.json())
    assert len(api.get("/credit-memos").json()["items"]) == 1


def test_only_an_issued_invoice_is_credited_and_only_an_approved_memo_issued(api: Api) -> None:
    _invoice_id, memo_id = drafted(api)
    early = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"})
    assert (early.status_code, problem(early)) == (409, "invalid-state")
    april = {"entries": [entry("t9", "2026-04-06", "1")]}
    assert api.post("/time-entries", april, who="integration").status_code == 200
    api.app.clock.advance(days=31)  # April has begun: a run may bill it (ADR 0025)
    (draft_id,) = api.post("/billing-runs", {"period": "2026-04"}).json()["invoice_ids"]
    on_draft = api.post(
        f"/invoices/{draft_id}/credit-memos", {**TWO_HOURS, "lines": [{"line_no": 1}]}
    )
    assert (on_draft.status_code, problem(on_draft)) == (422, "business-rule")
    assert "discarded instead" in on_draft.json()["detail"]


def test_an_unissued_credit_is_discarded_with_its_reason_and_what_it_reserved_is_free_again(
    api: Api,
) -> None:
    invoice_id, memo_id = drafted(api)  # 2 of t2's 4 h reserved
    discard = f"/credit-memos/{memo_id}/discard"
    assert api.post(discard, {}, who="finance").status_code == 400
    blank = api.post(discard, {"reason": "   "}, who="finance")
    assert (blank.status_code, problem(blank)) == (400, "validation-error")
    assert api.post(discard, {"reason": "x"}, who="finance_approver").status_code == 403
    body = {"reason": "wrong line credited"}
    dropped = api.post(discard, body, who="finance", key="drop-cm")
    assert (dropped.status_code, dropped.json()["state"]) == (200, "discarded"), dropped.text
    # the credit's own reason stays; why it was dropped is said beside it
    assert (dropped.json()["reason"], dropped.json()["discard_reason"]) == (
        "2 h booked twice",
        "wrong line credited",
    )
    again = api.post(discard, body, who="finance", key="drop-cm")
    assert (again.status_code, again.json()) == (200, dropped.json())
    (record,) = [r for r in api.app.data.audit if r.action == "discard"]
    assert (record.subject, record.reason) == (f"credit_memo:{memo_id}", "wrong line credited")
    # all four hours of t2 can be credited again
    whole = {"lines": [{"line_no": 1, "source": "time_entry:t2"}], "reason": "t2 not delivered"}
    redrafted = api.post(f"/invoices/{invoice_id}/credit-memos", whole, who="finance")
    assert (redrafted.status_code, redrafted.json()["lines"][0]["quantity"]) == (201, "4")
    steps = [("discard", body, "finance"), ("approve", None, "finance_approver")]
    steps.append(("issue", {"issue_date": "2026-04-03"}, "finance"))
    for step, payload, who in steps:
        late = api.post(f"/credit-memos/{memo_id}/{step}", payload, who=who)
        assert (late.status_code, problem(late)) == (409, "invalid-state"), step
    assert api.get(f"/credit-memos/{memo_id}", who="finance").json()["state"] == "discarded"


def test_an_issued_credit_is_never_discarded(api: Api) -> None:
    _invoice_id, memo_id = drafted(api)
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").status_code == 200
    assert api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"}).is_success
    late = api.post(f"/credit-memos/{memo_id}/discard", {"reason": "changed our mind"})
    assert (late.status_code, problem(late)) == (409, "invalid-state")
    assert api.get(f"/credit-memos/{memo_id}").json()["state"] == "issued"
