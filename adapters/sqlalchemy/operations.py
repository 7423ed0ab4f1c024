"""The operations queries (ADR 0022) in SQL, and the record of committed billing runs.

Each question is one aggregate statement the database answers from its indexes: the outbox's
undelivered rows grouped by type and state (the `(state, next_attempt_at)` index finds them
without touching the delivered history), the oldest waiting event, the open exceptions by the
kind kept in their JSON snapshot, the idempotency claims in progress (a partial index), and
the billing run with the highest sequence.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repositories import Session
from application.operations import (
    OPEN_EXCEPTION_STATES,
    UNDELIVERED_STATES,
    WAITING_STATES,
    BillingRunRecord,
    OutboxCount,
)
from application.records import DeliveryState, ExceptionKind, IdempotencyStatus

_MICROSECOND = timedelta(microseconds=1)


class SqlAlchemyBillingRuns:
    """Committed billing runs, one row each, written into the run's own transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: BillingRunRecord) -> None:
        self._session.connection.execute(t.billing_runs.insert(), [_billing_run_row(record)])


class SqlAlchemyOperations:
    """The aggregate reads behind the operations gauges."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def outbox_counts(self) -> list[OutboxCount]:
        rows = self._session.connection.execute(_outbox_counts())
        return [OutboxCount(a, e, DeliveryState(state), n) for a, e, state, n in rows]

    def oldest_waiting_event_at(self) -> datetime | None:
        found: datetime | None = self._session.connection.execute(_oldest_waiting()).scalar()
        return found

    def open_exceptions(self) -> dict[ExceptionKind, int]:
        rows = self._session.connection.execute(_open_exceptions())
        return {ExceptionKind(kind): n for kind, n in rows}

    def idempotency_keys_in_progress(self) -> int:
        return int(self._session.connection.execute(_in_progress()).scalar_one())

    def last_billing_run(self) -> BillingRunRecord | None:
        row = self._session.connection.execute(_last_billing_run()).mappings().first()
        return None if row is None else _billing_run(row)


# The statements, built once.


@functools.cache
def _outbox_counts() -> sa.Select[Any]:
    o = t.outbox.c
    return (
        sa.select(o.aggregate_type, o.event_type, o.state, sa.func.count())
        .where(o.state.in_([s.value for s in UNDELIVERED_STATES]))
        .group_by(o.aggregate_type, o.event_type, o.state)
        .order_by(o.aggregate_type, o.event_type, o.state)
    )


@functools.cache
def _oldest_waiting() -> sa.Select[Any]:
    # MIN over a UtcDateTime column keeps its type, so the answer comes back timezone-aware.
    o = t.outbox.c
    return sa.select(sa.func.min(o.occurred_at).label("oldest")).where(
        o.state.in_([s.value for s in WAITING_STATES])
    )


@functools.cache
def _open_exceptions() -> sa.Select[Any]:
    x = t.integration_exceptions.c
    kind = x.body["kind"].as_string()
    return (
        sa.select(kind, sa.func.count())
        .where(x.state.in_([s.value for s in OPEN_EXCEPTION_STATES]))
        .group_by(kind)
    )


@functools.cache
def _in_progress() -> sa.Select[Any]:
    i = t.idempotency_keys.c
    return (
        sa.select(sa.func.count())
        .select_from(t.idempotency_keys)
        .where(i.status == IdempotencyStatus.IN_PROGRESS.value)
    )


@functools.cache
def _last_billing_run() -> sa.Select[Any]:
    b = t.billing_runs.c
    return sa.select(t.billing_runs).order_by(b.sequence.desc()).limit(1)


def _billing_run_row(record: BillingRunRecord) -> dict[str, Any]:
    return {
        "period": record.period,
        "invoices": record.invoices,
        "adjustments": record.adjustments,
        "duration_microseconds": record.duration // _MICROSECOND,
        "finished_at": record.finished_at,
        "actor": record.actor,
        "correlation_id": record.correlation_id,
    }


def _billing_run(row: Any) -> BillingRunRecord:
    return BillingRunRecord(
        period=row["period"],
        invoices=row["invoices"],
        adjustments=row["adjustments"],
        duration=timedelta(microseconds=row["duration_microseconds"]),
        finished_at=row["finished_at"],
        actor=row["actor"],
        correlation_id=row["correlation_id"],
    )
