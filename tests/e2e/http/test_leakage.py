"""The leakage report through HTTP, on each store (ADR 0028): a write-off credit is conceded
once, a hand write-off of the same hours is refused, hours written off by hand and aged
unbilled time are reported by month, and bad query parameters are 400 at the parameter.

March (the contract of `set_up_tm_contract`, 100.00 EUR an hour): t1 8 h and t2 4 h billed and
issued on 31 March; 2 h of t2 credited with `write_off` on 3 April; t3 4 h on 10 March never
billed, 1 h of it written off by hand. The books are read on 20 April.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.ids import ObligationId, RateCardId
from domain.time_and_materials import ExpensePolicy, TimeAndMaterialsTerms
from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import (
    credit_of_line_one,
    drafted_credit,
    entry,
    issued_invoice,
    money,
    problem,
)
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import EUR, set_up_tm_contract, sign_contract

NOTHING = money("0.00")


def seeded(api: Api) -> None:
    invoice_id = issued_invoice(api)
    goodwill = credit_of_line_one(
        "2", "goodwill: the client's training hours", "time_entry:t2", write_off=True
    )
    memo_id = drafted_credit(api, invoice_id, goodwill)["credit_memo_id"]
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").is_success
    issued = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"})
    assert issued.status_code == 200, issued.text
    late = api.post(
        "/time-entries", {"entries": [entry("t3", "2026-03-10", "4")]}, who="integration"
    )
    assert late.status_code == 200, late.text
    by_hand = api.post("/items/t3/write-off", {"reason": "rework", "quantity": "1"})
    assert by_hand.status_code == 200, by_hand.text
    api.app.clock.advance(days=50)  # 20 April


def leakage(**figures: dict[str, str]) -> dict[str, Any]:
    found = {"over_cap": NOTHING, "by_hand": NOTHING, "conceded": NOTHING}
    found |= {"expired_expense": NOTHING, **figures}
    total = sum((Decimal(v["amount"]) for v in found.values()), Decimal("0.00"))
    return {**found, "total": money(str(total))}


def at_risk(aged: dict[str, dict[str, str]] | None = None, total: str = "0.00") -> dict[str, Any]:
    buckets = {"1-30": NOTHING, "31-60": NOTHING, "61-90": NOTHING, "over_90": NOTHING}
    return {
        "held_over_cap": NOTHING,
        "aged_unbilled": {**buckets, **(aged or {})},
        "milestones_not_invoiced": NOTHING,
        "total": money(total),
    }


def test_leakage_by_cause_and_value_at_risk_per_month_with_totals_per_currency(
    api_on: Api,
) -> None:
    seeded(api_on)
    found = ok(api_on.get("/leakage", who="auditor"))
    assert (found["as_of"], found["start"], found["end"], found["aged_days"]) == (
        "2026-04-20",
        None,
        "2026-04-20",
        30,
    )
    where = {"customer_id": "acme", "engagement_id": "E1", "contract_id": "C1", "currency": "EUR"}
    assert found["groups"] == [
        {  # t3: 1 h written off by hand; its 3 h left unbilled for 41 days
            **where,
            "period": "2026-03",
            "leakage": leakage(by_hand=money("100.00")),
            "at_risk": at_risk({"31-60": money("300.00")}, "300.00"),
        },
        {  # the write-off credit, issued on 3 April: 2 h of t2 at what they billed
            **where,
            "period": "2026-04",
            "leakage": leakage(conceded=money("200.00")),
            "at_risk": at_risk(),
        },
    ]
    assert found["totals"] == [
        {
            "currency": "EUR",
            "leakage": leakage(by_hand=money("100.00"), conceded=money("200.00")),
            "at_risk": at_risk({"31-60": money("300.00")}, "300.00"),
        }
    ]


def test_hours_a_write_off_credit_gave_up_cannot_be_written_off_again(api_on: Api) -> None:
    seeded(api_on)
    again = api_on.post("/items/t2/write-off", {"reason": "goodwill", "quantity": "2"})
    assert (again.status_code, problem(again)) == (422, "business-rule")
    found = api_on.get("/leakage", who="finance").json()
    assert found["totals"][0]["leakage"]["total"] == money("300.00")  # unchanged


def test_filters_narrow_the_report(api_on: Api) -> None:
    seeded(api_on)
    march = api_on.get("/leakage", who="finance_approver", period="2026-03").json()
    assert [g["period"] for g in march["groups"]] == ["2026-03"]
    assert (march["start"], march["end"]) == ("2026-03-01", "2026-03-31")
    ranged = api_on.get("/leakage", **{"from": "2026-04-01", "to": "2026-04-15"}).json()
    assert [g["leakage"]["conceded"] for g in ranged["groups"]] == [money("200.00")]
    recent = api_on.get("/leakage", aged_days=45).json()
    assert recent["totals"][0]["at_risk"]["total"] == NOTHING  # 41 days is not over 45
    assert api_on.get("/leakage", customer_id="globex").json() == {
        **recent,
        "aged_days": 30,
        "groups": [],
        "totals": [],
    }
    assert len(api_on.get("/leakage", engagement_id="E1", contract_id="C1").json()["groups"]) == 2
    unknown = api_on.get("/leakage", engagement_id="E9")
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")


@pytest.mark.parametrize("who", ["client_viewer", "delivery_manager", "integration"])
def test_only_finance_approvers_and_auditors_read_leakage(api_on: Api, who: str) -> None:
    refused = api_on.get("/leakage", who=who)
    assert (refused.status_code, problem(refused)) == (403, "forbidden")


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({"aged_days": "-1"}, "/query/aged_days"),
        ({"aged_days": "soon"}, "/query/aged_days"),
        ({"aged_days": "3651"}, "/query/aged_days"),
        ({"period": "2026-13"}, "/query/period"),
        ({"period": "2026-05"}, "/query/period"),  # not started on 20 April
        ({"period": "2026-03", "from": "2026-03-01"}, "/query/from"),
        ({"from": "yesterday"}, "/query/from"),
        ({"from": "2026-04-10", "to": "2026-04-01"}, "/query/from"),
        ({"to": "2026-12-31"}, "/query/to"),
        ({"engagement_id": "E 1"}, "/query/engagement_id"),
    ],
)
def test_a_bad_query_parameter_is_400_at_the_parameter(
    api_on: Api, query: dict[str, str], pointer: str
) -> None:
    seeded(api_on)
    response = api_on.get("/leakage", who="finance", **query)
    assert (response.status_code, problem(response)) == (400, "validation-error")
    assert [e["pointer"] for e in response.json()["errors"]] == [pointer]


def contract_with_an_expense_window(api: Api) -> None:
    """The T&M contract of `set_up_tm_contract` on its own engagement E3 / contract C3, whose
    expenses bill at cost within 30 days of being incurred."""
    set_up_tm_contract(api.app)
    terms = TimeAndMaterialsTerms(
        ObligationId("tx"), "Travel", EUR, RateCardId("RC"),
        expenses=ExpensePolicy(billing_window_days=30),
    )  # fmt: skip
    sign_contract(api.app, "E3", "C3", "Travel", [terms])
    expense = {
        "expense_id": "x1", "engagement_id": "E3", "obligation_id": "tx", "resource_id": "r1",
        "category": "travel", "incurred_on": "2026-03-01", "amount": "200.00",
        "currency": "EUR",
    }  # fmt: skip
    recorded = api.post("/expenses", {"items": [expense]}, who="integration")
    assert recorded.status_code == 200, recorded.text


def test_an_expense_unbilled_past_its_window_is_expired_leakage(api_on: Api) -> None:
    contract_with_an_expense_window(api_on)
    api_on.app.clock.advance(days=50)  # 20 April
    march = api_on.post("/billing-runs/preview", {"period": "2026-03"}, who="finance").json()
    assert [i["net"] for i in march["invoices"]] == [money("200.00")]  # within 30 days
    april = api_on.post("/billing-runs/preview", {"period": "2026-04"}, who="finance").json()
    assert april["invoices"] == []  # 30 April is past the window: never billed now
    (group,) = api_on.get("/leakage", who="finance").json()["groups"]
    assert (group["engagement_id"], group["period"]) == ("E3", "2026-03")
    assert group["leakage"] == leakage(expired_expense=money("200.00"))


def test_a_deal_still_waiting_for_its_contract_leaks_nothing_and_breaks_no_report(
    api_on: Api,
) -> None:
    seeded(api_on)
    before = ok(api_on.get("/leakage", who="auditor"))
    deal = {"engagement_id": "E9", "customer_id": "acme", "contract_id": "C9"}
    ok(api_on.post("/engagements", deal, who="sales_ops"), 201)  # C9 not registered yet
    assert ok(api_on.get("/leakage", who="auditor")) == before
    assert ok(api_on.get("/leakage", customer_id="acme"))["groups"] == before["groups"]
    assert ok(api_on.get("/leakage", engagement_id="E9"))["groups"] == []
    early = api_on.get("/engagements/E9/balances")
    assert (early.status_code, problem(early)) == (404, "not-found")
    assert early.json()["detail"] == (
        "engagement E9 has no balances yet: its contract C9 is not registered"
    )
