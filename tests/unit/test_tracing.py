"""Tracing is optional: without the `[otel]` extra (or with it switched off) every function is a
no-op and the app still serves; with it on, SQL spans are children of the current span only,
carry the statement text but never its parameters, and the CloudEvent carries the trace
context stored on the outbox row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from adapters.outbound.cloudevents_envelope import structured_json
from application.context import RequestContext
from application.records import OutboxEvent
from entrypoints.composition.settings import Settings, Tracing
from entrypoints.composition.tracing import (
    TracedBus,
    configure_tracing,
    current_trace_context,
    started_span,
    traced_bus,
    traced_context,
)

ROOT = Path(__file__).resolve().parents[2]
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

#: Runs first in the child: any import of opentelemetry fails, as without the extra.
BLOCKER = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    class NoOpenTelemetry(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoOpenTelemetry())
    """
)


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("THROUGHLINE_", "OTEL_"))},
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )


def event(event_id: str = "EVT-1", **trace: str) -> OutboxEvent:
    """E1's proposal as the outbox holds it, with the trace context given."""
    return OutboxEvent(
        event_id,
        "EngagementProposed",
        "Engagement",
        "E1",
        {"engagement_id": "E1"},
        "corr-1",
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        **trace,  # type: ignore[arg-type]
    )


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert configure_tracing(
        Settings("memory://", tracing=Tracing.CONSOLE),
        service="throughline-relay",
        exporter=exporter,
    )
    yield exporter
    configure_tracing(Settings("memory://"), service="throughline-relay")


# Without the extra --------------------------------------------------------------------------


def test_without_opentelemetry_installed_the_app_serves_and_tracing_does_nothing(
    tmp_path: Path,
) -> None:
    check = BLOCKER + textwrap.dedent(
        """
        from litestar.testing import TestClient

        from application.context import RequestContext
        from entrypoints.http.serve import create_from_env
        from entrypoints.composition.settings import Settings, Tracing
        from entrypoints.composition.tracing import (
            TracedDelivery, configure_tracing, current_span_ids, current_trace_context,
            traced_context, tracing_active,
        )

        try:
            import opentelemetry  # noqa: F401
        except ModuleNotFoundError:
            pass
        else:
            raise SystemExit("the blocker let opentelemetry through")

        from entrypoints.composition.container import provide_database

        app = create_from_env()  # THROUGHLINE_TRACING=otlp asks for what is not there
        provide_database().upgrade()
        with TestClient(app) as client:
            health = client.get("/health")
            assert health.status_code == 200, health.text
            assert client.get("/ready").status_code == 200

        console = Settings("memory://", tracing=Tracing.CONSOLE)
        assert configure_tracing(console, service="x") is False
        assert tracing_active() is False
        assert current_trace_context() == (None, None)
        assert current_span_ids() is None
        ctx = RequestContext("a", "c")
        assert traced_context(ctx) is ctx
        assert not [m for m in sys.modules if m.startswith("opentelemetry")]
        print("served without opentelemetry")
        """
    )
    done = run_python(
        check,
        tmp_path,
        THROUGHLINE_DATABASE_URL=f"sqlite:///{tmp_path / 't.db'}",
        THROUGHLINE_TRACING="otlp",
    )
    assert done.returncode == 0, done.stderr
    assert "served without opentelemetry" in done.stdout
    warnings = [json.loads(line) for line in done.stderr.splitlines() if "tracing." in line]
    assert warnings
    assert warnings[0]["event"] == "tracing.unavailable"
    assert "throughline[otel]" in warnings[0]["reason"]


def test_loading_the_entry_points_imports_nothing_from_opentelemetry(tmp_path: Path) -> None:
    check = textwrap.dedent(
        """
        import sys
        import entrypoints.cli, entrypoints.http.serve, entrypoints.workers.relay
        import entrypoints.composition.tracing
        from entrypoints.composition.settings import Settings
        from entrypoints.composition.tracing import configure_tracing

        assert configure_tracing(Settings("memory://"), service="x") is False
        loaded = [m for m in sys.modules if m.startswith("opentelemetry")]
        assert not loaded, loaded
        """
    )
    done = run_python(check, tmp_path)
    assert done.returncode == 0, done.stderr


# Trace context ------------------------------------------------------------------------------


def test_with_tracing_off_the_request_context_carries_no_trace() -> None:
    configure_tracing(Settings("memory://"), service="throughline-api")
    ctx = RequestContext("fran", "corr-1")
    with started_span("nothing") as span:
        assert span is None
        assert current_trace_context() == (None, None)
        assert traced_context(ctx) is ctx


def test_inside_a_span_the_request_context_takes_its_trace_context(
    spans: InMemorySpanExporter,
) -> None:
    with started_span("POST /x", kind="server", carrier={"traceparent": TRACEPARENT}) as span:
        assert span is not None
        ctx = traced_context(RequestContext("fran", "corr-1", frozenset({"finance"})))
    assert ctx.traceparent is not None
    _, trace_id, span_id, _ = ctx.traceparent.split("-")
    assert trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert span_id == f"{span.get_span_context().span_id:016x}"
    assert (ctx.actor, ctx.correlation_id, ctx.roles) == ("fran", "corr-1", frozenset({"finance"}))
    assert ctx.as_system("job").traceparent == ctx.traceparent  # the conversation goes on


def test_the_service_name_defaults_per_process_and_the_environment_overrides_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default, overridden = InMemorySpanExporter(), InMemorySpanExporter()
    on = Settings("memory://", tracing=Tracing.OTLP)
    try:
        configure_tracing(on, service="throughline-relay", exporter=default)
        with started_span("one"):
            pass
        monkeypatch.setenv("OTEL_SERVICE_NAME", "billing-eu")
        configure_tracing(on, service="throughline-relay", exporter=overridden)
        with started_span("two"):
            pass
    finally:
        configure_tracing(Settings("memory://"), service="throughline-relay")
    (one,) = default.get_finished_spans()
    (two,) = overridden.get_finished_spans()
    assert one.resource.attributes["service.name"] == "throughline-relay"
    assert two.resource.attributes["service.name"] == "billing-eu"


# The envelope -------------------------------------------------------------------------------


def test_the_cloudevent_carries_the_stored_trace_context_as_the_tracing_extension() -> None:
    document = json.loads(structured_json(event(traceparent=TRACEPARENT, tracestate="v=1")))
    assert document["traceparent"] == TRACEPARENT
    assert document["tracestate"] == "v=1"


def test_an_untraced_event_has_no_tracing_attributes() -> None:
    document = json.loads(structured_json(event()))
    assert "traceparent" not in document
    assert "tracestate" not in document


def test_a_tracestate_without_a_traceparent_is_not_sent() -> None:
    document = json.loads(structured_json(event(tracestate="v=1")))
    assert "tracestate" not in document


# SQL spans and the bus ----------------------------------------------------------------------


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (secret_value TEXT)")
    yield engine
    engine.dispose()


def test_sql_outside_a_trace_makes_no_span(spans: InMemorySpanExporter, engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("SELECT * FROM t"))
    assert spans.get_finished_spans() == ()


def test_a_sql_span_is_a_child_with_the_statement_text_and_never_its_parameters(
    spans: InMemorySpanExporter, engine: sa.Engine
) -> None:
    with started_span("request") as parent, engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": "hunter2-password"})
    assert parent is not None
    (insert,) = [s for s in spans.get_finished_spans() if s.name == "INSERT"]
    assert insert.kind is SpanKind.CLIENT
    assert insert.parent is not None
    assert insert.parent.span_id == parent.get_span_context().span_id
    assert insert.attributes is not None
    assert insert.attributes["db.system"] == "sqlite"
    assert insert.attributes["db.statement"] == "INSERT INTO t VALUES (?)"
    assert "hunter2" not in json.dumps(dict(insert.attributes))


def test_a_failed_statement_ends_its_span_as_failed_without_the_drivers_message(
    spans: InMemorySpanExporter, engine: sa.Engine
) -> None:
    with (
        started_span("request"),
        pytest.raises(sa.exc.OperationalError),
        engine.begin() as connection,
    ):
        connection.execute(sa.text("SELECT nope FROM t WHERE x = :v"), {"v": "hunter2"})
    (failed,) = [s for s in spans.get_finished_spans() if s.name == "SELECT"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "OperationalError"


def test_the_traced_bus_hands_each_command_on_in_a_span_named_for_it(
    spans: InMemorySpanExporter,
) -> None:
    from application.messagebus import MessageBus

    handled: list[object] = []

    def handler(command: object, ctx: RequestContext) -> str:
        handled.append(command)
        return "done"

    class Ping:
        pass

    inner = MessageBus(deps=None, handlers={Ping: handler})  # type: ignore[arg-type]
    bus = traced_bus(inner)

    assert isinstance(bus, TracedBus)
    assert traced_bus(bus) is bus
    assert bus.handle(Ping(), RequestContext("a", "c")) == "done"
    assert bus.command_types() == {"Ping": Ping}
    assert [s.name for s in spans.get_finished_spans()] == ["command Ping"]
    assert len(handled) == 1
