"""Dead letters of the outbox over HTTP: listed for operations, replayed with a reason under
the same event id, the replay in the audit trail."""

from __future__ import annotations

from application.records import DeliveryState
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import set_up_tm_contract


def _kill_first_event(api: Api) -> str:
    """Seed-then-act: the first outbox event has used up its retries."""
    set_up_tm_contract(api.app)
    event = api.app.data.outbox[0]
    event.state, event.attempts, event.last_error = DeliveryState.DEAD, 5, "HTTP 503 from erp"
    return event.event_id


def test_dead_events_are_listed_and_a_replay_keeps_the_id_and_is_audited(api: Api) -> None:
    event_id = _kill_first_event(api)

    listed = api.get("/outbox", who="finance", state="dead").json()
    replay = api.post(
        f"/outbox/{event_id}/replay", {"reason": "ERP back up"}, who="finance_approver"
    )

    assert [e["event_id"] for e in listed["items"]] == [event_id]
    assert listed["items"][0]["last_error"] == "HTTP 503 from erp"
    assert replay.status_code == 200, replay.text
    assert replay.json()["event_id"] == event_id
    assert replay.json()["state"] == "pending"
    assert api.get("/outbox", who="auditor", state="dead").json()["items"] == []
    audit = [r for r in api.app.data.audit if r.subject == f"outbox:{event_id}"]
    assert [(r.actor, r.action, r.before, r.after, r.reason) for r in audit] == [
        ("alex.approver", "replay", "dead", "pending", "ERP back up")
    ]


def test_only_a_dead_event_can_be_replayed_and_only_by_an_approver(api: Api) -> None:
    set_up_tm_contract(api.app)
    event_id = api.app.data.outbox[0].event_id

    by_finance = api.post(f"/outbox/{event_id}/replay", {"reason": "x"}, who="finance")
    not_dead = api.post(f"/outbox/{event_id}/replay", {"reason": "x"}, who="finance_approver")
    missing = api.get("/outbox/EVT-NOPE", who="auditor")

    assert by_finance.status_code == 403
    assert not_dead.status_code == 409
    assert not_dead.json()["type"].endswith("/conflict")
    assert missing.status_code == 404
