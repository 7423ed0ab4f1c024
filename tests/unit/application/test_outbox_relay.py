"""The outbox relay: claims, delivery at least once, the reaper, the retry schedule, dead events
and their audited replay, and per-aggregate ordering.

Written against the `app` fixture, so `tests/integration/test_outbox_relay_sql.py` runs the same
tests on SQLite and PostgreSQL. Time moves only by the fake clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Any

import pytest

from adapters.memory import FakeEventPublisher
from application.audit import verify_chain
from application.errors import NotFoundError
from application.records import RETRY_SCHEDULE, DeliveryState, OutboxEvent
from application.relay import (
    EventNotDeadError,
    ReasonRequiredError,
    RelayReport,
    ReplayOutboxEvent,
    reap_stale,
    relay_once,
)
from entrypoints.workers.relay import run_relay
from tests.unit.application.conftest import App, set_up_tm_contract


def seed(app: App, *events: tuple[str, str], state: DeliveryState = DeliveryState.PENDING) -> None:
    """Outbox rows as a committed change would have written them: (event id, aggregate id)."""
    rows = [
        OutboxEvent(
            event_id,
            "InvoiceIssued",
            "Invoice",
            aggregate_id,
            {"invoice_id": aggregate_id, "n": n},
            "corr-seed",
            app.clock.now(),
            state,
        )
        for n, (event_id, aggregate_id) in enumerate(events)
    ]
    with app.bus.deps.uow(app.as_("seed")) as uow:
        uow.outbox.add(rows)
        uow.commit()


def stored(app: App, event_id: str) -> OutboxEvent:
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        return uow.outbox.get(event_id)


def relay(app: App, publisher: FakeEventPublisher, worker: str = "w1", **kw: Any) -> RelayReport:
    return relay_once(app.bus.deps.uow, app.clock, publisher, worker=worker, **kw)


def claim(app: App, worker: str, limit: int = 100) -> list[OutboxEvent]:
    with app.bus.deps.uow(app.as_(worker)) as uow:
        claimed = uow.outbox.claim(worker, app.clock.now(), limit)
        uow.commit()
    return claimed


# Claims ---------------------------------------------------------------------------------------


def test_a_relay_for_one_aggregate_type_claims_only_its_events_and_leaves_the_rest_pending(
    app: App,
) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"))
    journal = OutboxEvent(
        "E3",
        "JournalEntryPosted",
        "JournalEntry",
        "JE-1",
        {"entry_id": "JE-1"},
        "corr-seed",
        app.clock.now(),
    )
    with app.bus.deps.uow(app.as_("seed")) as uow:
        uow.outbox.add([journal])
        uow.commit()
    sink = FakeEventPublisher()

    report = relay(app, sink, aggregate_type="JournalEntry")

    assert (report.claimed, report.delivered) == (1, 1)
    assert sink.ids == ["E3"]
    assert stored(app, "E3").state is DeliveryState.DELIVERED
    assert [stored(app, e).state for e in ("E1", "E2")] == [DeliveryState.PENDING] * 2
    assert [e.event_id for e in claim(app, "w2")] == ["E1", "E2"]


def test_a_claim_takes_due_events_in_commit_order_and_marks_them_in_flight(app: App) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"), ("E3", "INV-3"))
    claimed = claim(app, "worker-a", limit=2)
    assert [e.event_id for e in claimed] == ["E1", "E2"]
    for event_id in ("E1", "E2"):
        event = stored(app, event_id)
        assert (event.state, event.claimed_by, event.claimed_at) == (
            DeliveryState.IN_FLIGHT,
            "worker-a",
            app.clock.now(),
        )
    assert stored(app, "E3").state is DeliveryState.PENDING
    app.clock.advance(seconds=5)
    assert [e.event_id for e in claim(app, "worker-b")] == ["E3"]  # never E1 or E2 again
    assert claim(app, "worker-c") == []


def test_a_relay_pass_delivers_the_batch_and_marks_it_delivered(app: App) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"), ("E3", "INV-3"))
    publisher = FakeEventPublisher()
    assert relay(app, publisher) == RelayReport(claimed=3, delivered=3)
    assert publisher.ids == ["E1", "E2", "E3"]
    assert [stored(app, e).state for e in publisher.ids] == [DeliveryState.DELIVERED] * 3
    assert relay(app, publisher) == RelayReport()
    assert publisher.ids == ["E1", "E2", "E3"]


def test_the_batch_size_limits_a_pass(app: App) -> None:
    seed(app, *((f"E{n}", f"INV-{n}") for n in range(5)))
    publisher = FakeEventPublisher()
    assert relay(app, publisher, limit=2).delivered == 2
    assert relay(app, publisher, limit=2).delivered == 2
    assert relay(app, publisher, limit=2).delivered == 1
    assert publisher.ids == [f"E{n}" for n in range(5)]


# A relay that is told to stop (shutdown) ---------------------------------------------------------


def test_a_stopping_relay_publishes_no_more_and_hands_the_rest_back_at_once(app: App) -> None:
    seed(app, *((f"E{n}", f"INV-{n}") for n in range(4)))
    publisher = FakeEventPublisher()
    report = relay(app, publisher, should_stop=lambda: len(publisher.ids) >= 2)
    assert report == RelayReport(claimed=4, delivered=2, released=2)
    assert publisher.ids == ["E0", "E1"]
    for event_id in ("E2", "E3"):  # no claim left for the reaper to rescue
        event = stored(app, event_id)
        assert (event.state, event.claimed_by, event.claimed_at) == (
            DeliveryState.PENDING,
            None,
            None,
        )
    assert relay(app, publisher) == RelayReport(claimed=2, delivered=2)  # the next relay
    assert publisher.ids == ["E0", "E1", "E2", "E3"]


def test_a_relay_hands_back_only_the_claims_it_holds(app: App) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"))
    claim(app, "worker-a", limit=1)
    with app.bus.deps.uow(app.as_("worker-b")) as uow:
        assert uow.outbox.release("worker-b", ["E1", "E2"]) == 0
        uow.commit()
    assert stored(app, "E1").claimed_by == "worker-a"
    assert stored(app, "E2").state is DeliveryState.PENDING


# At least once: a crash between publishing and recording ---------------------------------------


class ProcessDied(BaseException):
    """Stands for the process dying: nothing catches it."""


class CrashBeforeRecording:
    """Unit-of-work factory whose units of work die when asked to record a delivery as done."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        self._factory = factory

    def __call__(self, ctx: Any, *, read_only: bool = False) -> Any:
        return _Dying(self._factory(ctx, read_only=read_only))


class _Dying:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> Any:
        uow = self._inner.__enter__()

        def die(*_: object) -> int:
            raise ProcessDied("killed after publishing, before marking delivered")

        uow.outbox.mark_delivered = die
        return uow

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)


def test_a_crash_after_publishing_redelivers_the_same_event_ids_once_the_claim_is_reaped(
    app: App,
) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"))
    publisher = FakeEventPublisher()
    with pytest.raises(ProcessDied):
        relay_once(CrashBeforeRecording(app.bus.deps.uow), app.clock, publisher, worker="w1")
    assert publisher.ids == ["E1", "E2"]  # the effect happened
    assert [stored(app, e).state for e in ("E1", "E2")] == [DeliveryState.IN_FLIGHT] * 2

    # a fresh worker finds nothing to do while the claims are fresh
    app.clock.advance(seconds=59)
    assert reap_stale(app.bus.deps.uow, app.clock, worker="w2") == 0
    assert relay(app, publisher, worker="w2") == RelayReport()

    app.clock.advance(seconds=2)
    assert reap_stale(app.bus.deps.uow, app.clock, worker="w2") == 2
    assert relay(app, publisher, worker="w2") == RelayReport(claimed=2, delivered=2)
    assert publisher.ids == ["E1", "E2", "E1", "E2"]  # at least once, same ids: receivers dedupe
    assert {stored(app, e).state for e in ("E1", "E2")} == {DeliveryState.DELIVERED}


def test_the_dead_workers_late_outcome_is_dropped_once_its_claim_was_reaped(app: App) -> None:
    seed(app, ("E1", "INV-1"))
    claim(app, "slow-worker")
    app.clock.advance(minutes=2)
    assert reap_stale(app.bus.deps.uow, app.clock, worker="w2") == 1
    with app.bus.deps.uow(app.as_("slow-worker")) as uow:
        assert uow.outbox.mark_delivered("slow-worker", ["E1"]) == 0
        assert uow.outbox.mark_failed("slow-worker", "E1", "timeout", app.clock.now()) is None
        uow.commit()
    assert stored(app, "E1").state is DeliveryState.PENDING


def test_a_stale_claim_left_by_a_dead_process_is_reaped_and_delivered_by_the_loop(
    app: App,
) -> None:
    seed(app, ("E1", "INV-1"), state=DeliveryState.IN_FLIGHT)
    with app.bus.deps.uow(app.as_("seed")) as uow:  # the claim a killed process left behind
        event = uow.outbox.get("E1")
        event.claimed_by, event.claimed_at = "killed-worker", app.clock.now()
        uow.outbox.save(event)
        uow.commit()
    publisher = FakeEventPublisher()
    loop = run_relay(app.bus.deps.uow, app.clock, publisher, worker_id="w2", once=True)
    assert (loop, publisher.ids) == (RelayReport(), [])
    app.clock.advance(seconds=61)
    loop = run_relay(app.bus.deps.uow, app.clock, publisher, worker_id="w2", once=True)
    assert (loop, publisher.ids) == (RelayReport(claimed=1, delivered=1), ["E1"])
    assert (stored(app, "E1").state, stored(app, "E1").claimed_by) == (
        DeliveryState.DELIVERED,
        "w2",
    )


# The reaper -------------------------------------------------------------------------------------


def test_the_reaper_returns_only_claims_older_than_the_cutoff(app: App) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"), ("E3", "INV-3"), ("E4", "INV-4"))
    claimed_at = app.clock.now()
    claim(app, "old-worker", limit=1)  # E1 at t0
    publisher = FakeEventPublisher()
    relay(app, publisher, worker="done-worker", limit=1)  # E2 delivered at t0
    publisher.available = False
    relay(app, publisher, worker="failing-worker", limit=1)  # E3 failed at t0
    app.clock.advance(seconds=45)
    claim(app, "new-worker", limit=1)  # E4 at t0 + 45 s
    app.clock.advance(seconds=30)  # t0 + 75 s: only E1's claim is more than 60 s old

    assert reap_stale(app.bus.deps.uow, app.clock, worker="reaper") == 1
    e1, e2, e3, e4 = (stored(app, e) for e in ("E1", "E2", "E3", "E4"))
    assert (e1.state, e1.claimed_by, e1.claimed_at) == (DeliveryState.PENDING, None, None)
    assert e2.state is DeliveryState.DELIVERED
    assert e3.state is DeliveryState.FAILED
    assert (e4.state, e4.claimed_by) == (DeliveryState.IN_FLIGHT, "new-worker")
    assert e4.claimed_at == claimed_at + timedelta(seconds=45)
    assert reap_stale(app.bus.deps.uow, app.clock, worker="reaper") == 0


# Retries and dead events ----------------------------------------------------------------------


def fail_until_dead(app: App, publisher: FakeEventPublisher, event_id: str) -> None:
    """Fail every attempt of one event, each when it is due, until it is dead."""
    publisher.available = False
    for _ in RETRY_SCHEDULE:
        relay(app, publisher)
        event = stored(app, event_id)
        assert event.state is DeliveryState.FAILED
        assert event.next_attempt_at is not None
        app.clock.current = event.next_attempt_at
    relay(app, publisher)
    assert stored(app, event_id).state is DeliveryState.DEAD


def test_failed_deliveries_retry_after_1_5_30_minutes_and_2_hours_then_the_event_is_dead(
    app: App,
) -> None:
    seed(app, ("E1", "INV-1"))
    publisher = FakeEventPublisher()
    publisher.available = False
    start = app.clock.now()

    assert relay(app, publisher) == RelayReport(claimed=1, failed=1)
    event = stored(app, "E1")
    assert (event.state, event.attempts) == (DeliveryState.FAILED, 1)
    assert event.next_attempt_at == start + timedelta(minutes=1)
    assert "unavailable" in (event.last_error or "")

    app.clock.advance(seconds=59)
    assert relay(app, publisher) == RelayReport()  # not due yet
    app.clock.advance(seconds=1)
    waits = [timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
    for attempt, wait in enumerate(waits, start=2):
        now = app.clock.now()
        assert relay(app, publisher) == RelayReport(claimed=1, failed=1)
        event = stored(app, "E1")
        assert (event.attempts, event.next_attempt_at) == (attempt, now + wait)
        app.clock.current = now + wait - timedelta(seconds=1)
        assert relay(app, publisher) == RelayReport()
        app.clock.advance(seconds=1)

    assert relay(app, publisher) == RelayReport(claimed=1, dead=1)  # the fifth failure
    event = stored(app, "E1")
    assert (event.state, event.attempts, event.next_attempt_at) == (DeliveryState.DEAD, 5, None)
    app.clock.advance(days=30)
    publisher.available = True
    assert relay(app, publisher) == RelayReport()  # dead stays dead until someone replays it
    with app.bus.deps.uow(app.as_("ops"), read_only=True) as uow:
        assert [e.event_id for e in uow.outbox.in_state(DeliveryState.DEAD, 10)] == ["E1"]


def test_replaying_a_dead_event_keeps_its_id_is_audited_and_then_it_is_delivered(
    app: App,
) -> None:
    seed(app, ("E1", "INV-1"))
    publisher = FakeEventPublisher()
    fail_until_dead(app, publisher, "E1")
    audited_before = len(app.data.audit)

    replayed = app.bus.handle(
        ReplayOutboxEvent("E1", "  ERP endpoint fixed (ticket 42)  "),
        app.as_("integration-lead", "corr-replay"),
    )
    assert (replayed.event_id, replayed.state, replayed.attempts) == (
        "E1",
        DeliveryState.PENDING,
        0,
    )
    event = stored(app, "E1")
    assert (event.state, event.attempts, event.next_attempt_at, event.claimed_by) == (
        DeliveryState.PENDING,
        0,
        None,
        None,
    )
    records = app.data.audit
    (record,) = records[audited_before:]
    assert (
        record.subject,
        record.action,
        record.actor,
        record.correlation_id,
        record.before,
        record.after,
        record.reason,
    ) == (
        "outbox:E1",
        "replay",
        "integration-lead",
        "corr-replay",
        "dead",
        "pending",
        "ERP endpoint fixed (ticket 42)",
    )
    assert verify_chain(records).intact

    publisher.available = True
    assert relay(app, publisher) == RelayReport(claimed=1, delivered=1)
    assert publisher.ids == ["E1"]
    assert stored(app, "E1").state is DeliveryState.DELIVERED


def test_only_a_dead_event_can_be_replayed_and_only_with_a_reason(app: App) -> None:
    seed(app, ("E1", "INV-1"))
    with pytest.raises(EventNotDeadError, match="E1 is pending"):
        app.do(ReplayOutboxEvent("E1", "resend"))
    with pytest.raises(NotFoundError):
        app.do(ReplayOutboxEvent("E-missing", "resend"))
    publisher = FakeEventPublisher()
    fail_until_dead(app, publisher, "E1")
    with pytest.raises(ReasonRequiredError):
        app.do(ReplayOutboxEvent("E1", "   "))
    assert stored(app, "E1").state is DeliveryState.DEAD
    assert not [r for r in app.data.audit if r.subject.startswith("outbox:")]


def test_a_publisher_bug_fails_that_event_only_and_is_recorded(app: App) -> None:
    seed(app, ("E1", "INV-1"), ("E2", "INV-2"))

    class Broken(FakeEventPublisher):
        def publish(self, event: OutboxEvent) -> None:
            if event.event_id == "E1":
                raise KeyError("payload has no 'customer'")
            super().publish(event)

    publisher = Broken()
    assert relay(app, publisher) == RelayReport(claimed=2, delivered=1, failed=1)
    assert publisher.ids == ["E2"]
    assert stored(app, "E1").last_error == "KeyError: \"payload has no 'customer'\""


# Per-aggregate ordering -----------------------------------------------------------------------


def test_a_failed_event_holds_back_its_aggregates_later_events_but_not_other_aggregates(
    app: App,
) -> None:
    seed(app, ("A1", "INV-A"), ("A2", "INV-A"), ("B1", "INV-B"), ("B2", "INV-B"))
    publisher = FakeEventPublisher()
    publisher.refusing = {"INV-A"}
    assert relay(app, publisher) == RelayReport(claimed=2, delivered=1, failed=1)  # A1, B1
    assert relay(app, publisher) == RelayReport(claimed=1, delivered=1)  # B2; A2 waits
    assert publisher.ids == ["B1", "B2"]
    assert stored(app, "A2").state is DeliveryState.PENDING

    publisher.refusing.clear()
    app.clock.advance(minutes=1)
    assert relay(app, publisher) == RelayReport(claimed=1, delivered=1)  # A1 only
    assert relay(app, publisher) == RelayReport(claimed=1, delivered=1)  # then A2
    assert publisher.ids == ["B1", "B2", "A1", "A2"]


def test_a_dead_event_holds_back_its_aggregate_until_it_is_replayed(app: App) -> None:
    seed(app, ("A1", "INV-A"), ("A2", "INV-A"))
    publisher = FakeEventPublisher()
    fail_until_dead(app, publisher, "A1")
    publisher.available = True
    seed(app, ("B1", "INV-B"))
    app.clock.advance(days=1)
    assert relay(app, publisher) == RelayReport(claimed=1, delivered=1)
    assert publisher.ids == ["B1"]  # A2 is behind the dead A1
    assert stored(app, "A2").state is DeliveryState.PENDING

    app.do(ReplayOutboxEvent("A1", "subscriber accepts it now"), actor="integration-lead")
    run_relay(app.bus.deps.uow, app.clock, publisher, worker_id="w1", once=True)
    assert publisher.ids == ["B1", "A1", "A2"]


def test_an_in_flight_event_holds_back_its_aggregate_for_other_workers(app: App) -> None:
    seed(app, ("A1", "INV-A"), ("A2", "INV-A"), ("B1", "INV-B"))
    assert [e.event_id for e in claim(app, "w1", limit=1)] == ["A1"]
    assert [e.event_id for e in claim(app, "w2")] == ["B1"]


def test_a_workflows_events_reach_the_subscriber_in_commit_order_per_aggregate(app: App) -> None:
    set_up_tm_contract(app)
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        written = uow.outbox.pending(1000)
    assert len({(e.aggregate_type, e.aggregate_id) for e in written}) > 1
    publisher = FakeEventPublisher()
    totals = run_relay(app.bus.deps.uow, app.clock, publisher, worker_id="w1", once=True)
    assert totals.delivered == len(written)
    assert sorted(publisher.ids) == sorted(e.event_id for e in written)
    assert by_aggregate(publisher.received) == by_aggregate(written)


def by_aggregate(events: list[OutboxEvent]) -> dict[tuple[str, str], list[str]]:
    grouped: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for event in events:
        grouped[(event.aggregate_type, event.aggregate_id)].append(event.event_id)
    return dict(grouped)
