"""The relay as a process: the subscribers file, the loop (reaping by the clock, surviving a
failed pass, stopping when asked) and the in-process thread the server starts."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.memory import FakeClock, FakeEventPublisher, InMemoryStore, InMemoryUnitOfWork
from adapters.outbound.webhook_publisher import Subscriber
from application.context import RequestContext
from application.records import DeliveryState, OutboxEvent
from application.relay import RelayReport
from entrypoints.workers.relay import (
    RelaySettings,
    SubscriberFileError,
    load_subscribers,
    run_relay,
    start_in_process_relay,
)

SECRET = "whsec_" + base64.b64encode(b"a-secret-of-twenty-four-b").decode()


# The subscribers file ---------------------------------------------------------------------------


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "subscribers.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def entry(**changes: object) -> dict[str, object]:
    return {"name": "erp", "url": "https://erp.example.com/hooks", "secret": SECRET, **changes}


def test_a_subscribers_file_is_read_with_its_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "subscribers": [
                entry(),
                entry(
                    name="crm",
                    url="http://crm.internal:8080/in",
                    event_types=["com.throughline.engagement.*", " com.throughline.invoice.paid "],
                    timeout_seconds=2.5,
                ),
            ]
        },
    )
    erp, crm = load_subscribers(path)
    assert erp == Subscriber("erp", "https://erp.example.com/hooks", SECRET, ("*",), 5.0)
    assert crm.event_types == ("com.throughline.engagement.*", "com.throughline.invoice.paid")
    assert crm.timeout_seconds == 2.5
    assert SECRET not in repr(erp)
    assert crm.wants("com.throughline.engagement.activated")
    assert not crm.wants("com.throughline.invoice.issued")


@pytest.mark.parametrize(
    ("document", "field", "problem"),
    [
        ([entry()], "", 'expected an object {"subscribers": [...]}'),
        ({"subscribers": [entry()], "source": "x"}, "", "expected an object"),
        ({"subscribers": {"erp": entry()}}, "subscribers", "must be a list"),
        ({"subscribers": ["erp"]}, "subscribers[0]", "must be an object"),
        ({"subscribers": [entry(name=" ")]}, "subscribers[0].name", "is required"),
        ({"subscribers": [entry(url=None)]}, "subscribers[0].url", "is required"),
        ({"subscribers": [entry(url="ftp://x")]}, "subscribers[0].url", "http:// or https://"),
        ({"subscribers": [entry(secret="hunter2")]}, "subscribers[0].secret", "Standard Webhooks"),
        (
            {"subscribers": [entry(secret="whsec_" + base64.b64encode(b"short").decode())]},
            "subscribers[0].secret",
            "24+ bytes",
        ),
        ({"subscribers": [entry(event_types=[])]}, "subscribers[0].event_types", "non-empty"),
        ({"subscribers": [entry(event_types="*")]}, "subscribers[0].event_types", "list"),
        ({"subscribers": [entry(timeout_seconds=0)]}, "subscribers[0].timeout_seconds", "above 0"),
        (
            {"subscribers": [entry(timeout_seconds=True)]},
            "subscribers[0].timeout_seconds",
            "number",
        ),
        ({"subscribers": [entry(filter="*")]}, "subscribers[0].filter", "not a known field"),
        ({"subscribers": [entry(), entry()]}, "subscribers[1].name", "'erp' is used twice"),
    ],
)
def test_a_bad_subscribers_file_names_the_file_and_the_field(
    tmp_path: Path, document: object, field: str, problem: str
) -> None:
    path = write(tmp_path, document)
    with pytest.raises(SubscriberFileError) as refused:
        load_subscribers(path)
    assert refused.value.path == path
    assert refused.value.field == field
    assert problem in refused.value.problem
    assert str(refused.value).startswith(f"{path}: ")
    assert "hunter2" not in str(refused.value)


def test_the_readme_example_is_a_subscribers_file_that_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Outbound events\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```json\n", 1)[1].split("```", 1)[0]
    erp, lake = load_subscribers(write(tmp_path, json.loads(example)))
    assert erp.wants("com.throughline.invoice.issued")
    assert not erp.wants("com.throughline.engagement.activated")
    assert lake.wants("com.throughline.engagement.activated")


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SubscriberFileError, match="cannot be read"):
        load_subscribers(tmp_path / "nowhere.json")
    (tmp_path / "broken.json").write_text("{subscribers: []", encoding="utf-8")
    with pytest.raises(SubscriberFileError, match=r"broken\.json: is not JSON"):
        load_subscribers(tmp_path / "broken.json")


def test_the_relay_settings_come_from_the_environment() -> None:
    assert RelaySettings.from_env({}) == RelaySettings(None, "urn:throughline:local")
    configured = RelaySettings.from_env(
        {"THROUGHLINE_SUBSCRIBERS": "/etc/tl/subs.json", "THROUGHLINE_EVENT_SOURCE": "urn:x:y"}
    )
    assert configured == RelaySettings(Path("/etc/tl/subs.json"), "urn:x:y")
    with pytest.raises(ValueError, match="THROUGHLINE_EVENT_SOURCE"):
        RelaySettings.from_env({"THROUGHLINE_EVENT_SOURCE": "urn:a b"})


# The loop ----------------------------------------------------------------------------------------


class World:
    """An in-memory outbox, a clock the test moves, and a subscriber."""

    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.clock = FakeClock(datetime(2026, 3, 31, 9, 0, tzinfo=UTC))
        self.publisher = FakeEventPublisher()

    def uow(self, ctx: RequestContext, *, read_only: bool = False) -> Any:
        return InMemoryUnitOfWork(self.store, ctx, self.clock.now)

    def seed(self, *event_ids: str, claimed_by: str | None = None) -> None:
        events = [
            OutboxEvent(i, "InvoiceIssued", "Invoice", f"INV-{i}", {}, "c", self.clock.now())
            for i in event_ids
        ]
        for event in events:
            if claimed_by is not None:
                event.claimed(claimed_by, self.clock.now())
        with self.uow(RequestContext("seed", "seed")) as uow:
            uow.outbox.add(events)
            uow.commit()

    def state(self, event_id: str) -> DeliveryState:
        with self.uow(RequestContext("read", "read")) as uow:
            event: OutboxEvent = uow.outbox.get(event_id)
        return event.state


@pytest.fixture
def world() -> World:
    return World()


def test_the_loop_reaps_stale_claims_every_reap_interval_by_the_clock(world: World) -> None:
    world.seed("E1", claimed_by="killed-worker")  # in flight since t0
    stop = threading.Event()
    passes: list[RelayReport] = []

    def after_pass(report: RelayReport) -> None:
        passes.append(report)
        if world.publisher.ids or len(passes) == 10:
            stop.set()
        world.clock.advance(seconds=31)

    totals = run_relay(
        world.uow,
        world.clock,
        world.publisher,
        worker_id="w1",
        interval=0,
        stop_event=stop,
        reap_every=timedelta(seconds=30),
        stale_after=timedelta(seconds=60),
        on_pass=after_pass,
    )
    # t0: reap (nothing stale); t0+31: reap (cutoff t0-29); t0+62: reap hands E1 back
    assert [p.delivered for p in passes] == [0, 0, 1]
    assert totals == RelayReport(claimed=1, delivered=1)
    assert world.state("E1") is DeliveryState.DELIVERED


def test_a_failed_pass_is_logged_and_the_loop_carries_on(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.seed("E1")
    calls: list[str] = []

    def flaky_uow(ctx: RequestContext, *, read_only: bool = False) -> Any:
        calls.append(ctx.actor)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return world.uow(ctx, read_only=read_only)

    stop = threading.Event()
    totals = run_relay(
        flaky_uow,
        world.clock,
        world.publisher,
        worker_id="w1",
        interval=0,
        stop_event=stop,
        on_pass=lambda report: stop.set(),
    )
    assert totals.delivered == 1
    assert "pass failed" in caplog.text
    calls.clear()
    with pytest.raises(RuntimeError, match="locked"):  # --once lets it through
        run_relay(flaky_uow, world.clock, world.publisher, worker_id="w1", once=True)


def test_the_in_process_relay_delivers_in_its_thread_and_stops(world: World) -> None:
    world.seed("E1", "E2", "E3")
    everything = threading.Event()

    class Signalling(FakeEventPublisher):
        def publish(self, event: OutboxEvent) -> None:
            super().publish(event)
            if len(self.received) == 3:
                everything.set()

    publisher = Signalling()
    handle = start_in_process_relay(
        world.uow, world.clock, publisher, worker_id="server-1", interval=0.05
    )
    try:
        assert handle.running
        assert everything.wait(timeout=30)
    finally:
        handle.stop(timeout=30)
    assert handle.thread is not None
    assert not handle.thread.is_alive()
    assert publisher.ids == ["E1", "E2", "E3"]
    assert {world.state(e) for e in publisher.ids} == {DeliveryState.DELIVERED}


@pytest.fixture
def memory_container(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from entrypoints.composition.container import configure
    from entrypoints.composition.settings import Settings
    from tests.e2e.cli_harness import reset_container

    monkeypatch.delenv("THROUGHLINE_SUBSCRIBERS", raising=False)
    configure(Settings("memory://"))
    yield
    reset_container()


@pytest.mark.usefixtures("memory_container")
def test_with_no_subscribers_configured_the_server_starts_no_relay() -> None:
    handle = start_in_process_relay()
    assert not handle.running
    handle.stop()  # harmless


@pytest.mark.usefixtures("memory_container")
def test_the_server_relay_uses_the_subscribers_of_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from entrypoints.composition.container import configure
    from entrypoints.composition.settings import Settings

    monkeypatch.setenv("THROUGHLINE_SUBSCRIBERS", str(write(tmp_path, {"subscribers": [entry()]})))
    configure(Settings.from_env(database_url="memory://"))
    handle = start_in_process_relay(interval=0.05)
    try:
        assert handle.running
    finally:
        handle.stop(timeout=30)
    assert not handle.running
