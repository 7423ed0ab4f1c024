"""Billing runs through HTTP: the preview changes nothing and answers the very proposal a
commit stores; the commit is guarded by the preview's fingerprint and its Idempotency-Key."""

from __future__ import annotations

from decimal import Decimal

from application import commands as c
from domain.period import Period
from domain.time_and_materials import NotToExceed, OveragePolicy
from tests.e2e.http.books_setup import MARCH, entry, money, problem, tm_with_march_time
from tests.e2e.http.harness import Api


def test_the_preview_proposes_to_the_cent_and_stores_nothing(api: Api) -> None:
    tm_with_march_time(api)
    response = api.post("/billing-runs/preview", {"period": MARCH}, who="finance")
    assert response.status_code == 200, response.text
    run = response.json()
    (invoice,) = run["invoices"]
    assert (invoice["customer_id"], invoice["contract_id"]) == ("acme", "C1")
    (line,) = invoice["lines"]
    assert (line["quantity"], line["unit_price"], line["amount"]) == (
        "12",
        money("100.00"),  # a rate with at least the currency's minor digits
        money("1200.00"),
    )
    assert [(a["source"], a["quantity"]) for a in line["allocations"]] == [
        ("time_entry:t1", "8"),
        ("time_entry:t2", "4"),
    ]
    assert (invoice["net"], invoice["tax"], invoice["gross"]) == (
        money("1200.00"),
        money("240.00"),
        money("1440.00"),
    )
    assert invoice["tax_lines"] == [
        {
            "tax_code": "VAT20",
            "base": money("1200.00"),
            "rate": "0.20",
            "tax": money("240.00"),
            "note": "",
        }
    ]
    assert run["diff"] == [
        {
            "contract_id": "C1",
            "obligation_id": "tm",
            "already_invoiced": money("0.00"),
            "proposed": money("1200.00"),
            "after": money("1200.00"),
            "sources": 2,
        }
    ]
    assert (run["dry_run"], run["invoice_ids"], len(run["fingerprint"])) == (True, [], 64)
    assert api.get("/invoices", who="finance").json()["items"] == []
    again = api.post("/billing-runs/preview", {"period": MARCH}, who="finance")
    assert again.json() == run  # same inputs, same proposal, same fingerprint


def test_a_preview_needs_no_idempotency_key(api: Api) -> None:
    tm_with_march_time(api)
    response = api.client.post(
        "/billing-runs/preview", json={"period": MARCH}, headers=api.headers("finance")
    )
    assert response.status_code == 200, response.text


def test_the_commit_stores_the_previewed_drafts_once(api: Api) -> None:
    tm_with_march_time(api)
    preview = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    body = {"period": MARCH, "expected_fingerprint": preview["fingerprint"]}
    committed = api.post("/billing-runs", body, who="finance", key="march-run")
    assert committed.status_code == 201, committed.text
    stored = committed.json()
    (invoice_id,) = stored["invoice_ids"]
    assert (stored["dry_run"], stored["invoices"]) == (False, preview["invoices"])
    assert stored["fingerprint"] == preview["fingerprint"]
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert (invoice["state"], invoice["gross"], invoice["created_by"]) == (
        "draft",
        money("1440.00"),
        "fran.finance",
    )
    replay = api.post("/billing-runs", body, who="finance", key="march-run")
    assert (replay.status_code, replay.json()) == (201, stored)
    assert len(api.get("/invoices", who="finance").json()["items"]) == 1
    nothing_left = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    assert nothing_left["invoices"] == []  # nothing is billed twice
    assert nothing_left["diff"] == []


def test_a_commit_without_a_fingerprint_answers_what_its_preview_proposed(api: Api) -> None:
    tm_with_march_time(api)
    preview = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    committed = api.post("/billing-runs", {"period": MARCH}, who="finance", key="march")
    assert committed.status_code == 201, committed.text
    stored = committed.json()
    assert len(stored["invoice_ids"]) == 1
    # The answer reads the stored drafts back (ADR 0060): the preview's content, to the cent.
    assert {**stored, "dry_run": True, "invoice_ids": []} == preview


def test_a_proposal_that_changed_since_its_preview_is_refused(api: Api) -> None:
    tm_with_march_time(api)
    preview = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    late = {"entries": [entry("t3", "2026-03-09", "1")]}
    assert api.post("/time-entries", late, who="integration").status_code == 200
    body = {"period": MARCH, "expected_fingerprint": preview["fingerprint"]}
    refused = api.post("/billing-runs", body, who="finance", key="stale-run")
    assert (refused.status_code, problem(refused)) == (409, "conflict")
    assert "preview it again" in refused.json()["detail"]
    assert api.get("/invoices", who="finance").json()["items"] == []
    fresh = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    assert fresh["invoices"][0]["net"] == money("1300.00")
    retry = {"period": MARCH, "expected_fingerprint": fresh["fingerprint"]}
    assert api.post("/billing-runs", retry, who="finance", key="stale-run").status_code == 201


def test_the_preview_shows_what_is_held_over_a_cap(api: Api) -> None:
    tm_with_march_time(api, cap=NotToExceed(amount=Decimal("1000"), policy=OveragePolicy.HOLD))
    run = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    assert run["invoices"][0]["net"] == money("1000.00")  # 8 h + 2 h up to the cap
    assert run["exclusions"] == [
        {
            "obligation_id": "tm",
            "source": "time_entry:t2",
            "quantity": "2",
            "value": money("200.00"),
            "disposition": "held",
            "reason": run["exclusions"][0]["reason"],
        }
    ]
    committed = api.post("/billing-runs", {"period": MARCH}, who="finance")
    assert committed.json()["exclusions"] == run["exclusions"]
    assert api.app.data.time_entries["t2"].held == Decimal("2")  # the commit recorded the hold


def test_a_commit_in_a_closed_period_is_refused(api: Api) -> None:
    tm_with_march_time(api)
    api.app.clock.advance(days=31)
    api.app.do(c.ClosePeriod(Period.month(2026, 3)), actor="controller")
    refused = api.post("/billing-runs", {"period": MARCH, "invoice_date": "2026-03-31"})
    assert (refused.status_code, problem(refused)) == (422, "period-closed")
    april = api.post("/billing-runs", {"period": MARCH, "invoice_date": "2026-04-01"})
    assert april.status_code == 201, april.text  # dated in the open April
    assert len(april.json()["invoice_ids"]) == 1


def test_billing_runs_are_validated_and_permissioned(api: Api) -> None:
    tm_with_march_time(api)
    unknown_field = api.post("/billing-runs/preview", {"period": MARCH, "dry_run": False})
    assert (unknown_field.status_code, unknown_field.json()["errors"][0]["pointer"]) == (
        400,
        "/dry_run",
    )
    bad_month = api.post("/billing-runs/preview", {"period": "2026-3"})
    assert bad_month.status_code == 400
    bad_print = api.post("/billing-runs", {"period": MARCH, "expected_fingerprint": "abc"})
    assert bad_print.status_code == 400
    unknown = api.post("/billing-runs/preview", {"period": MARCH, "contract_ids": ["C9"]})
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")
    for who in ("delivery_manager", "finance_approver", "auditor"):
        preview = api.post("/billing-runs/preview", {"period": MARCH}, who=who)
        assert (preview.status_code, problem(preview)) == (403, "forbidden")
    commit = api.post("/billing-runs", {"period": MARCH}, who="finance_approver")
    assert commit.status_code == 403
    no_key = api.client.post(
        "/billing-runs", json={"period": MARCH}, headers=api.headers("finance")
    )
    assert (no_key.status_code, problem(no_key)) == (400, "idempotency-key-missing")
    assert api.get("/invoices", who="finance").json()["items"] == []
