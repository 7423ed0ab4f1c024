"""Records of the integration machinery: idempotency keys, outbox events, the typed
exception queue and the audit trail. They belong to the application, not the business model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

import attrs

from application.errors import ConflictError
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


class DeliveryTrigger(Enum):
    CLAIM = "claim"
    DELIVER = "deliver"
    FAIL = "fail"
    GIVE_UP = "give_up"
    REAP = "reap"
    REPLAY = "replay"


#: An outbox event's delivery lifecycle (ADR 0016). The SQL adapter moves whole batches with
#: one statement each; these rows are the transitions those statements are allowed to make.
DELIVERY_LIFECYCLE = LifecycleTable(
    "outbox event",
    DeliveryState,
    DeliveryTrigger,
    [
        (
            DeliveryTrigger.CLAIM,
            [DeliveryState.PENDING, DeliveryState.FAILED],
            DeliveryState.IN_FLIGHT,
        ),
        (DeliveryTrigger.DELIVER, DeliveryState.IN_FLIGHT, DeliveryState.DELIVERED),
        (DeliveryTrigger.FAIL, DeliveryState.IN_FLIGHT, DeliveryState.FAILED),
        (DeliveryTrigger.GIVE_UP, DeliveryState.IN_FLIGHT, DeliveryState.DEAD),
        (DeliveryTrigger.REAP, DeliveryState.IN_FLIGHT, DeliveryState.PENDING),
        (DeliveryTrigger.REPLAY, DeliveryState.DEAD, DeliveryState.PENDING),
    ],
)


class _Retried:
    """A record tried again on `RETRY_SCHEDULE` after each failure: an outbox event's delivery,
    an integration exception's retry. Each keeps its attempts, its last error and when it is
    tried next as fields of its own; the schedule and the check of its time are said here."""

    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None

    def _failed(self, error: str, now: datetime) -> datetime | None:
        """One more failed attempt: when the schedule tries again, None once it is spent."""
        self.attempts += 1
        self.last_error = error
        return next_attempt(self.attempts, now)

    def _retry_has_come(self, now: datetime) -> bool:
        return self.next_attempt_at is not None and self.next_attempt_at <= now


@attrs.define(slots=False, eq=False)
class OutboxEvent(_Retried):
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
    #: The W3C trace context of the request that wrote it (None when it was not traced).
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def undelivered(self) -> bool:
        """Still owed to someone: it holds back the later events of its aggregate."""
        return self.state is not DeliveryState.DELIVERED

    def due(self, now: datetime) -> bool:
        """A relay may claim it: never tried, or failed and its next attempt has come."""
        if self.state is DeliveryState.PENDING:
            return True
        return self.state is DeliveryState.FAILED and self._retry_has_come(now)

    def _fire(self, trigger: DeliveryTrigger) -> None:
        self.state = DELIVERY_LIFECYCLE.next_state(self.state, trigger)

    def claimed(self, worker: str, now: datetime) -> None:
        """A relay worker takes the event; a pending event never carries a next attempt."""
        self._fire(DeliveryTrigger.CLAIM)
        self.claimed_by, self.claimed_at, self.next_attempt_at = worker, now, None

    def delivered(self) -> None:
        self._fire(DeliveryTrigger.DELIVER)

    def delivery_failed(self, error: str, now: datetime) -> None:
        """Retry after 1 min, 5 min, 30 min and 2 h; the fifth failure makes it dead."""
        retry_at = self._failed(error, now)
        self._fire(DeliveryTrigger.FAIL if retry_at is not None else DeliveryTrigger.GIVE_UP)
        self.next_attempt_at = retry_at

    def reaped(self) -> None:
        """Its worker went silent: back to pending, for anyone to claim."""
        self._fire(DeliveryTrigger.REAP)
        self.claimed_by = self.claimed_at = self.next_attempt_at = None

    def replayed(self) -> None:
        """A person sends a dead event again: same id, pending, a fresh retry schedule."""
        self._fire(DeliveryTrigger.REPLAY)
        self.attempts = 0
        self.claimed_by = self.claimed_at = self.next_attempt_at = None


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


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When the retry schedule tries again after the `attempts`-th failure; None once it is
    spent (the outbox's deliveries and the exception queue's retries both follow it)."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    return now + RETRY_SCHEDULE[attempts - 1]


@attrs.define(slots=False, eq=False)
class IntegrationException(_Retried):
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
        retry_at = self._failed(error, now)
        if self.state is ExceptionState.DEAD:
            self._fire(ExceptionTrigger.REPLAY_FAILED)
        elif self.retryable:
            self._fire(
                ExceptionTrigger.SCHEDULE_RETRY
                if retry_at is not None
                else ExceptionTrigger.GIVE_UP
            )
            self.next_attempt_at = retry_at

    def resolved(self, by: str, now: datetime) -> None:
        self._fire(ExceptionTrigger.RESOLVE)
        self.resolved_by, self.resolved_at, self.next_attempt_at = by, now, None

    def due(self, now: datetime) -> bool:
        return self.state is ExceptionState.RETRY_SCHEDULED and self._retry_has_come(now)


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


class InboxState(Enum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


@attrs.define(slots=False, eq=False)
class InboxMessage:
    """An inbound webhook exactly as it arrived, stored before anything acts on it.

    Keyed by (source, message id): a second delivery of the same message finds it and changes
    nothing. `body` is the raw text as received, so a replay reprocesses what the sender
    signed, not a re-serialization of it. `steps_done` counts the commands of the message
    that have committed, so a replay resumes at the first one that did not.
    """

    source: str
    message_id: str
    event_type: str
    body: str
    received_at: datetime
    correlation_id: str
    state: InboxState = InboxState.RECEIVED
    attempts: int = 0
    processed_at: datetime | None = None
    last_error: str | None = None
    exception_id: str | None = None
    steps_done: int = 0

    @property
    def subject(self) -> str:
        """How the audit trail and the exception queue name this message."""
        return f"inbox:{self.source}:{self.message_id}"

    def step_done(self) -> None:
        """One more of the message's commands has committed."""
        self.steps_done += 1

    def processed(self, now: datetime) -> None:
        """Every command of the message has committed; a processed message never runs again."""
        if self.state is InboxState.PROCESSED:
            raise ConflictError(f"{self.subject} was processed meanwhile")
        self.state, self.processed_at, self.last_error = InboxState.PROCESSED, now, None
        self.attempts += 1

    def failed(self, error: str, exception_id: str) -> None:
        """Processing stopped at a problem now on the exception queue."""
        if self.state is InboxState.PROCESSED:
            raise ConflictError(f"{self.subject} was processed meanwhile")
        self.state, self.last_error, self.exception_id = InboxState.FAILED, error, exception_id
        self.attempts += 1


@attrs.frozen
class PostedEntry:
    """A journal entry as handed to the ERP (ADR 0034): mapped to its legal entity's accounts,
    with the ERP's document number once the ERP has answered."""

    entry_id: str
    legal_entity_id: str
    posted_on: date
    source_document: str
    #: The `journal_entry.posted` payload: accounts, roles, amounts and dimensions per line.
    payload: Mapping[str, Any]
    erp_document: str | None = None
    acknowledged_at: datetime | None = None
