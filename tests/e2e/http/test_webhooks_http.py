"""Inbound webhooks through the real HTTP app: signature on the raw bytes, inbox first,
duplicates acknowledged without a second effect, failures kept for replay."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from adapters.webhooks.signatures import signature_headers
from tests.e2e.http.books_setup import entry
from tests.e2e.http.harness import WEBHOOK_SECRETS, Api
from tests.unit.application.conftest import set_up_tm_contract


def _send(api: Api, source: str, message_id: str, body: bytes, **overrides: Any) -> Any:
    at = overrides.pop("at", api.app.clock.now())
    secrets = overrides.pop("secrets", WEBHOOK_SECRETS.for_source(source))
    headers = signature_headers(secrets, message_id, at, body)
    headers.update(overrides.pop("headers", {}))
    headers["content-type"] = "application/json"
    return api.client.post(f"/webhooks/{source}", content=body, headers=headers)


def _time_approved(*entries: dict[str, Any]) -> bytes:
    return json.dumps(
        {"type": "time.approved", "data": {"approved_by": "pm", "entries": list(entries)}}
    ).encode()


def test_a_signed_psa_time_message_records_the_hours_once(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = _time_approved(entry("T1", "2026-03-02", "7.5"), entry("T2", "2026-03-03", "2"))

    first = _send(api, "psa", "msg_1", body)
    again = _send(api, "psa", "msg_1", body)

    assert first.status_code == 200, first.text
    assert first.json()["status"] == "processed"
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    entries = api.app.data.time_entries
    assert sorted(entries) == ["T1", "T2"]
    assert str(entries["T1"].hours) == "7.5"


def test_another_body_under_a_used_message_id_is_409_and_the_first_message_stands(
    api: Api,
) -> None:
    set_up_tm_contract(api.app)
    _send(api, "psa", "msg_1", _time_approved(entry("T1", "2026-03-02", "7.5")))

    changed = _send(api, "psa", "msg_1", _time_approved(entry("T1", "2026-03-02", "9")))

    assert changed.status_code == 409, changed.text
    assert changed.json()["type"].endswith("/conflict")
    assert "new webhook-id" in changed.json()["detail"]
    assert str(api.app.data.time_entries["T1"].hours) == "7.5"


def test_a_tampered_body_is_refused_before_anything_is_stored(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = _time_approved(entry("T1", "2026-03-02", "7.5"))
    headers = signature_headers(
        WEBHOOK_SECRETS.for_source("psa"), "msg_2", api.app.clock.now(), body
    )
    tampered = body.replace(b"7.5", b"75")

    answer = api.client.post(
        "/webhooks/psa", content=tampered, headers={**headers, "content-type": "application/json"}
    )

    assert answer.status_code == 401
    assert answer.json()["type"].endswith("/invalid-signature")
    assert answer.headers["content-type"] == "application/problem+json"
    assert api.app.data.time_entries == {}


def test_a_signature_older_than_five_minutes_is_refused(api: Api) -> None:
    body = _time_approved(entry("T1", "2026-03-02", "1"))
    stale = api.app.clock.now() - timedelta(minutes=6)

    answer = _send(api, "psa", "msg_3", body, at=stale)

    assert answer.status_code == 401


def test_an_unknown_source_is_not_found(api: Api) -> None:
    answer = _send(api, "psa", "msg_4", b"{}", headers={})
    unknown = api.client.post(
        "/webhooks/hr-system",
        content=b"{}",
        headers=dict(
            signature_headers(WEBHOOK_SECRETS.for_source("psa"), "m", api.app.clock.now(), b"{}")
        ),
    )

    assert answer.status_code == 400  # signed, but not an envelope: refused, not stored
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/not-found")


def test_signed_json_that_is_not_json_is_a_malformed_json_problem(api: Api) -> None:
    answer = _send(api, "psa", "msg_5", b"{not json")

    assert answer.status_code == 400
    assert answer.json()["type"].endswith("/malformed-json")


def test_a_message_that_does_not_map_is_kept_on_the_exception_queue_and_replayed(
    api: Api,
) -> None:
    # Time for an engagement that does not exist yet: stored, failed, 202.
    body = _time_approved(entry("T9", "2026-03-02", "3"))
    answer = _send(api, "psa", "msg_6", body)
    assert answer.status_code == 202, answer.text
    exception_id = answer.json()["exception_id"]
    assert exception_id
    listed = api.get("/exceptions", who="finance").json()["items"]
    assert exception_id in [x["exception_id"] for x in listed]

    set_up_tm_contract(api.app)
    replay = api.post(f"/exceptions/{exception_id}/replay", who="finance")

    assert replay.status_code == 200, replay.text
    assert "T9" in api.app.data.time_entries


def test_the_correlation_id_of_the_delivery_is_kept_with_the_stored_message(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = json.dumps(
        {
            "type": "customer.updated",
            "data": {
                "customer_id": "acme",
                "legal_entity_id": "tl-uk",
                "tax_code": "VAT20",
                "reverse_charge": False,
            },
        }
    ).encode()

    answer = _send(api, "erp", "msg_7", body, headers={"X-Correlation-ID": "corr-webhook-7"})

    assert answer.status_code == 200, answer.text
    assert answer.headers["x-correlation-id"] == "corr-webhook-7"
    assert api.app.data.inbox[("erp", "msg_7")].correlation_id == "corr-webhook-7"
    assert api.app.data.tax_profiles[("acme", "tl-uk")].tax_code == "VAT20"
