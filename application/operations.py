"""What the people on call watch, read at scrape time from the database, so every server
process answers the same: the outbox by event type and delivery state, how long the oldest
event has been waiting, the open exception queue by kind, idempotency claims still in
progress, and the last committed billing run (ADR 0022).

A committed billing run leaves a `BillingRunRecord`, written in the transaction that stores
its drafts: the last run is known whichever process ran it (an API worker or `throughline
bill`), and a run that rolled back leaves none. The questions are one query port answered with
set-based reads (GROUP BY, MIN, COUNT), never a row per event, so a scrape stays cheap on a
large outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

import attrs

from application.records import DeliveryState, ExceptionKind, ExceptionState

#: Events still owed to someone; delivered ones are history and are not counted.
UNDELIVERED_STATES = (
    DeliveryState.PENDING,
    DeliveryState.FAILED,
    DeliveryState.IN_FLIGHT,
    DeliveryState.DEAD,
)
#: Events a relay will still try: undelivered and not given up (dead).
WAITING_STATES = (DeliveryState.PENDING, DeliveryState.FAILED, DeliveryState.IN_FLIGHT)
#: Exceptions someone or a retry still has to deal with: every state but resolved.
OPEN_EXCEPTION_STATES = (
    ExceptionState.OPEN,
    ExceptionState.RETRY_SCHEDULED,
    ExceptionState.DEAD,
)


@attrs.frozen
class BillingRunRecord:
    """A committed (not dry) billing run: what it drafted, how long it took, who ran it."""

    period: str  # YYYY-MM
    invoices: int
    adjustments: int  # debit and credit adjustment memos drafted by re-rating
    duration: timedelta
    finished_at: datetime
    actor: str
    correlation_id: str


class BillingRunLog(Protocol):
    """Where committed billing runs are recorded (the write side)."""

    def add(self, record: BillingRunRecord) -> None: ...


@attrs.frozen
class OutboxCount:
    """How many events of one type are in one delivery state."""

    aggregate_type: str
    event_type: str
    state: DeliveryState
    events: int


class OperationsQueries(Protocol):
    """The read side of operations: a handful of aggregate reads."""

    def outbox_counts(self) -> list[OutboxCount]:
        """Undelivered events grouped by aggregate type, event type and delivery state."""

    def oldest_waiting_event_at(self) -> datetime | None:
        """When the oldest event neither delivered nor dead occurred; None when none waits."""

    def open_exceptions(self) -> dict[ExceptionKind, int]:
        """Exceptions not resolved, by kind (kinds without any may be left out)."""

    def idempotency_keys_in_progress(self) -> int:
        """Idempotency keys claimed by a request that has not finished (or crashed)."""

    def last_billing_run(self) -> BillingRunRecord | None:
        """The billing run committed last; None before the first."""


@attrs.frozen
class OperationsSnapshot:
    """The answers of one read, for one scrape."""

    outbox: tuple[OutboxCount, ...]
    oldest_waiting_event_at: datetime | None
    open_exceptions: Mapping[ExceptionKind, int]  # every kind, zero included
    idempotency_keys_in_progress: int
    last_billing_run: BillingRunRecord | None

    def oldest_waiting_age(self, now: datetime) -> timedelta:
        """How long the oldest waiting event has waited; zero when none waits (or the clocks
        of two machines disagree)."""
        if self.oldest_waiting_event_at is None:
            return timedelta(0)
        return max(timedelta(0), now - self.oldest_waiting_event_at)


def read_operations(queries: OperationsQueries) -> OperationsSnapshot:
    """Every answer, from the queries of one (read-only) unit of work."""
    found = queries.open_exceptions()
    return OperationsSnapshot(
        outbox=tuple(queries.outbox_counts()),
        oldest_waiting_event_at=queries.oldest_waiting_event_at(),
        open_exceptions={kind: found.get(kind, 0) for kind in ExceptionKind},
        idempotency_keys_in_progress=queries.idempotency_keys_in_progress(),
        last_billing_run=queries.last_billing_run(),
    )
