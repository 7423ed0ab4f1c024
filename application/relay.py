"""The outbox relay: claim a batch, publish it outside any transaction, record the outcome.

Each step is its own short unit of work (ADR 0016):

1. claim: due events that head their aggregate move to in flight for this worker; commit;
2. publish each claimed event through the `EventPublisher` port, holding no transaction;
3. record: the delivered ones in one statement, each failure on the retry schedule; commit.

A crash between 2 and 3 leaves the events in flight; the reaper returns them to pending once
their claim is stale and they are published again with the same event id. Delivery is
therefore at least once, and receivers deduplicate by event id.

A relay asked to stop (`should_stop`) publishes no further event of its batch: it records
what it published and hands the rest back to pending in the same unit of work, so a shutdown
leaves no claim for the reaper to rescue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs

from application.changes import RecordMoved
from application.context import RequestContext
from application.errors import ApplicationError, ConflictError
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock, EventPublisher
from application.records import DeliveryState, OutboxEvent
from application.unit_of_work import UnitOfWork

#: Events claimed per batch: one claim and one mark statement each (ADR 0016).
DEFAULT_BATCH = 100

#: A claim older than this belongs to a worker that died: the reaper hands it back.
DEFAULT_STALE_AFTER = timedelta(seconds=60)


class EventNotDeadError(ConflictError):
    """Only a dead outbox event can be replayed; the others are still being delivered."""

    code = "outbox_event_not_dead"


class ReasonRequiredError(ApplicationError):
    """Sending a dead event again is audited with why."""

    code = "reason_required"


@attrs.frozen
class RelayReport:
    """What one pass of the relay did. `lost` counts outcomes dropped because the claim
    was reaped meanwhile (those events will be delivered again); `released`, events handed
    back unpublished because the relay was stopping."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    lost: int = 0
    released: int = 0

    def __add__(self, other: RelayReport) -> RelayReport:
        return RelayReport(
            self.claimed + other.claimed,
            self.delivered + other.delivered,
            self.failed + other.failed,
            self.dead + other.dead,
            self.lost + other.lost,
            self.released + other.released,
        )


@attrs.frozen
class ReplayOutboxEvent:
    """Send a dead outbox event again, under the same event id, saying why."""

    event_id: str
    reason: str


def relay_context(worker: str) -> RequestContext:
    """The relay acts as itself: its units of work write no events and no audit records."""
    return RequestContext(f"relay:{worker}", f"relay:{worker}", frozenset({"system"}))


def relay_once(
    uow: UnitOfWorkFactory,
    clock: Clock,
    publisher: EventPublisher,
    *,
    worker: str,
    limit: int = DEFAULT_BATCH,
    should_stop: Callable[[], bool] = lambda: False,
    aggregate_type: str | None = None,
) -> RelayReport:
    """Claim up to `limit` due events (only `aggregate_type`'s when named), publish them,
    record what happened; when `should_stop()` turns true, publish no more and hand the rest
    back."""
    ctx = relay_context(worker)
    with uow(ctx) as claiming:
        batch = claiming.outbox.claim(worker, clock.now(), limit, aggregate_type)
        claiming.commit()
    if not batch:
        return RelayReport()
    delivered: list[str] = []
    failures: list[tuple[str, str]] = []
    unpublished: list[str] = []
    for event in batch:
        if unpublished or should_stop():
            unpublished.append(event.event_id)
            continue
        try:
            publisher.publish(event)
        except Exception as error:  # any failure counts against this event, not the batch
            failures.append((event.event_id, _describe(error)))
        else:
            delivered.append(event.event_id)
    with uow(ctx) as recording:
        marked = recording.outbox.mark_delivered(worker, delivered) if delivered else 0
        outcomes = [
            recording.outbox.mark_failed(worker, event_id, error, clock.now())
            for event_id, error in failures
        ]
        released = recording.outbox.release(worker, unpublished) if unpublished else 0
        recording.commit()
    failed = sum(1 for o in outcomes if o is not None and o.state is DeliveryState.FAILED)
    dead = sum(1 for o in outcomes if o is not None and o.state is DeliveryState.DEAD)
    lost = len(delivered) - marked + sum(1 for o in outcomes if o is None)
    return RelayReport(len(batch), marked, failed, dead, lost, released)


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, ApplicationError) else f"{type(error).__name__}: {text}"


def reap_stale(
    uow: UnitOfWorkFactory,
    clock: Clock,
    *,
    worker: str,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> int:
    """Hand claims older than `stale_after` back to pending; how many there were."""
    with uow(relay_context(worker)) as reaping:
        reaped = reaping.outbox.reap(clock.now() - stale_after)
        reaping.commit()
    return reaped


def replay_dead_event(
    cmd: ReplayOutboxEvent, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> OutboxEvent:
    """A dead event goes back to pending with its own id and a fresh retry schedule (its
    attempts start again at 0); the replay is audited with the actor, the correlation id
    and the reason. Its aggregate's later events follow it once it is delivered."""
    reason = cmd.reason.strip()
    if not reason:
        raise ReasonRequiredError("a replay needs a reason: it goes into the audit trail")
    with unit_of_work(ctx) as uow:
        event = _dead(uow, cmd.event_id)
        event.replayed()
        uow.outbox.save(event)
        subject, after = f"outbox:{event.event_id}", event.state.value
        uow.record(RecordMoved(subject, "replay", DeliveryState.DEAD.value, after, reason))
        uow.commit()
    return event


def _dead(uow: UnitOfWork, event_id: str) -> OutboxEvent:
    """The outbox event, refused unless it is dead."""
    event = uow.outbox.get(event_id)
    if event.state is not DeliveryState.DEAD:
        raise EventNotDeadError(
            f"outbox event {event.event_id} is {event.state.value}: "
            "only a dead event can be replayed"
        )
    return event
