"""The inbox never acknowledges a message it has not finished: a retry of a message whose
processing never finished processes it, the waiting-messages job does the same, any failure
(a control character, a bug) waits on the exception queue with the message kept raw, and one
processor at a time holds a message. Collected again in tests/integration to run on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import attrs
import pytest

from adapters.webhooks.mappings import MAPPINGS, JsonWebhookTranslator
from application import commands as c
from application.context import RequestContext
from application.handlers import create_bus
from application.inbox import MessageInProgressError, ReceiptStatus, claim
from application.messagebus import MessageBus
from application.records import (
    ExceptionKind,
    ExceptionState,
    InboxMessage,
    InboxState,
    IntegrationException,
)
from domain.ids import ContractId, CustomerId, EngagementId
from tests.unit.application.conftest import App
from tests.unit.application.test_inbox import (
    ProcessDied,
    claimed,
    crash_once_after_the_effect,
    deliver,
    example,
    observable,
    queued,
    rate_card_and_tax,
    stored,
    won_and_signed,
)

#: A NUL in the client's reason, as a JSON escape (a raw NUL byte is not JSON at all).
NUL_REASON = b'{"type": "dispute.opened", "data": {"invoice_id": "INV-1", "reason": "a\\u0000b"}}'


def _job(app: App) -> Any:
    cutoff = app.clock.now() - timedelta(minutes=5)
    return app.do(c.ProcessWaitingInboxMessages(received_before=cutoff), actor="inbox-job")


def _hold_claim(app: App, source: str, message_id: str, token: str = "CLAIM-other") -> None:
    """Seed what a live processor elsewhere holds: the message's claim, taken now."""
    ctx = RequestContext("test", "seed")
    with app.bus.deps.uow(ctx) as uow:
        message = uow.inbox.find(source, message_id)
        assert message is not None
        claim(uow, message, token, app.clock.now())
        uow.commit()


def _seed_received(app: App, source: str, message_id: str, body: dict[str, Any]) -> None:
    """A message stored and never processed (its process died before it began)."""
    text = json.dumps(body)
    message = InboxMessage(
        source, message_id, body["type"], text, app.clock.now(), f"corr-{message_id}"
    )
    with app.bus.deps.uow(RequestContext("test", "seed")) as uow:
        uow.inbox.add(message)
        uow.commit()


def _bus_with(app: App, source: str, event_type: str, mapping: Any) -> MessageBus:
    mappings = {**MAPPINGS, source: {**MAPPINGS[source], event_type: mapping}}
    return create_bus(attrs.evolve(app.bus.deps, webhooks=JsonWebhookTranslator(mappings)))


def _a_won_deal_failing_in(
    app: App, mapping: Any, message_id: str
) -> tuple[MessageBus, IntegrationException]:
    """A won deal delivered as `message_id` through a CRM mapping replaced by `mapping`: it
    fails, is acknowledged with 202 all the same, and lands on the exception queue."""
    bus = _bus_with(app, "crm", "deal.won_v2", mapping)
    rate_card_and_tax(app)
    outcome = deliver(app, "crm", {"type": "deal.won_v2", "data": {}}, message_id, bus=bus)
    assert (outcome.status, outcome.http_status) == (ReceiptStatus.FAILED, 202)
    assert outcome.exception_id is not None
    return bus, app.data.exceptions[outcome.exception_id]


# A retry of an unfinished message is processed, never acknowledged -----------------------


def test_a_retry_of_a_message_whose_processor_died_is_processed_once_its_claim_is_stale(
    app: App,
) -> None:
    won_and_signed(app)
    crash_once_after_the_effect(app)
    with pytest.raises(ProcessDied):
        deliver(app, "psa", example("time.approved"), "psa-1")
    app.clock.advance(minutes=1)
    with pytest.raises(MessageInProgressError):  # its claim may still be a live processor's
        deliver(app, "psa", example("time.approved"), "psa-1")

    app.clock.advance(minutes=5)  # the claim is stale: its processor is gone
    retry = deliver(app, "psa", example("time.approved"), "psa-1")

    assert (retry.status, retry.state, retry.http_status) == (
        ReceiptStatus.PROCESSED,
        "processed",
        200,
    )
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}
    ingests = [r for r in app.data.audit if (r.subject, r.action) == ("time_entries", "ingest")]
    assert len(ingests) == 1  # the retry found both entries recorded: no second effect
    assert not claimed(app, "psa", "psa-1")
    again = deliver(app, "psa", example("time.approved"), "psa-1")
    assert again.status is ReceiptStatus.DUPLICATE  # now it is finished


def test_a_retry_of_a_message_stored_but_never_processed_processes_it(app: App) -> None:
    won_and_signed(app)
    _seed_received(app, "psa", "psa-7", example("time.approved"))

    retry = deliver(app, "psa", example("time.approved"), "psa-7")

    assert retry.status is ReceiptStatus.PROCESSED
    message = stored(app, "psa", "psa-7")
    assert message is not None
    assert message.state is InboxState.PROCESSED
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}


def test_a_retry_while_another_processor_holds_the_message_changes_nothing(app: App) -> None:
    won_and_signed(app)
    _seed_received(app, "psa", "psa-8", example("time.approved"))
    _hold_claim(app, "psa", "psa-8")
    before = observable(app)

    with pytest.raises(MessageInProgressError):
        deliver(app, "psa", example("time.approved"), "psa-8")

    assert observable(app) == before
    message = stored(app, "psa", "psa-8")
    assert message is not None
    assert message.state is InboxState.RECEIVED


# The waiting-messages job (`throughline exceptions run-due`) -----------------------------


def test_the_job_processes_a_message_stuck_in_received_past_the_threshold(app: App) -> None:
    won_and_signed(app)
    _seed_received(app, "psa", "psa-2", example("time.approved"))
    assert _job(app) == []  # received just now: its first processor may still be at it

    app.clock.advance(minutes=6)
    assert _job(app) == ["inbox:psa:psa-2"]

    message = stored(app, "psa", "psa-2")
    assert message is not None
    assert message.state is InboxState.PROCESSED
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}
    assert _job(app) == []


def test_the_job_leaves_a_message_that_another_processor_holds_until_its_claim_is_stale(
    app: App,
) -> None:
    won_and_signed(app)
    _seed_received(app, "psa", "psa-3", example("time.approved"))
    app.clock.advance(minutes=10)
    _hold_claim(app, "psa", "psa-3")  # a retried delivery started on it a moment ago

    assert _job(app) == []
    assert app.data.time_entries == {}

    app.clock.advance(minutes=6)
    assert _job(app) == ["inbox:psa:psa-3"]
    assert set(app.data.time_entries) == {"PSA-TE-1001", "PSA-TE-1002"}


# Any failure lands on the exception queue, the message kept raw --------------------------


def test_a_nul_in_a_signed_message_is_kept_and_queued_at_its_pointer(app: App) -> None:
    outcome = deliver(app, "billing", NUL_REASON, "bill-1")

    item = queued(app, outcome)
    assert (item.kind, item.reason_code, item.workflow) == (
        ExceptionKind.VALIDATION,
        "text_limit",
        "inbox",
    )
    assert item.detail == "/data/reason: a control character (U+0000) is not accepted in text"
    assert item.replay == {
        "command": "ProcessInboxMessage",
        "args": {"source": "billing", "message_id": "bill-1"},
    }
    message = stored(app, "billing", "bill-1")
    assert message is not None
    assert message.body == NUL_REASON.decode()  # exactly as signed, for the replay
    assert message.state is InboxState.FAILED
    assert not claimed(app, "billing", "bill-1")

    before = observable(app)
    again = deliver(app, "billing", NUL_REASON, "bill-1")  # the sender's retry
    assert (again.status, again.exception_id) == (ReceiptStatus.DUPLICATE, item.exception_id)
    assert observable(app) == before


@pytest.mark.parametrize(
    ("text", "pointer", "detail"),
    [
        ("a\\u0007b", "/data/reason", "a control character (U+0007) is not accepted in text"),
        ("a\\ud800b", "/data/reason", "a lone UTF-16 surrogate (U+D800) is not accepted in text"),
        ("r" * 2001, "/data/reason", "at most 2000 characters, got 2001"),
    ],
)
def test_text_a_field_cannot_hold_is_queued_with_its_pointer(
    app: App, text: str, pointer: str, detail: str
) -> None:
    data = '{"invoice_id": "INV-1", "reason": "' + text + '"}'
    body = '{"type": "dispute.opened", "data": ' + data + "}"
    outcome = deliver(app, "billing", body.encode(), "bill-2")

    assert outcome.status is ReceiptStatus.FAILED
    assert outcome.exception_id is not None
    item = app.data.exceptions[outcome.exception_id]
    assert (item.reason_code, item.detail) == ("text_limit", f"{pointer}: {detail}")


def test_tab_line_feed_and_carriage_return_are_text(app: App) -> None:
    won_and_signed(app)
    completed = example("milestone.completed")
    completed["data"]["evidence"] = "Signed\tby the committee\r\nminutes attached"

    outcome = deliver(app, "psa", completed, "psa-4")

    assert outcome.status is ReceiptStatus.PROCESSED, outcome


def test_an_error_nobody_foresaw_is_queued_for_retry_and_the_replay_after_the_fix_heals_it(
    app: App,
) -> None:
    bugs = [KeyError("secret value that must not reach the queue")]

    def won(data: Any) -> list[object]:
        data.finish()
        if bugs:
            raise bugs.pop()
        return [c.ProposeEngagement(EngagementId("OPP-1"), CustomerId("acme"), ContractId("C-1"))]

    bus, item = _a_won_deal_failing_in(app, won, "crm-5")
    assert (item.kind, item.reason_code, item.state) == (
        ExceptionKind.DOWNSTREAM_UNAVAILABLE,
        "unexpected_error",
        ExceptionState.RETRY_SCHEDULED,
    )
    assert item.detail == (
        "processing stopped at an unexpected KeyError; the log has its trace under "
        "correlation id corr-crm-5"
    )
    assert "secret value" not in repr(stored(app, "crm", "crm-5"))
    assert not claimed(app, "crm", "crm-5")

    app.clock.advance(minutes=2)  # the first retry is due after a minute
    assert bus.handle(c.RetryDueExceptions(), app.as_("retry-job")) == [item.exception_id]
    assert app.data.exceptions[item.exception_id].state is ExceptionState.RESOLVED
    assert "OPP-1" in app.data.aggregates["engagement"]
    message = stored(app, "crm", "crm-5")
    assert message is not None
    assert message.state is InboxState.PROCESSED
