"""One trace from a POST to the webhook it causes: the real app over a real SQLite database,
spans kept in memory. The server span continues the caller's `traceparent`, the command and
its SQL are its children, the outbox row keeps the trace context, and the relay's delivery is
a span of the same trace whose CloudEvent and request carry it on to the subscriber. With
tracing off, nothing of the kind is written or sent."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from application.context import RequestContext
from application.messagebus import MessageBus
from application.records import OutboxEvent
from application.relay import relay_once
from entrypoints.composition.container import (
    configure,
    provide_bus,
    provide_clock,
    provide_database,
    provide_finance_queries,
    provide_ops_reads,
    provide_reader,
    release_connections,
)
from entrypoints.composition.settings import Settings, Tracing
from entrypoints.composition.tracing import configure_tracing, traced_bus
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from entrypoints.http.security import ApiKey, Authenticator
from entrypoints.workers.relay import RelaySettings, webhook_publisher
from tests.e2e.cli_harness import reset_container
from tests.support.http_sink import Sink, running_sink

SALES_KEY = "trace-sales-key-0123456789"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
SUBSCRIBER_SECRET = "whsec_" + base64.b64encode(b"tracing-test-secret-32-bytes-ok!").decode()
ENGAGEMENT = "E-TRACE-1"


@attrs.define
class World:
    client: TestClient[Litestar]
    bus: MessageBus
    sink: Sink
    subscribers: Path

    def propose(self, **headers: str) -> None:
        answer = self.client.post(
            "/engagements",
            json={"engagement_id": ENGAGEMENT, "customer_id": "C-1", "contract_id": "K-1"},
            headers={"X-API-Key": SALES_KEY, "Idempotency-Key": "trace-1", **headers},
        )
        assert answer.status_code == 201, answer.text

    def outbox(self) -> list[OutboxEvent]:
        with provide_reader()(RequestContext("test", "test")) as uow:
            return uow.outbox.pending(10)

    def relay(self) -> None:
        clock = provide_clock()
        publisher = webhook_publisher(RelaySettings(self.subscribers), clock)
        assert publisher is not None
        try:
            report = relay_once(self.bus.deps.uow, clock, publisher, worker="trace-test")
        finally:
            publisher.close()
        assert report.delivered == 1, report


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    on = Settings("memory://", tracing=Tracing.OTLP)
    assert configure_tracing(on, service="throughline-api", exporter=spans)
    yield spans
    configure_tracing(Settings("memory://"), service="throughline-api")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    configure(Settings(f"sqlite:///{tmp_path / 't.db'}"))
    provide_database().upgrade()
    bus = traced_bus(provide_bus())
    services = Services(
        bus,
        provide_reader(),
        provide_clock(),
        Limits(),
        ops=provide_ops_reads(),
        finance=provide_finance_queries(),
    )
    keys = Authenticator.of([ApiKey.of(SALES_KEY, "tess.sales", ("sales_ops",), None)])
    subscribers = tmp_path / "subscribers.json"
    with running_sink() as sink:
        subscribers.write_text(
            json.dumps(
                {
                    "subscribers": [
                        {"name": "sink", "url": sink.url("/in"), "secret": SUBSCRIBER_SECRET}
                    ]
                }
            ),
            encoding="utf-8",
        )
        try:
            with TestClient(create_app(services, keys)) as client:
                yield World(client, bus, sink, subscribers)
        finally:
            release_connections()
            reset_container()


def hex_ids(span: ReadableSpan) -> tuple[str, str, str | None]:
    """(trace id, span id, parent span id) in hex."""
    context = span.get_span_context()
    parent = f"{span.parent.span_id:016x}" if span.parent is not None else None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}", parent


def test_one_trace_follows_a_post_through_its_sql_and_the_relay_to_the_subscriber(
    world: World, exporter: InMemorySpanExporter
) -> None:
    world.propose(traceparent=TRACEPARENT)
    (event,) = world.outbox()
    world.relay()

    spans = exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    (command,) = [s for s in spans if s.name == "command ProposeEngagement"]
    sql = [s for s in spans if s.kind is SpanKind.CLIENT]
    (delivery,) = [s for s in spans if s.kind is SpanKind.PRODUCER]
    trace_id, server_id, server_parent = hex_ids(server)

    assert server.name == "POST /engagements"
    assert (trace_id, server_parent) == (TRACE_ID, CALLER_SPAN)
    assert server.attributes is not None
    assert server.attributes["http.response.status_code"] == 201
    assert {s.get_span_context().trace_id for s in spans} == {int(TRACE_ID, 16)}
    _, command_id, command_parent = hex_ids(command)
    assert command_parent == server_id
    sql_parents = {hex_ids(s)[2] for s in sql}
    assert command_id in sql_parents  # the command's own statements
    assert sql_parents <= {server_id, command_id}  # and the idempotency key's around it
    inserts = [s for s in sql if s.name == "INSERT" and s.parent is not None]
    statements = [str((s.attributes or {})["db.statement"]) for s in inserts]
    assert any("INSERT INTO outbox" in text for text in statements)
    assert all(ENGAGEMENT not in text for text in statements)  # text only, no parameters

    assert event.traceparent is not None
    assert event.traceparent.split("-")[1:3] == [TRACE_ID, server_id]
    _, delivery_id, delivery_parent = hex_ids(delivery)
    assert delivery.name == "deliver com.throughline.engagement.proposed"
    assert delivery_parent == server_id

    (received,) = world.sink.at("/in")
    cloudevent = json.loads(received.body)
    assert cloudevent["traceparent"] == event.traceparent
    assert received.headers["traceparent"].split("-")[1:3] == [TRACE_ID, delivery_id]


def test_without_an_incoming_traceparent_the_server_starts_the_trace(
    world: World, exporter: InMemorySpanExporter
) -> None:
    world.propose()
    (event,) = world.outbox()

    (server,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    trace_id, server_id, parent = hex_ids(server)
    assert parent is None
    assert event.traceparent is not None
    assert event.traceparent.split("-")[1:3] == [trace_id, server_id]


def test_with_tracing_off_no_trace_context_is_stored_or_sent(world: World) -> None:
    world.propose(traceparent=TRACEPARENT)
    (event,) = world.outbox()
    world.relay()

    assert (event.traceparent, event.tracestate) == (None, None)
    (received,) = world.sink.at("/in")
    assert "traceparent" not in json.loads(received.body)
    assert "tracestate" not in json.loads(received.body)
    assert "traceparent" not in {name.lower() for name in received.headers}
