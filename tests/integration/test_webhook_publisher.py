"""Outbound webhooks against a real HTTP endpoint on loopback: signed with Standard Webhooks so
the receiver's `standardwebhooks.Webhook.verify` accepts them, CloudEvents in the body,
filtered by event type, and a refusal or an outage is a failure the relay retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from adapters.clock import SystemClock
from adapters.memory import FakeClock
from adapters.outbound.cloudevents_envelope import parse_structured_json
from adapters.outbound.webhook_publisher import Subscriber, WebhookPublisher
from application.errors import DownstreamUnavailableError
from application.records import DeliveryState, OutboxEvent
from application.relay import RelayReport, relay_once
from entrypoints.workers.relay import run_relay
from tests.integration.support import SqlApp
from tests.support.http_sink import Sink, running_sink
from tests.unit.application.conftest import set_up_tm_contract

ERP_SECRET = "whsec_" + base64.b64encode(b"erp-shared-secret-0123456789").decode()
CRM_SECRET = "whsec_" + base64.b64encode(b"crm-shared-secret-9876543210").decode()


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


def subscribers(sink: Sink) -> list[Subscriber]:
    return [
        Subscriber("erp", sink.url("/erp"), ERP_SECRET, ("com.throughline.invoice.*",)),
        Subscriber(
            "crm",
            sink.url("/crm"),
            CRM_SECRET,
            ("com.throughline.engagement.*", "com.throughline.invoice.payment_recorded"),
        ),
    ]


def event(event_type: str, aggregate_type: str, aggregate_id: str, n: int = 1) -> OutboxEvent:
    return OutboxEvent(
        f"evt-{n:04d}",
        event_type,
        aggregate_type,
        aggregate_id,
        {"id": aggregate_id, "n": n},
        f"corr-{n}",
        datetime(2026, 3, 31, 12, 0, tzinfo=UTC),
    )


def test_the_subscriber_can_verify_the_signature_and_read_the_cloudevent(sink: Sink) -> None:
    publisher = WebhookPublisher(subscribers(sink), SystemClock(), source="urn:throughline:test")
    publisher.publish(event("InvoiceIssued", "Invoice", "INV-1"))
    (delivery,) = sink.at("/erp")
    headers = delivery.headers
    assert Webhook(ERP_SECRET).verify(delivery.body, headers)["id"] == "evt-0001"
    assert headers["webhook-id"] == "evt-0001"  # the CloudEvents id, the same on every retry
    assert headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    with pytest.raises(WebhookVerificationError):  # it really is this subscriber's secret
        Webhook(CRM_SECRET).verify(delivery.body, headers)
    with pytest.raises(WebhookVerificationError):  # and it covers the body
        Webhook(ERP_SECRET).verify(delivery.body.replace(b"INV-1", b"INV-2"), headers)
    cloudevent = parse_structured_json(delivery.body)
    assert (cloudevent.get_id(), cloudevent.get_type(), cloudevent.get_source()) == (
        "evt-0001",
        "com.throughline.invoice.issued",
        "urn:throughline:test",
    )
    assert cloudevent.get_extension("correlationid") == "corr-1"
    publisher.close()


def test_the_signature_is_hmac_sha256_over_id_timestamp_and_body(sink: Sink) -> None:
    """Worked by hand from the Standard Webhooks spec, not by the package under use."""
    at = datetime(2026, 3, 31, 12, 0, 7, 900000, tzinfo=UTC)
    publisher = WebhookPublisher(subscribers(sink), FakeClock(at))
    publisher.publish(event("InvoiceIssued", "Invoice", "INV-1"))
    (delivery,) = sink.at("/erp")
    assert delivery.headers["webhook-timestamp"] == "1774958407"  # whole seconds, floored
    key = base64.b64decode(ERP_SECRET.removeprefix("whsec_"))
    signed = b"evt-0001.1774958407." + delivery.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert delivery.headers["webhook-signature"] == f"v1,{expected}"


def test_the_signing_package_matches_the_standard_webhooks_known_answer() -> None:
    signature = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        datetime.fromtimestamp(1614265330, UTC),
        '{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_each_subscriber_gets_only_the_event_types_it_asked_for(sink: Sink) -> None:
    publisher = WebhookPublisher(subscribers(sink), SystemClock())
    publisher.publish(event("InvoiceIssued", "Invoice", "INV-1", 1))
    publisher.publish(event("PaymentRecorded", "Invoice", "INV-1", 2))
    publisher.publish(event("EngagementActivated", "Engagement", "E1", 3))
    publisher.publish(event("ItemApproved", "TimeEntry", "T1", 4))  # nobody wants it
    assert [r.headers["webhook-id"] for r in sink.at("/erp")] == ["evt-0001", "evt-0002"]
    assert [r.headers["webhook-id"] for r in sink.at("/crm")] == ["evt-0002", "evt-0003"]
    assert len(sink.received) == 4
    for delivery in sink.received:
        secret = ERP_SECRET if delivery.path == "/erp" else CRM_SECRET
        Webhook(secret).verify(delivery.body, delivery.headers)


def test_a_server_error_fails_the_event_without_naming_the_secret(
    sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    sink.status["/erp"] = 500
    publisher = WebhookPublisher(subscribers(sink), SystemClock())
    with caplog.at_level(logging.DEBUG), pytest.raises(DownstreamUnavailableError) as failure:
        publisher.publish(event("InvoiceIssued", "Invoice", "INV-1"))
    assert str(failure.value) == "webhook delivery failed: erp: HTTP 500"
    everything = str(failure.value) + caplog.text
    for secret in (ERP_SECRET, ERP_SECRET.removeprefix("whsec_")):
        assert secret not in everything
    assert "webhook-signature" not in everything


def test_a_refusal_by_one_subscriber_fails_the_event_for_a_retry_to_everyone(sink: Sink) -> None:
    sink.status["/crm"] = 400
    publisher = WebhookPublisher(subscribers(sink), SystemClock())
    with pytest.raises(DownstreamUnavailableError, match=r"crm: HTTP 400"):
        publisher.publish(event("PaymentRecorded", "Invoice", "INV-1"))
    assert [r.path for r in sink.received] == ["/erp", "/crm"]  # the ERP got it; it dedupes


def test_an_unreachable_subscriber_is_a_failure_and_is_skipped_for_the_cooldown(
    sink: Sink,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    clock = FakeClock(datetime.now(UTC))
    gone = Subscriber("gone", closed, ERP_SECRET, ("*",), timeout_seconds=2)
    flaky = Subscriber("flaky", sink.url("/flaky"), ERP_SECRET, ("*",))
    sink.status["/flaky"] = 503
    publisher = WebhookPublisher([gone, flaky], clock, cooldown=timedelta(seconds=30))
    with pytest.raises(DownstreamUnavailableError, match="gone: ConnectError; flaky: HTTP 503"):
        publisher.publish(event("InvoiceIssued", "Invoice", "INV-1", 1))
    with pytest.raises(DownstreamUnavailableError, match=r"gone: skipped.*flaky: skipped"):
        publisher.publish(event("InvoiceIssued", "Invoice", "INV-2", 2))
    assert len(sink.at("/flaky")) == 1  # the second event did not wait on it
    clock.advance(seconds=30)
    sink.status["/flaky"] = 204
    with pytest.raises(DownstreamUnavailableError, match="gone: ConnectError") as failure:
        publisher.publish(event("InvoiceIssued", "Invoice", "INV-3", 3))
    assert "flaky" not in str(failure.value)
    assert len(sink.at("/flaky")) == 2


# Through the relay, from the database ----------------------------------------------------------


def test_a_workflows_outbox_reaches_the_subscribers_signed_once_each(
    app: SqlApp, sink: Sink
) -> None:
    set_up_tm_contract(app)
    everything = Subscriber("lake", sink.url("/lake"), ERP_SECRET, ("com.throughline.*",))
    publisher = WebhookPublisher([everything], SystemClock(), source="urn:throughline:ci")
    totals = run_relay(app.bus.deps.uow, app.clock, publisher, worker_id="w1", once=True)
    written = app.data.outbox
    assert totals == RelayReport(claimed=len(written), delivered=len(written))
    assert [r.headers["webhook-id"] for r in sink.received] == [e.event_id for e in written]
    for delivery, outboxed in zip(sink.received, written, strict=True):
        document = Webhook(ERP_SECRET).verify(delivery.body, delivery.headers)
        assert document["id"] == outboxed.event_id
        assert document["subject"] == outboxed.aggregate_id
        assert document["correlationid"] == outboxed.correlation_id
        assert document["data"] == json.loads(json.dumps(dict(outboxed.payload)))
        assert document["type"].startswith("com.throughline.")
    assert {e.state for e in app.data.outbox} == {DeliveryState.DELIVERED}


def test_a_500_from_the_subscriber_leaves_the_event_failed_with_a_retry_scheduled(
    app: SqlApp, sink: Sink
) -> None:
    seeded = event("InvoiceIssued", "Invoice", "INV-1")
    with app.bus.deps.uow(app.as_("seed")) as uow:
        uow.outbox.add([seeded])
        uow.commit()
    sink.status["/erp"] = 500
    publisher = WebhookPublisher(subscribers(sink), SystemClock())
    report = relay_once(app.bus.deps.uow, app.clock, publisher, worker="w1")
    assert report == RelayReport(claimed=1, failed=1)
    (stored,) = app.data.outbox
    assert (stored.state, stored.attempts, stored.last_error) == (
        DeliveryState.FAILED,
        1,
        "webhook delivery failed: erp: HTTP 500",
    )
    assert stored.next_attempt_at == app.clock.now() + timedelta(minutes=1)

    sink.status["/erp"] = 200
    app.clock.advance(minutes=1)
    publisher = WebhookPublisher(subscribers(sink), SystemClock())  # past the cooldown
    assert relay_once(app.bus.deps.uow, app.clock, publisher, worker="w1").delivered == 1
    assert [r.headers["webhook-id"] for r in sink.at("/erp")] == ["evt-0001", "evt-0001"]
