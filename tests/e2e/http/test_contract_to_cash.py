"""Contract to cash through HTTP only, once the contract is seeded: delivery in, a previewed
and committed billing run, maker-checker approval, issue (with the ERP down for a moment), a
partial payment, a dispute settled by a partial credit memo, revenue, balances, the period
lock, the exception queue, the audit chain and a clean reconciliation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.ledger import trial_balance
from domain.money import Money
from tests.e2e.http.books_setup import (
    MARCH,
    approved_by_its_maker,
    credit_of_line_one,
    drafted_credit,
    entry,
    money,
    payment,
    problem,
)
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import EUR, set_up_tm_contract


def test_contract_to_cash(api: Api) -> None:
    set_up_tm_contract(api.app)  # acme, engagement E1, 100.00 EUR an hour, VAT 20 %

    # -- delivery: the PSA sends approved time; one entry is refused with its reason code
    batch = {
        "entries": [
            entry("t1", "2026-03-02", "8"),
            entry("t2", "2026-03-03", "4"),
            entry("t3", "2026-03-04", "2", engagement_id="E9"),
        ]
    }
    sent = api.post("/time-entries", batch, who="integration", key="psa-export-1")
    assert sent.status_code == 200, sent.text
    assert [(r["status"], r["reason_code"]) for r in sent.json()["results"]] == [
        ("accepted", None),
        ("accepted", None),
        ("rejected", "unknown_engagement"),
    ]
    resent = api.post("/time-entries", batch, who="integration", key="psa-export-2")
    assert resent.json()["counts"] == {"accepted": 0, "duplicates": 2, "rejected": 1}
    listed = api.get("/time-entries", who="delivery_manager", engagement_id="E1", period=MARCH)
    assert [e["entry_id"] for e in listed.json()["items"]] == ["t1", "t2"]  # no second effect

    # -- billing: preview, then commit exactly what was previewed
    preview = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    (proposed,) = preview["invoices"]
    assert (proposed["net"], proposed["tax"], proposed["gross"]) == (
        money("1200.00"),
        money("240.00"),
        money("1440.00"),
    )
    commit = {"period": MARCH, "expected_fingerprint": preview["fingerprint"]}
    committed = api.post("/billing-runs", commit, who="finance", key="run-2026-03")
    assert committed.status_code == 201, committed.text
    (invoice_id,) = committed.json()["invoice_ids"]

    # -- approval: not by the maker (who committed the run), even holding the approver role
    maker = approved_by_its_maker(api, f"/invoices/{invoice_id}/approve", "approve-own")
    assert (maker.status_code, problem(maker)) == (403, "maker-checker")
    approved = api.post(f"/invoices/{invoice_id}/approve", who="finance_approver")
    assert (approved.status_code, approved.json()["approved_by"]) == (200, "alex.approver")

    # -- issue while the ERP is down: the invoice is issued, the hand-over waits in the queue
    api.app.handover.available = False
    issued = api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    api.app.handover.available = True
    assert issued.status_code == 200, issued.text
    number = issued.json()["number"]
    assert (issued.json()["state"], number) == ("issued", "INV-2026-000001")

    # -- a partial payment, then a dispute
    partial = payment("PAY-1", "500.00", "2026-03-31")
    paid = api.post(f"/invoices/{invoice_id}/payments", partial, who="integration")
    assert (paid.json()["state"], paid.json()["outstanding"]) == (
        "partially_paid",
        money("940.00"),
    )
    disputed = api.post(
        f"/invoices/{invoice_id}/dispute", {"reason": "2 h of t2 booked twice"}, who="integration"
    )
    assert disputed.json()["state"] == "disputed"

    # -- a credit memo for part of a line, approved by someone else, the dispute resolved
    twice = credit_of_line_one("2", "2 h of t2 booked twice", "time_entry:t2")
    drafted = drafted_credit(api, invoice_id, twice)
    memo_id = drafted["credit_memo_id"]
    assert drafted["gross"] == money("240.00")  # 2 h x 100.00 + 20 % VAT
    own = approved_by_its_maker(api, f"/credit-memos/{memo_id}/approve", "cm")
    assert (own.status_code, problem(own)) == (403, "maker-checker")
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").status_code == 200
    resolved = api.post(
        f"/invoices/{invoice_id}/resolve",
        {"resolution": "2 h credited, the rest upheld"},
        who="integration",
    )
    assert resolved.json()["state"] == "partially_paid"  # back to where the payment left it
    memo = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-03-31"})
    assert (memo.json()["state"], memo.json()["number"]) == ("issued", "CN-2026-000001")
    invoice = api.get(f"/invoices/{invoice_id}", who="client_viewer").json()
    assert (invoice["paid"], invoice["credited"], invoice["outstanding"]) == (
        money("500.00"),
        money("240.00"),
        money("700.00"),  # 1,440.00 - 500.00 - 240.00
    )

    # -- revenue and balances
    revenue = api.post("/revenue-runs", {"period": MARCH}, who="finance").json()
    assert revenue["posted"] == [{"obligation_id": "tm", "revenue": money("1200.00")}]
    balances = api.get("/engagements/E1/balances", who="finance", as_of=MARCH).json()
    assert (balances["recognised"], balances["billed"]) == (money("1200.00"), money("1000.00"))
    assert (balances["unbilled_wip"], balances["deferred_revenue"]) == (
        money("200.00"),  # the credited 2 h: earned, no longer billed
        money("0.00"),
    )
    assert balances["backlog"] is None  # uncapped T&M fixes no contract value
    totals = trial_balance(api.app.data.journal)
    assert sum((v.amount for v in totals.values()), Decimal(0)) == 0

    # -- the period lock
    api.app.clock.advance(days=31)  # April: March has ended
    closed = api.post("/periods/2026-03/close", who="finance")
    assert closed.json()["state"] == "closed"
    late = {**partial, "payment_id": "PAY-2", "amount": "100.00"}
    refused = api.post(f"/invoices/{invoice_id}/payments", late, who="integration")
    assert (refused.status_code, problem(refused)) == (422, "period-closed")
    reopened = api.post(
        "/periods/2026-03/reopen", {"reason": "bank statement arrived late"}, who="finance_approver"
    )
    assert reopened.json()["state"] == "open"

    # -- the exception queue: the hand-over that failed at issue, replayed
    (waiting,) = api.get("/exceptions", who="finance", state="retry_scheduled").json()["items"]
    assert (waiting["workflow"], waiting["subject"]) == (
        "invoice_handover",
        f"invoice:{invoice_id}",
    )
    replay = api.post(f"/exceptions/{waiting['exception_id']}/replay", who="finance_approver")
    assert (replay.json()["healed"], replay.json()["exception"]["state"]) == (True, "resolved")
    assert list(api.app.handover.received) == [f"{invoice_id}:handover"]

    # -- the audit chain is intact; a clean month reconciles with no exception
    chain = api.get("/audit/verify", who="auditor").json()
    assert (chain["intact"], chain["first_broken"]) == (True, None)
    api.app.psa.rows = [
        ("t1", date(2026, 3, 2), Decimal("8")),
        ("t2", date(2026, 3, 3), Decimal("4")),
    ]
    api.app.erp.rows = [(number, date(2026, 3, 31), Money(Decimal("1440.00"), EUR))]
    report = api.get("/reconciliation", who="auditor", period=MARCH).json()
    assert (report["clean"], report["exceptions"]) == (True, [])
    assert report["totals"]["billed_hours"] == "10"  # 12 billed less the 2 credited
