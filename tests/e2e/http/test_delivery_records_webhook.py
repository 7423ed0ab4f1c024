"""Records of a declared delivery kind by inbound webhook (ADR 0050): one signed
`delivery.reported` message per batch, any kind, idempotent through the inbox."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.http.books_setup import send_event
from tests.e2e.http.harness import Api
from tests.unit.application.test_delivery_records import set_up_metered_contract


def _send(api: Api, message_id: str, data: dict[str, Any]) -> Any:
    return send_event(api, "psa", message_id, "delivery.reported", data)


def _units(record_id: str, units: Any, **extra: Any) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "obligation_id": "metered",
        "occurred_on": "2026-03-02",
        "units": units,
        **extra,
    }


def _stored(api: Api) -> list[tuple[str, int]]:
    listed = api.get("/delivery-records/test_units", who="delivery_manager").json()["items"]
    return [(r["record_id"], r["values"]["units"]) for r in listed]


def test_a_signed_message_records_the_batch_once_and_a_later_one_corrects_it(api: Api) -> None:
    set_up_metered_contract(api.app)
    data = {"kind": "test_units", "reported_by": "metering", "records": [_units("m1", 3)]}
    first = _send(api, "msg_1", data)
    again = _send(api, "msg_1", data)
    later = _send(api, "msg_2", {**data, "records": [_units("m1", 4), _units("m2", -1)]})
    assert [r.json()["status"] for r in (first, again)] == ["processed", "duplicate"]
    # a record its class refuses waits on the exception queue; the rest is recorded
    assert later.status_code == 202, later.text
    queued = api.get("/exceptions", who="finance").json()["items"]
    assert "negative_units" in json.dumps(queued)
    assert _stored(api) == [("m1", 4)]


def test_a_malformed_record_or_an_unknown_kind_keeps_the_message_for_replay(api: Api) -> None:
    set_up_metered_contract(api.app)
    mistyped = _send(api, "msg_3", {"kind": "test_units", "records": [_units("m1", "x")]})
    unknown = _send(api, "msg_4", {"kind": "nope", "records": [_units("m1", 3)]})
    assert (mistyped.status_code, unknown.status_code) == (202, 202)
    queued = {x["exception_id"]: x for x in api.get("/exceptions", who="finance").json()["items"]}
    details = json.dumps([queued[r.json()["exception_id"]] for r in (mistyped, unknown)])
    assert "/data/records/0/units" in details
    assert "test_units" in details  # the unknown kind's problem names the kinds there are
    assert _stored(api) == []
