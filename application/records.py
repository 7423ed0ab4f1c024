"""Records of the integration machinery: idempotency keys, outbox events, the typed
exception queue and the audit trail. They belong to the application, not the business model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import attrs

from domain.lifecycle import LifecycleTable


class IdempotencyStatus(Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@attrs.define(slots=False, eq=False)
class IdempotencyRecord:
    """One idempotency key of one principal: the request's fingerprint and, once done, its
    stored response (status and body)."""

    principal: str
    key: str
    fingerprint: str
    status: IdempotencyStatus
    created_at: datetime
    response_status: int | None = None
    response_body: str | None = None


class DeliveryState(Enum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


@attrs.define(slots=False, eq=False)
class OutboxEvent:
    """An event to tell other systems, written in the transaction of the change it reports."""

    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: Mapping[str, Any]
    correlation_id: str
    occurred_at: datetime
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None


class ExceptionKind(Enum):
    """The typed exception queue's kinds, each routed to the team that can fix it."""

    VALIDATION = "validation"
    MASTER_DATA = "master_data"
    DOWNSTREAM_UNAVAILABLE = "downstream_unavailable"
    CONFLICT = "conflict"


class ExceptionState(Enum):
    OPEN = "open"
    RETRY_SCHEDULED = "retry_scheduled"
    RESOLVED = "resolved"
    DEAD = "dead"


class ExceptionTrigger(Enum):
    SCHEDULE_RETRY = "schedule_retry"
    RESOLVE = "resolve"
    GIVE_UP = "give_up"
    REPLAY_FAILED = "replay_failed"


EXCEPTION_LIFECYCLE = LifecycleTable(
    "integration exception",
    ExceptionState,
    ExceptionTrigger,
    [
        (
            ExceptionTrigger.SCHEDULE_RETRY,
            [ExceptionState.OPEN, ExceptionState.RETRY_SCHEDULED],
            ExceptionState.RETRY_SCHEDULED,
        ),
        (
            ExceptionTrigger.RESOLVE,
            [ExceptionState.OPEN, ExceptionState.RETRY_SCHEDULED, ExceptionState.DEAD],
            ExceptionState.RESOLVED,
        ),
        (
            ExceptionTrigger.GIVE_UP,
            [ExceptionState.OPEN, ExceptionState.RETRY_SCHEDULED],
            ExceptionState.DEAD,
        ),
        (ExceptionTrigger.REPLAY_FAILED, ExceptionState.DEAD, ExceptionState.DEAD),
    ],
)

#: Automatic retries of a downstream failure: after 1 min, 5 min, 30 min, 2 h, then dead.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)


@attrs.define(slots=False, eq=False)
class IntegrationException:
    """A failure a person or a retry must deal with; it keeps what is needed to replay."""

    exception_id: str
    kind: ExceptionKind
    workflow: str
    subject: str
    reason_code: str
    detail: str
    replay: Mapping[str, Any]
    correlation_id: str
    created_at: datetime
    state: ExceptionState = ExceptionState.OPEN
    attempts: int = 0
    next_attempt_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    last_error: str | None = None

    @property
    def retryable(self) -> bool:
        """Only a downstream outage heals by itself; the other kinds need someone to fix data."""
        return self.kind is ExceptionKind.DOWNSTREAM_UNAVAILABLE

    def _fire(self, trigger: ExceptionTrigger) -> None:
        self.state = EXCEPTION_LIFECYCLE.next_state(self.state, trigger)

    def failed_again(self, error: str, now: datetime) -> None:
        """A retry or replay failed: schedule the next retry, or give up when none is left."""
        self.attempts += 1
        self.last_error = error
        if self.state is ExceptionState.DEAD:
            self._fire(ExceptionTrigger.REPLAY_FAILED)
        elif self.retryable and self.attempts <= len(RETRY_SCHEDULE):
            self._fire(ExceptionTrigger.SCHEDULE_RETRY)
            self.next_attempt_at = now + RETRY_SCHEDULE[self.attempts - 1]
        elif self.retryable:
            self._fire(ExceptionTrigger.GIVE_UP)
            self.next_attempt_at = None

    def resolved(self, by: str, now: datetime) -> None:
        self._fire(ExceptionTrigger.RESOLVE)
        self.resolved_by, self.resolved_at, self.next_attempt_at = by, now, None

    def due(self, now: datetime) -> bool:
        return (
            self.state is ExceptionState.RETRY_SCHEDULED
            and self.next_attempt_at is not None
            and self.next_attempt_at <= now
        )


@attrs.frozen
class AuditRecord:
    """One state transition: who, when, under which correlation id, before, after, why.

    Records are append-only and hash-chained: each hash covers the record and the previous
    hash, so a verifier names the first row that was changed or removed.
    """

    sequence: int
    at: datetime
    actor: str
    correlation_id: str
    subject: str
    action: str
    before: str | None
    after: str | None
    reason: str
    previous_hash: str
    hash: str
