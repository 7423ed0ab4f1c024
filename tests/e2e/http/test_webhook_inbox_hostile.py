"""Hostile webhooks through the real HTTP app: the signature is checked on the raw bytes
first, then the body is read by the same strict JSON as every HTTP body. What is not one JSON
envelope (nested too deep, a repeated key) is refused before anything is stored; what a
signed message carries that no field may hold (a NUL) is stored and waits on the exception
queue (202), never a 500, never acknowledged before it is finished. The same on SQLite and
PostgreSQL: tests/integration/test_hostile_input_sql.py."""

from __future__ import annotations

import json

from application.context import RequestContext
from application.inbox import claim
from application.records import InboxMessage, InboxState
from tests.e2e.http.books_setup import send_webhook
from tests.e2e.http.harness import Api
from tests.e2e.http.test_api_conventions import assert_problem
from tests.unit.application.conftest import set_up_tm_contract

NUL_DISPUTE = b'{"type": "dispute.opened", "data": {"invoice_id": "INV-1", "reason": "a\\u0000b"}}'


def inbox(api: Api, source: str, message_id: str) -> InboxMessage | None:
    with api.app.bus.deps.uow(RequestContext("test", "read"), read_only=True) as uow:
        return uow.inbox.find(source, message_id)


def time_approved(entry_id: str = "T1") -> bytes:
    entry = {
        "entry_id": entry_id,
        "engagement_id": "E1",
        "obligation_id": "tm",
        "resource_id": "r1",
        "role": "consultant",
        "work_date": "2026-03-02",
        "hours": "7.5",
    }
    return json.dumps(
        {"type": "time.approved", "data": {"approved_by": "pm", "entries": [entry]}}
    ).encode()


def test_a_nul_in_a_signed_webhook_waits_on_the_exception_queue_and_its_retry_is_no_500(
    api: Api,
) -> None:
    first = send_webhook(api, "billing", "bill-1", NUL_DISPUTE)
    again = send_webhook(api, "billing", "bill-1", NUL_DISPUTE)

    assert first.status_code == 202, first.text
    assert first.json()["status"] == "failed"
    exception_id = first.json()["exception_id"]
    listed = api.get("/exceptions", who="finance").json()["items"]
    (item,) = [x for x in listed if x["exception_id"] == exception_id]
    assert item["reason_code"] == "text_limit"
    assert "/data/reason" in item["detail"]
    assert again.status_code == 202
    assert again.json()["status"] == "duplicate"
    assert again.json()["exception_id"] == exception_id
    message = inbox(api, "billing", "bill-1")
    assert message is not None
    assert message.body == NUL_DISPUTE.decode()


def test_a_signed_webhook_nested_1000_deep_is_400_and_not_stored(api: Api) -> None:
    deep = b'{"type": "time.approved", "data": {"x": ' + b"[" * 999 + b"]" * 999 + b"}}"

    answer = send_webhook(api, "psa", "psa-deep", deep)

    problem = assert_problem(answer, "malformed-json")
    assert "more than 32 levels" in problem["detail"]
    assert inbox(api, "psa", "psa-deep") is None


def test_a_repeated_key_in_a_signed_webhook_is_400_at_its_pointer(api: Api) -> None:
    body = time_approved().replace(b'"hours": "7.5"', b'"hours": "7.5", "hours": "75"')

    answer = send_webhook(api, "psa", "psa-dup", body)

    problem = assert_problem(answer, "malformed-json")
    assert problem["errors"] == [
        {
            "pointer": "/data/entries/0/hours",
            "detail": "the key 'hours' appears twice in one object",
        }
    ]
    assert inbox(api, "psa", "psa-dup") is None


def test_a_retry_of_a_webhook_stored_but_never_processed_is_processed(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = time_approved()
    stuck = InboxMessage(
        "psa", "psa-9", "time.approved", body.decode(), api.app.clock.now(), "corr-first"
    )
    with api.app.bus.deps.uow(RequestContext("seed", "seed")) as uow:
        uow.inbox.add(stuck)  # its process died before it began
        uow.commit()

    retry = send_webhook(api, "psa", "psa-9", body)

    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] == "processed"
    assert sorted(api.app.data.time_entries) == ["T1"]
    message = inbox(api, "psa", "psa-9")
    assert message is not None
    assert message.state is InboxState.PROCESSED


def test_a_retry_while_the_message_is_being_processed_is_409_with_retry_after(
    api: Api,
) -> None:
    set_up_tm_contract(api.app)
    body = time_approved()
    stuck = InboxMessage(
        "psa", "psa-10", "time.approved", body.decode(), api.app.clock.now(), "corr-first"
    )
    with api.app.bus.deps.uow(RequestContext("seed", "seed")) as uow:
        uow.inbox.add(stuck)
        claim(uow, stuck, "CLAIM-elsewhere", api.app.clock.now())  # a processor is at it
        uow.commit()
    commits = api.app.store.commits

    retry = send_webhook(api, "psa", "psa-10", body)

    assert_problem(retry, "request-in-progress")
    assert retry.headers["retry-after"] == "60"
    assert api.app.store.commits == commits
    assert api.app.data.time_entries == {}


def test_a_webhook_over_the_size_limit_is_413_in_our_problem_format(api: Api) -> None:
    body = b'{"type": "time.approved", "data": {"x": "' + b"x" * 1_100_000 + b'"}}'

    answer = send_webhook(api, "psa", "psa-big", body)

    problem = assert_problem(answer, "payload-too-large")
    assert problem["detail"].startswith("the request body is larger than 1,048,576 bytes")
    assert [e["pointer"] for e in problem["errors"]] == [""]
    assert inbox(api, "psa", "psa-big") is None
