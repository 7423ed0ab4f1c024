"""An outbox event's delivery lifecycle: the table, every state against every trigger, and the
diagram in ADR 0016 drawn from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.records import (
    DELIVERY_LIFECYCLE,
    RETRY_SCHEDULE,
    DeliveryState,
    DeliveryTrigger,
    OutboxEvent,
)
from domain.errors import IllegalTransitionError

ADR = Path(__file__).resolve().parents[2] / "docs" / "adr" / "0016-outbox-relay.md"
NOW = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)

LEGAL = {
    (DeliveryState.PENDING, DeliveryTrigger.CLAIM): DeliveryState.IN_FLIGHT,
    (DeliveryState.FAILED, DeliveryTrigger.CLAIM): DeliveryState.IN_FLIGHT,
    (DeliveryState.IN_FLIGHT, DeliveryTrigger.DELIVER): DeliveryState.DELIVERED,
    (DeliveryState.IN_FLIGHT, DeliveryTrigger.FAIL): DeliveryState.FAILED,
    (DeliveryState.IN_FLIGHT, DeliveryTrigger.GIVE_UP): DeliveryState.DEAD,
    (DeliveryState.IN_FLIGHT, DeliveryTrigger.REAP): DeliveryState.PENDING,
    (DeliveryState.DEAD, DeliveryTrigger.REPLAY): DeliveryState.PENDING,
}


@pytest.mark.parametrize("state", list(DeliveryState))
@pytest.mark.parametrize("trigger", list(DeliveryTrigger))
def test_every_state_and_trigger(state: DeliveryState, trigger: DeliveryTrigger) -> None:
    assert DELIVERY_LIFECYCLE.machine_allows(state, trigger) is ((state, trigger) in LEGAL)
    if (state, trigger) in LEGAL:
        assert DELIVERY_LIFECYCLE.next_state(state, trigger) is LEGAL[(state, trigger)]
    else:
        with pytest.raises(IllegalTransitionError):
            DELIVERY_LIFECYCLE.next_state(state, trigger)


def test_delivered_is_final() -> None:
    assert DELIVERY_LIFECYCLE.allowed(DeliveryState.DELIVERED) == []


def test_the_adr_diagram_is_drawn_from_the_table() -> None:
    text = ADR.read_text(encoding="utf-8")
    assert f"```mermaid\n{DELIVERY_LIFECYCLE.mermaid()}\n```" in text
    assert all(f"`{state.value}`" in text for state in DeliveryState)


def event(state: DeliveryState = DeliveryState.PENDING) -> OutboxEvent:
    return OutboxEvent("E1", "InvoiceIssued", "Invoice", "INV-1", {}, "c", NOW, state)


def next_attempt(outbox_event: OutboxEvent) -> datetime | None:
    """Read through a call, so type narrowing does not outlive the methods that change it."""
    return outbox_event.next_attempt_at


def test_a_failure_schedules_the_next_attempt_and_the_fifth_is_dead() -> None:
    outbox_event = event()
    waits = []
    for attempt in range(1, len(RETRY_SCHEDULE) + 2):
        outbox_event.claimed("w1", NOW)
        assert next_attempt(outbox_event) is None
        outbox_event.delivery_failed(f"attempt {attempt}", NOW)
        scheduled = next_attempt(outbox_event)
        if scheduled is not None:
            waits.append(scheduled - NOW)
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
    ]
    assert (outbox_event.state, outbox_event.attempts, outbox_event.last_error) == (
        DeliveryState.DEAD,
        5,
        "attempt 5",
    )
    assert not outbox_event.due(NOW + timedelta(days=365))


def test_due_means_pending_or_failed_with_its_time_come() -> None:
    failed = event()
    failed.claimed("w1", NOW)
    failed.delivery_failed("HTTP 503", NOW)
    assert event().due(NOW)
    assert not failed.due(NOW + timedelta(seconds=59))
    assert failed.due(NOW + timedelta(minutes=1))
    for state in (DeliveryState.IN_FLIGHT, DeliveryState.DELIVERED, DeliveryState.DEAD):
        assert not event(state).due(NOW)


def test_only_a_delivered_event_stops_holding_back_its_aggregate() -> None:
    assert [s for s in DeliveryState if not event(s).undelivered] == [DeliveryState.DELIVERED]


def test_a_replay_starts_the_retry_schedule_again_and_keeps_the_last_error() -> None:
    dead = event(DeliveryState.DEAD)
    dead.attempts, dead.last_error = 5, "HTTP 500"
    dead.claimed_by, dead.claimed_at = "w1", NOW
    dead.replayed()
    replayed: tuple[object, ...] = (dead.state, dead.attempts, dead.claimed_by, dead.claimed_at)
    assert replayed == (DeliveryState.PENDING, 0, None, None)
    assert dead.last_error == "HTTP 500"
    with pytest.raises(IllegalTransitionError):
        event(DeliveryState.FAILED).replayed()
