"""Records of a declared delivery kind through HTTP (ADR 0050), on a test-only kind and model
(tests/support/metered.py): a batch answered record by record, strict bodies, the list, and a
billing run that bills what was posted and, after a correction, only the difference."""

from __future__ import annotations

from typing import Any

from tests.e2e.http.books_setup import problem
from tests.e2e.http.harness import Api
from tests.e2e.http.test_event_schemas import emitted_by, published_schemas, violations
from tests.unit.application.test_delivery_records import set_up_metered_contract

PATH = "/delivery-records/test_units"
MARCH = "2026-03"


def record(
    record_id: str, day: str, units: Any, obligation: str = "metered", **extra: Any
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "obligation_id": obligation,
        "occurred_on": day,
        "units": units,
        **extra,
    }


def test_a_batch_answers_each_record_and_a_resend_with_other_values_is_a_correction(
    api_on: Api,
) -> None:
    api = api_on
    set_up_metered_contract(api.app)
    batch = {
        "records": [
            record("m1", "2026-03-02", 3),
            record("m2", "2026-03-03", 4),
            record("m3", "2026-03-03", -1),  # the record class refuses it
            record("m4", "2026-03-03", 1, obligation="tm"),  # T&M does not bill units
        ],
        "reported_by": "metering",
    }
    first = api.post(PATH, batch, who="integration")
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"accepted": 2, "duplicates": 0, "corrected": 0, "rejected": 2}
    assert [(r["record_id"], r["status"], r["reason_code"]) for r in first.json()["results"]] == [
        ("m1", "accepted", None),
        ("m2", "accepted", None),
        ("m3", "rejected", "negative_units"),
        ("m4", "rejected", "delivery_kind_not_billed"),
    ]
    again = api.post(
        PATH,
        {"records": [record("m1", "2026-03-02", 3), record("m2", "2026-03-03", 6)]},
        who="integration",
    )
    assert [(r["record_id"], r["status"]) for r in again.json()["results"]] == [
        ("m1", "duplicate"),
        ("m2", "corrected"),
    ]
    listed = api.get(PATH, who="delivery_manager", obligation_id="metered").json()
    assert [(r["record_id"], r["revision"], r["values"]["units"]) for r in listed["items"]] == [
        ("m1", 1, 3),
        ("m2", 2, 6),
    ]


def test_a_run_over_http_bills_the_posted_records_and_after_a_correction_only_the_difference(
    api_on: Api,
) -> None:
    api = api_on
    set_up_metered_contract(api.app)
    posted = {"records": [record("m1", "2026-03-02", 3), record("m2", "2026-03-09", 4)]}
    assert api.post(PATH, posted, who="integration").status_code == 200
    body = {"period": MARCH, "contract_ids": ["C2"]}
    committed = api.post("/billing-runs", body, who="finance")
    assert committed.status_code == 201, committed.text
    (invoice,) = committed.json()["invoices"]
    assert invoice["net"] == {"amount": "17.50", "currency": "EUR"}
    up = {"records": [record("m1", "2026-03-02", 5)]}
    assert api.post(PATH, up, who="integration").json()["results"][0]["status"] == "corrected"
    preview = api.post("/billing-runs/preview", body, who="finance").json()
    (again,) = preview["invoices"]
    assert [(line["description"], line["quantity"]) for line in again["lines"]] == [
        ("API calls: m1", "2")
    ]
    assert again["net"] == {"amount": "5.00", "currency": "EUR"}


def test_a_record_with_an_unknown_or_mistyped_field_is_refused_with_a_pointer(api: Api) -> None:
    set_up_metered_contract(api.app)
    unknown = api.post(
        PATH, {"records": [record("m1", "2026-03-02", 3, colour="red")]}, who="integration"
    )
    assert (unknown.status_code, problem(unknown)) == (400, "validation-error")
    assert unknown.json()["errors"][0]["pointer"] == "/records/0/colour"
    mistyped = api.post(
        PATH,
        {"records": [record("m1", "2026-03-02", 3), record("m2", "2026-03-02", "three")]},
        who="integration",
    )
    assert (mistyped.status_code, problem(mistyped)) == (400, "validation-error")
    assert [e["pointer"] for e in mistyped.json()["errors"]] == ["/records/1/units"]
    assert api.get(PATH, who="delivery_manager").json()["items"] == []  # nothing stored


def test_an_unknown_kind_is_not_found_and_names_the_kinds_there_are(api: Api) -> None:
    response = api.post(
        "/delivery-records/nope", {"records": [record("m1", "2026-03-02", 1)]}, who="integration"
    )
    assert (response.status_code, problem(response)) == (404, "not-found")
    assert "test_units" in response.json()["detail"]
    assert api.get("/delivery-records/nope", who="delivery_manager").status_code == 404


def test_client_viewers_do_not_read_delivery_records(api: Api) -> None:
    set_up_metered_contract(api.app)
    api.post(PATH, {"records": [record("m1", "2026-03-02", 3)]}, who="integration")
    response = api.get(PATH, who="client_viewer")
    assert (response.status_code, problem(response)) == (403, "forbidden")


def test_posting_records_needs_the_delivery_write_permission(api: Api) -> None:
    set_up_metered_contract(api.app)
    response = api.post(PATH, {"records": [record("m1", "2026-03-02", 3)]}, who="auditor")
    assert response.status_code == 403


def test_the_events_of_reported_and_corrected_records_match_their_published_schemas(
    api: Api,
) -> None:
    set_up_metered_contract(api.app)
    api.post(PATH, {"records": [record("m1", "2026-03-02", 3)]}, who="integration")
    api.post(PATH, {"records": [record("m1", "2026-03-02", 4)]}, who="integration")
    emitted = [e for e in emitted_by(api) if e[0].startswith("reported_record.")]
    assert [(kind, payload["revision"]) for kind, _, payload in emitted] == [
        ("reported_record.accepted", 1),
        ("reported_record.corrected", 2),
    ]
    assert violations(published_schemas(), emitted) == []
