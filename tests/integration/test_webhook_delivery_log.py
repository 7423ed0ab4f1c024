"""Each webhook delivery attempt is one log line naming the event, the subscriber (never its URL
or secret), the CloudEvents type, the outcome and the time it took; without a tracer the
trace context stored on the outbox row goes out unchanged as the `traceparent` header."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest

from adapters.clock import SystemClock
from adapters.outbound.webhook_publisher import Subscriber, WebhookPublisher
from application.errors import DownstreamUnavailableError
from tests.support.http_sink import Sink, running_sink
from tests.unit.test_tracing import event

ERP_SECRET = "whsec_" + base64.b64encode(b"erp-delivery-log-secret-0123").decode()
CRM_SECRET = "whsec_" + base64.b64encode(b"crm-delivery-log-secret-9876").decode()
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


def deliveries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "outbox.delivery"]


def test_each_attempt_is_one_line_with_the_event_subscriber_type_outcome_and_duration(
    sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    sink.status["/crm"] = 503
    publisher = WebhookPublisher(
        [
            Subscriber("erp", sink.url("/erp"), ERP_SECRET),
            Subscriber("crm", sink.url("/crm"), CRM_SECRET),
        ],
        SystemClock(),
    )
    with caplog.at_level(logging.INFO, logger="adapters.outbound.webhook_publisher"):
        with pytest.raises(DownstreamUnavailableError):
            publisher.publish(event("EVT-1"))
        with pytest.raises(DownstreamUnavailableError):
            publisher.publish(event("EVT-2"))  # crm is cooling down: skipped at once

    lines = [
        (r.event_id, r.subscriber, r.event_type, r.outcome, r.levelname)  # type: ignore[attr-defined]
        for r in deliveries(caplog)
    ]
    assert lines == [
        ("EVT-1", "erp", "com.throughline.engagement.proposed", "delivered", "INFO"),
        ("EVT-1", "crm", "com.throughline.engagement.proposed", "failed", "WARNING"),
        ("EVT-2", "erp", "com.throughline.engagement.proposed", "delivered", "INFO"),
        ("EVT-2", "crm", "com.throughline.engagement.proposed", "skipped", "INFO"),
    ]
    assert all(r.duration_ms >= 0 for r in deliveries(caplog))  # type: ignore[attr-defined]
    failed = deliveries(caplog)[1]
    assert (failed.status, failed.problem) == (503, "HTTP 503")  # type: ignore[attr-defined]
    everything = " ".join(str(vars(r)) for r in caplog.records)
    for secret in (ERP_SECRET, CRM_SECRET, sink.url("/erp"), sink.url("/crm")):
        assert secret not in everything


def test_without_a_tracer_the_stored_trace_context_is_sent_unchanged(sink: Sink) -> None:
    publisher = WebhookPublisher([Subscriber("erp", sink.url("/erp"), ERP_SECRET)], SystemClock())

    publisher.publish(event("EVT-1", traceparent=TRACEPARENT, tracestate="vendor=1"))
    publisher.publish(event("EVT-2"))

    traced, untraced = sink.at("/erp")
    assert (traced.headers["traceparent"], traced.headers["tracestate"]) == (
        TRACEPARENT,
        "vendor=1",
    )
    assert not {"traceparent", "tracestate"} & {name.lower() for name in untraced.headers}
