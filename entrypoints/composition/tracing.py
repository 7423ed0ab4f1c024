"""OpenTelemetry tracing, optional (the `[otel]` extra) and off by default (ADR 0020).

`configure_tracing(settings, service=...)` starts a tracer provider of our own when
`THROUGHLINE_TRACING` is `otlp` (the OTLP/HTTP exporter, configured by the standard
`OTEL_EXPORTER_OTLP_*` variables) or `console` (spans on standard error); `OTEL_SERVICE_NAME`
overrides the service name. With tracing off, or without the package installed, every function
here is a no-op: nothing from `opentelemetry` is imported until tracing is switched on.

What a trace covers: a server span per HTTP request continuing an incoming W3C `traceparent`
(`entrypoints.http.server_span`), a child span per command on the message bus (`TracedBus`),
SQL statements as children of whatever span is current (statement text only, never its
parameters), and the relay's delivery of each outbox event as a child of the request that
wrote it (`TracedDelivery`): the trace context is stored on the outbox row through the
request context (`current_trace_context`), so one trace crosses the relay.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs

from adapters.outbound.webhook_publisher import stored_trace_headers
from application.context import RequestContext
from application.messagebus import Handler, MessageBus
from application.records import OutboxEvent
from entrypoints.composition.settings import Settings, Tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

SERVICE_NAME_VARIABLE = "OTEL_SERVICE_NAME"
#: The longest statement text put on a SQL span.
MAX_STATEMENT = 4_000
_SQL_SPANS = "throughline.sql_spans"

log = logging.getLogger(__name__)


@attrs.frozen
class _Active:
    provider: TracerProvider
    tracer: Tracer
    propagator: TraceContextTextMapPropagator


_active: _Active | None = None
_sql_hooked = False


def configure_tracing(
    settings: Settings, *, service: str, exporter: SpanExporter | None = None
) -> bool:
    """Start (or stop) tracing for this process as `settings.tracing` says; True when spans
    are recorded. Calling it again replaces the previous provider (flushed first).
    `exporter` replaces the configured exporter, for tests (spans are then exported at once)."""
    global _active
    _stop()
    if settings.tracing is Tracing.OFF:
        return False
    try:
        _active = _start(settings.tracing, service, exporter)
    except ImportError as missing:
        log.warning(
            "tracing.unavailable",
            extra={
                "tracing": settings.tracing.value,
                "reason": f"{missing.name or 'opentelemetry'} is not installed "
                "(install throughline[otel])",
            },
        )
        return False
    _hook_sql()
    return True


def _start(tracing: Tracing, service: str, exporter: SpanExporter | None) -> _Active:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    name = os.environ.get(SERVICE_NAME_VARIABLE, "").strip() or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif tracing is Tracing.CONSOLE:
        # standard output is the CLI's; spans go where the logs go
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return _Active(provider, provider.get_tracer("throughline"), TraceContextTextMapPropagator())


def _stop() -> None:
    global _active
    if _active is not None:
        _active.provider.shutdown()
        _active = None


def tracing_active() -> bool:
    return _active is not None


# The current trace ------------------------------------------------------------------------


def current_trace_context() -> tuple[str | None, str | None]:
    """The W3C `traceparent` and `tracestate` of the current span; (None, None) when tracing
    is off or no span is current."""
    active = _active
    if active is None or current_span_ids() is None:
        return None, None
    carrier: dict[str, str] = {}
    active.propagator.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate") or None


def current_span_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, for log lines; None without one."""
    if _active is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def traced_context(ctx: RequestContext) -> RequestContext:
    """The request context with the current trace context, so the outbox rows its unit of
    work writes carry it (unchanged when there is none)."""
    traceparent, tracestate = current_trace_context()
    if traceparent is None:
        return ctx
    return attrs.evolve(ctx, traceparent=traceparent, tracestate=tracestate)


@contextmanager
def started_span(
    name: str,
    *,
    kind: str = "internal",
    carrier: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
    errors_are_failures: bool = True,
) -> Iterator[Span | None]:
    """A span made current for the block (None when tracing is off). With `carrier`, its
    parent is the W3C trace context in it (a new trace when it holds none); without, the
    current span. `errors_are_failures=False` leaves the status to the caller (an HTTP 401
    passing through is not a failure of the server)."""
    active = _active
    if active is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    parent = active.propagator.extract(dict(carrier)) if carrier is not None else None
    with active.tracer.start_as_current_span(
        name,
        context=parent,
        kind=SpanKind[kind.upper()],
        attributes=dict(attributes or {}),
        record_exception=errors_are_failures,
        set_status_on_exception=errors_are_failures,
    ) as span:
        yield span


def mark_failed(span: Span, description: str) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_status(Status(StatusCode.ERROR, description))


# The message bus --------------------------------------------------------------------------


class TracedBus(MessageBus):
    """The message bus with a span around each command (`command <Name>`), child of the
    request's span. The application layer knows nothing of it."""

    def __init__(self, inner: MessageBus) -> None:
        super().__init__(inner.deps, {})
        self._inner = inner

    def register(self, command_type: type, handler: Handler) -> None:
        self._inner.register(command_type, handler)

    def handle(self, command: object, ctx: RequestContext) -> Any:
        name = type(command).__name__
        with started_span(f"command {name}", attributes={"throughline.command": name}):
            return self._inner.handle(command, ctx)

    def command_types(self) -> dict[str, type]:
        return self._inner.command_types()


def traced_bus(bus: MessageBus) -> MessageBus:
    """The bus whose commands are spans when tracing is on (checked per command)."""
    return bus if isinstance(bus, TracedBus) else TracedBus(bus)


# The relay --------------------------------------------------------------------------------


class TracedDelivery:
    """The delivery of an outbox event as a span whose parent is the trace context stored on
    the row (the request that wrote it); the webhook carries that span's `traceparent`. A row
    without a trace context gets no span and no header; with tracing off here, the stored
    context is passed on unchanged."""

    @contextmanager
    def delivering(self, event: OutboxEvent, event_type: str) -> Iterator[Mapping[str, str]]:
        stored = stored_trace_headers(event)
        active = _active
        if active is None or not stored:
            yield stored
            return
        attributes = {
            "messaging.system": "webhook",
            "messaging.operation.type": "send",
            "messaging.message.id": event.event_id,
            "cloudevents.event_id": event.event_id,
            "cloudevents.event_type": event_type,
            "cloudevents.event_subject": event.aggregate_id,
            "throughline.correlation_id": event.correlation_id,
        }
        with started_span(
            f"deliver {event_type}", kind="producer", carrier=stored, attributes=attributes
        ):
            headers: dict[str, str] = {}
            active.propagator.inject(headers)
            yield headers


# SQL --------------------------------------------------------------------------------------


def _hook_sql() -> None:
    """SQL spans for every engine (once per process): only inside a traced request or
    delivery, so the relay's polling makes no traces of its own."""
    global _sql_hooked
    if _sql_hooked:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _sql_started)
    event.listen(Engine, "after_cursor_execute", _sql_finished)
    event.listen(Engine, "handle_error", _sql_failed)
    _sql_hooked = True


def _sql_started(
    connection: Any,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    active = _active
    if active is None or current_span_ids() is None:
        return
    from opentelemetry.trace import SpanKind

    system = connection.dialect.name
    span = active.tracer.start_span(
        _operation(statement),
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": system,
            "db.system.name": system,
            "db.query.text": statement[:MAX_STATEMENT],
            "db.statement": statement[:MAX_STATEMENT],
        },
    )
    connection.info.setdefault(_SQL_SPANS, []).append(span)


def _sql_finished(connection: Any, *_: Any) -> None:
    spans = connection.info.get(_SQL_SPANS)
    if spans:
        spans.pop().end()


def _sql_failed(context: Any) -> None:
    connection = getattr(context, "connection", None)
    spans = connection.info.get(_SQL_SPANS) if connection is not None else None
    if spans:
        span = spans.pop()
        # the type only: a driver's message can quote the parameters
        mark_failed(span, type(context.original_exception).__name__)
        span.end()


def _operation(statement: str) -> str:
    words = statement.split(None, 1)
    return words[0].upper() if words else "SQL"
