"""Usage-based billing through the real app (ADR 0051), in memory, on SQLite and on PostgreSQL:
a contract drafted over HTTP with usage terms, usage posted by the metering system, a run that
bills the usage and the month's minimum, then late usage and a downward correction that the
next run settles (what is owed on its invoice, what was overbilled credited against the
invoice that billed it); usage by the PSA's webhook too (in memory)."""

from __future__ import annotations

from typing import Any

from application import commands as c
from domain.ids import ContractId, EngagementId
from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import send_event
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import CUSTOMER, ENTITY, set_up_tm_contract

RECORDS = "/delivery-records/usage"
# Bands: 0 to 100 calls at 1.00, then 0.80; at least 150.00 a month from March.
USAGE_TERMS = {
    "model": "usage",
    "obligation_id": "api",
    "name": "API calls",
    "unit": "calls",
    "tiers": [
        {"above": "0", "up_to": "100", "unit_price": "1.00"},
        {"above": "100", "unit_price": "0.80"},
    ],
    "service_start": "2026-03-01",
    "minimum_per_period": "150.00",
}


def set_up_usage_contract(api: Api) -> None:
    """The deal is won in the CRM; the contract and its usage terms come over HTTP."""
    set_up_tm_contract(api.app)  # the firm's tax rates, and a customer with a T&M contract
    api.app.do(c.ProposeEngagement(EngagementId("E3"), CUSTOMER, ContractId("C3")), actor="crm")
    contract = {
        "contract_id": "C3",
        "customer_id": CUSTOMER,
        "legal_entity_id": ENTITY,
        "currency": "EUR",
        "name": "API platform",
    }
    ok(api.post("/contracts", contract, who="integration"), 201)
    version = {"effective_from": "2026-03-01", "obligations": [USAGE_TERMS]}
    drafted = ok(api.post("/contracts/C3/versions", version, who="integration"), 201)
    assert drafted["obligations"] == [
        {"obligation_id": "api", "model": "usage", "name": "API calls"}
    ]
    ok(api.post("/contracts/C3/versions/1/approve", who="sales_ops"))


def used(record_id: str, day: str, quantity: str) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "obligation_id": "api",
        "occurred_on": day,
        "quantity": quantity,
        "unit": "calls",
    }


def report(api: Api, *records: dict[str, Any]) -> list[tuple[str, str]]:
    answer = ok(api.post(RECORDS, {"records": list(records)}, who="integration"))
    return [(r["record_id"], r["status"]) for r in answer["results"]]


def run(api: Api, month: str, dry_run: bool = False) -> Any:
    """A run of the month, on or after its first day."""
    while api.app.clock.now().date().isoformat()[:7] < month:
        api.app.clock.advance(days=1)
    path = "/billing-runs/preview" if dry_run else "/billing-runs"
    return ok(api.post(path, {"period": month, "contract_ids": ["C3"]}), 200 if dry_run else 201)


def lines(document: Any) -> list[tuple[str, str, str]]:
    return [(x["kind"], x["quantity"], x["amount"]["amount"]) for x in document["lines"]]


def test_usage_posted_over_http_is_billed_with_its_minimum_and_late_usage_trued_up(
    api_on: Api,
) -> None:
    api = api_on
    set_up_usage_contract(api)
    assert report(api, used("u1", "2026-03-04", "60")) == [("u1", "accepted")]

    march = run(api, "2026-03")
    # 60 calls at 1.00 = 60.00; the 150.00 minimum asks 90.00 more.
    (invoice,) = march["invoices"]
    assert lines(invoice) == [("usage", "60", "60.00"), ("usage_minimum", "1", "90.00")]
    assert invoice["net"] == {"amount": "150.00", "currency": "EUR"}
    (march_id,) = march["invoice_ids"]
    stored = ok(api.get(f"/invoices/{march_id}", who="finance"))
    assert [(x["kind"], x["sources"]) for x in stored["lines"]] == [
        ("usage", ["usage_record:u1"]),
        ("usage_minimum", ["usage_minimum:api:2026-03"]),
    ]

    # 50 calls dated 20 March arrive late, and u1 is recounted at 70.
    assert report(api, used("u2", "2026-03-20", "50"), used("u1", "2026-03-04", "70")) == [
        ("u2", "accepted"),
        ("u1", "corrected"),
    ]
    april = run(api, "2026-04")
    # March is now 120 calls: 100 x 1.00 + 20 x 0.80 = 116.00 (u1 70.00, u2 46.00), below the
    # minimum by 34.00. The April invoice bills u1's 10 more calls (10.00) and u2 (46.00), and
    # April's minimum (no usage yet): 150.00. A credit against the March invoice takes back
    # the 56.00 of shortfall that March no longer owes (90.00 - 34.00).
    (invoice,) = april["invoices"]
    assert lines(invoice) == [("usage", "60", "56.00"), ("usage_minimum", "1", "150.00")]
    (credit,) = april["adjustments"]
    assert (credit["kind"], credit["references"]) == ("credit_memo", march_id)
    assert lines(credit) == [("usage_minimum", "0", "-56.00")]
    assert credit["net"] == {"amount": "-56.00", "currency": "EUR"}
    # March in all: 150.00 - 56.00 + 56.00 = 150.00 = max(116.00, 150.00).

    again = run(api, "2026-04", dry_run=True)
    assert (again["invoices"], again["adjustments"]) == ([], [])


def test_a_downward_correction_after_billing_is_credited_against_the_invoice(api_on: Api) -> None:
    api = api_on
    set_up_usage_contract(api)
    report(api, used("u1", "2026-03-04", "250"))
    (march_id,) = run(api, "2026-03")["invoice_ids"]  # 100.00 + 150 x 0.80 = 220.00
    assert report(api, used("u1", "2026-03-04", "200")) == [("u1", "corrected")]
    april = run(api, "2026-04")
    # 200 calls are worth 180.00: 50 calls and 40.00 are credited against the March invoice;
    # the April invoice bills April's minimum only.
    (invoice,) = april["invoices"]
    assert lines(invoice) == [("usage_minimum", "1", "150.00")]
    (credit,) = april["adjustments"]
    assert (credit["references"], lines(credit)) == (
        march_id,
        [("usage_correction", "-50", "-40.00")],
    )
    allocations = credit["lines"][0]["allocations"]
    assert [(a["source"], a["quantity"]) for a in allocations] == [("usage_record:u1", "-50")]


def test_a_record_counted_in_another_unit_is_refused_at_ingestion_and_blocks_no_run(
    api_on: Api,
) -> None:
    api = api_on
    set_up_usage_contract(api)
    tickets = {**used("t1", "2026-03-04", "3"), "unit": "tickets"}
    answer = ok(
        api.post(
            RECORDS, {"records": [tickets, used("u1", "2026-03-04", "250")]}, who="integration"
        )
    )
    results = {r["record_id"]: (r["status"], r["reason_code"]) for r in answer["results"]}
    assert results == {"t1": ("rejected", "usage_unit_mismatch"), "u1": ("accepted", None)}
    listed = ok(api.get(RECORDS, who="finance"))
    assert [r["record_id"] for r in listed["items"]] == ["u1"]
    assert run(api, "2026-03")["invoices"]  # the refused record holds nothing up


def test_usage_reported_by_the_psa_webhook_is_recorded_once_and_billed(api: Api) -> None:
    # The SQL harness serves no inbound webhooks; the inbox itself is proven on SQL elsewhere.
    set_up_usage_contract(api)

    def send(message_id: str, *records: dict[str, Any]) -> Any:
        data = {"kind": "usage", "reported_by": "psa", "records": list(records)}
        return send_event(api, "psa", message_id, "delivery.reported", data)

    first = send("msg_1", used("u1", "2026-03-04", "250"))
    again = send("msg_1", used("u1", "2026-03-04", "250"))
    assert [r.json()["status"] for r in (first, again)] == ["processed", "duplicate"]
    (invoice,) = run(api, "2026-03")["invoices"]
    # 100 x 1.00 + 150 x 0.80 = 220.00, above the 150.00 minimum.
    assert lines(invoice) == [("usage", "250", "220.00")]
