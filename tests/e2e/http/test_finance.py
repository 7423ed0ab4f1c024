"""Revenue runs, engagement balances (cost and margin property-protected) and the period
lock, through HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from application import commands as c
from domain.time_and_materials import NotToExceed, OveragePolicy
from entrypoints.http.security import COST_KEYS
from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import MARCH, issued_invoice, money, payment, problem
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import set_up_tm_contract, time_entry


def test_a_revenue_run_posts_the_catch_up_once(api: Api) -> None:
    issued_invoice(api)
    first = api.post("/revenue-runs", {"period": MARCH}, who="finance")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "period": "2026-03",
        "posted_on": "2026-03-31",
        "posted": [{"obligation_id": "tm", "revenue": money("1200.00")}],  # 12 h as incurred
        "held": [],
    }
    again = api.post("/revenue-runs", {"period": MARCH}, who="finance")
    assert again.json()["posted"] == []  # the books are up to date: nothing more to post
    assert api.post("/revenue-runs", {"period": MARCH}, who="finance_approver").status_code == 403
    bad = api.post("/revenue-runs", {"period": MARCH, "dry_run": True}, who="finance")
    assert (bad.status_code, bad.json()["errors"][0]["pointer"]) == (400, "/dry_run")


def test_a_revenue_run_for_a_month_not_begun_or_behind_the_books_is_refused(api: Api) -> None:
    seeded_balances(api)  # recognised through April; today is in April
    journal = api.app.data.journal[:]

    ahead = api.post("/revenue-runs", {"period": "2026-05"}, who="finance")
    behind = api.post("/revenue-runs", {"period": "2026-02"}, who="finance")

    assert (ahead.status_code, problem(ahead)) == (422, "business-rule")
    assert "period 2026-05 starts on 2026-05-01, after today" in ahead.json()["detail"]
    assert (behind.status_code, problem(behind)) == (422, "business-rule")
    assert behind.json()["detail"] == (
        "revenue is recognised through 2026-04-30 already: a run through 2026-02-28 would "
        "reverse what was recognised since; run a period that ends on 2026-04-30 or later"
    )
    assert api.app.data.journal == journal
    again = api.post("/revenue-runs", {"period": "2026-04"}, who="finance")
    assert (again.status_code, again.json()["posted"]) == (200, [])


def seeded_balances(api: Api) -> None:
    """A T&M contract capped at 5,000.00; March: t1 8 h costed at 60, t2 4 h without a cost
    rate, billed, issued and recognised; t3 3 h on 1 April recognised but not yet billed."""
    set_up_tm_contract(api.app, cap=NotToExceed(amount=Decimal("5000"), policy=OveragePolicy.HOLD))
    api.app.do(
        c.RecordTimeEntries(
            (
                time_entry("t1", date(2026, 3, 2), "8", cost_rate=Decimal("60")),
                time_entry("t2", date(2026, 3, 3), "4"),
                time_entry("t3", date(2026, 4, 1), "3", cost_rate=Decimal("60")),
            )
        )
    )
    (invoice_id,) = api.post("/billing-runs", {"period": MARCH}).json()["invoice_ids"]
    api.post(f"/invoices/{invoice_id}/approve", who="finance_approver")
    api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    api.post("/revenue-runs", {"period": MARCH})
    api.app.clock.advance(days=31)  # April has begun
    assert api.post("/revenue-runs", {"period": "2026-04"}).status_code == 200


def test_balances_as_of_a_month_end_with_cost_and_margin_for_finance(api: Api) -> None:
    seeded_balances(api)
    found = ok(api.get("/engagements/E1/balances", who="finance", as_of=MARCH))
    assert (found["as_of"], found["customer_id"], found["contract_id"]) == (
        "2026-03-31",
        "acme",
        "C1",
    )
    assert (found["recognised"], found["billed"]) == (money("1200.00"), money("1200.00"))
    assert (found["unbilled_wip"], found["deferred_revenue"]) == (money("0.00"), money("0.00"))
    assert found["backlog"] == money("3800.00")  # the 5,000.00 cap less what was billed
    assert (found["cost"], found["margin"], found["margin_percent"]) == (
        money("480.00"),  # 8 h x 60; the 4 h without a cost rate are not guessed
        money("720.00"),
        "60.0",
    )
    assert found["uncosted_hours"] == "4"
    (tm,) = found["obligations"]
    assert (tm["model"], tm["contract_value"], tm["cost"]) == (
        "time_and_materials",
        money("5000.00"),
        money("480.00"),
    )
    april = api.get("/engagements/E1/balances", who="finance", as_of="2026-04").json()
    assert (april["recognised"], april["billed"]) == (money("1500.00"), money("1200.00"))
    assert (april["unbilled_wip"], april["backlog"]) == (money("300.00"), money("3800.00"))


def test_cost_and_margin_keys_are_absent_without_rates_read_cost(api: Api) -> None:
    seeded_balances(api)
    found = ok(api.get("/engagements/E1/balances", who="delivery_manager", as_of=MARCH))
    assert (found["unbilled_wip"], found["backlog"]) == (money("0.00"), money("3800.00"))
    hidden = COST_KEYS | {"uncosted_hours"}
    assert hidden.isdisjoint(found)
    assert all(hidden.isdisjoint(row) for row in found["obligations"])


def test_balances_are_permissioned_and_need_a_known_engagement(api: Api) -> None:
    seeded_balances(api)
    for who in ("client_viewer", "sales_ops", "integration"):
        refused = api.get("/engagements/E1/balances", who=who, as_of=MARCH)
        assert (refused.status_code, problem(refused)) == (403, "forbidden")
    unknown = api.get("/engagements/E9/balances", who="finance", as_of=MARCH)
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")
    bad = api.get("/engagements/E1/balances", who="finance", as_of="March")
    assert (bad.status_code, problem(bad)) == (400, "validation-error")


def test_a_closed_period_refuses_postings_until_it_is_reopened_with_a_reason(api: Api) -> None:
    invoice_id = issued_invoice(api)
    too_early = api.post("/periods/2026-03/close", who="finance")
    assert (too_early.status_code, problem(too_early)) == (422, "business-rule")  # not ended
    api.app.clock.advance(days=31)  # April: March has ended
    closed = api.post("/periods/2026-03/close", who="finance")
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["closed_by"]) == ("closed", "fran.finance")
    in_march = payment("P1", "100.00", "2026-03-31")
    refused = api.post(f"/invoices/{invoice_id}/payments", in_march, key="pay-0330")
    assert (refused.status_code, problem(refused)) == (422, "period-closed")
    assert api.post("/revenue-runs", {"period": MARCH}).status_code == 422
    assert api.get("/periods", who="auditor").json()["items"] == [
        {
            "period": "2026-03",
            "start": "2026-03-01",
            "end": "2026-03-31",
            "state": "closed",
            "closed_by": "fran.finance",
            "closed_at": closed.json()["closed_at"],
            "reopen_reason": None,
        }
    ]
    by_finance = api.post("/periods/2026-03/reopen", {"reason": "late payment"}, who="finance")
    assert (by_finance.status_code, problem(by_finance)) == (403, "forbidden")
    no_reason = api.post("/periods/2026-03/reopen", {"reason": ""}, who="finance_approver")
    assert no_reason.status_code == 400
    reopened = api.post(
        "/periods/2026-03/reopen", {"reason": "late bank statement"}, who="finance_approver"
    )
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["state"], reopened.json()["reopen_reason"]) == (
        "open",
        "late bank statement",
    )
    # the refused payment was not stored with its key: the same request now goes through
    paid = api.post(f"/invoices/{invoice_id}/payments", in_march, key="pay-0330")
    assert (paid.status_code, paid.json()["state"]) == (200, "partially_paid")
    reopen = next(r for r in api.app.data.audit if r.action == "reopen")
    assert (reopen.actor, reopen.reason) == ("alex.approver", "late bank statement")


def test_a_payment_received_before_the_invoice_was_issued_is_refused(api: Api) -> None:
    invoice_id = issued_invoice(api)  # issued on 31 March
    early = api.post(f"/invoices/{invoice_id}/payments", payment("P1", "100.00", "2026-03-30"))
    assert (early.status_code, problem(early)) == (422, "business-rule")
    assert early.json()["detail"] == (
        "invoice INV-2026-000001 was issued on 2026-03-31: it cannot be paid on 2026-03-30, "
        "before it was issued"
    )
    on_the_day = api.post(f"/invoices/{invoice_id}/payments", payment("P1", "100.00", "2026-03-31"))
    assert (on_the_day.status_code, on_the_day.json()["state"]) == (200, "partially_paid")


def test_period_paths_and_states_are_checked(api: Api) -> None:
    assert api.post("/periods/2026-13/close", who="finance").status_code == 400
    never = api.post("/periods/2026-02/reopen", {"reason": "x"}, who="finance_approver")
    assert (never.status_code, problem(never)) == (404, "not-found")
    api.app.clock.advance(days=31)
    assert api.post("/periods/2026-03/close", who="finance_approver").status_code == 200
    twice = api.post("/periods/2026-03/close", who="finance_approver")
    assert (twice.status_code, problem(twice)) == (409, "invalid-state")
    assert api.get("/periods", who="finance", state="open").json()["items"] == []
    assert api.get("/periods", who="delivery_manager").status_code == 403
