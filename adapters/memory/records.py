"""The in-memory repositories of the bookkeeping around the aggregates: periods, idempotency,
outbox, exceptions, audit, inbox, sequences, billing runs, natural keys and operations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

import attrs

from adapters.memory.store import _Data, _OverData
from application.errors import (
    ConflictError,
    NotFoundError,
    RequestInProgressError,
)
from application.natural_keys import RecordedFact
from application.operations import (
    OPEN_EXCEPTION_STATES,
    UNDELIVERED_STATES,
    WAITING_STATES,
    BillingRunRecord,
    OutboxCount,
)
from application.records import (
    AuditRecord,
    DeliveryState,
    ExceptionKind,
    ExceptionState,
    IdempotencyRecord,
    IdempotencyStatus,
    InboxMessage,
    InboxState,
    IntegrationException,
    OutboxEvent,
)
from domain.accounting_period import AccountingPeriod
from domain.period import Period


class _Periods:
    """Accounting periods; those handed out are seen, so their events reach the outbox."""

    def __init__(self, data: _Data, seen: list[object]) -> None:
        self._data, self._seen = data, seen

    def get(self, period: Period) -> AccountingPeriod | None:
        return self._saw(self._data.periods.get(period))

    def add(self, period: AccountingPeriod) -> None:
        self._data.periods[period.period] = period
        self._saw(period)

    def all(self) -> list[AccountingPeriod]:
        periods = list(self._data.periods.values())
        self._seen.extend(p for p in periods if p not in self._seen)
        return periods

    def overlapping(self, first: date, last: date) -> list[AccountingPeriod]:
        return [p for p in self.all() if p.period.start <= last and p.period.end >= first]

    def hold_for_posting(self) -> None:
        """One unit of work at a time on the memory store: nothing to hold."""

    def hold_for_closing(self) -> None:
        """One unit of work at a time on the memory store: nothing to hold."""

    def _saw(self, period: AccountingPeriod | None) -> AccountingPeriod | None:
        if period is not None and period not in self._seen:
            self._seen.append(period)
        return period


class _Idempotency(_OverData):
    def find(self, principal: str, key: str) -> IdempotencyRecord | None:
        return self._data.idempotency.get((principal, key))

    def save(self, record: IdempotencyRecord) -> None:
        self._data.idempotency[(record.principal, record.key)] = record

    def add_new(self, record: IdempotencyRecord) -> bool:
        return self._data.idempotency.setdefault((record.principal, record.key), record) is record

    def complete(self, principal: str, key: str, status: int, body: str) -> None:
        record = self._data.idempotency.get((principal, key))
        if record is None:
            raise RequestInProgressError(f"idempotency key {key!r} was never claimed")
        record.status = IdempotencyStatus.COMPLETED
        record.response_status, record.response_body = status, body

    def delete(self, principal: str, key: str) -> None:
        self._data.idempotency.pop((principal, key), None)

    def purge_before(self, cutoff: datetime) -> int:
        old = [k for k, r in self._data.idempotency.items() if r.created_at < cutoff]
        for k in old:
            del self._data.idempotency[k]
        return len(old)


class _Outbox(_OverData):
    def add(self, events: Sequence[OutboxEvent]) -> None:
        self._data.outbox.extend(events)

    def pending(self, limit: int) -> list[OutboxEvent]:
        return [e for e in self._data.outbox if e.state is DeliveryState.PENDING][:limit]

    def claim(
        self, worker: str, now: datetime, limit: int, aggregate_type: str | None = None
    ) -> list[OutboxEvent]:
        held_back: set[tuple[str, str]] = set()
        claimed: list[OutboxEvent] = []
        for event in self._data.outbox:  # commit order
            if len(claimed) >= limit:
                break
            if not event.undelivered:
                continue
            if aggregate_type is not None and event.aggregate_type != aggregate_type:
                continue
            aggregate = (event.aggregate_type, event.aggregate_id)
            if aggregate in held_back:
                continue
            held_back.add(aggregate)  # whatever its state, it holds back the later ones
            if event.due(now):
                event.claimed(worker, now)
                claimed.append(attrs.evolve(event))
        return claimed

    def _held_by(self, worker: str, event_id: str) -> OutboxEvent | None:
        event = self._by_id().get(event_id)
        if event is None or event.state is not DeliveryState.IN_FLIGHT:
            return None
        return event if event.claimed_by == worker else None

    def mark_delivered(self, worker: str, event_ids: Sequence[str]) -> int:
        held = [e for i in event_ids if (e := self._held_by(worker, i)) is not None]
        for event in held:
            event.delivered()
        return len(held)

    def mark_failed(
        self, worker: str, event_id: str, error: str, now: datetime
    ) -> OutboxEvent | None:
        event = self._held_by(worker, event_id)
        if event is None:
            return None
        event.delivery_failed(error, now)
        return attrs.evolve(event)

    def reap(self, stale_before: datetime) -> int:
        stale = [
            e
            for e in self._data.outbox
            if e.state is DeliveryState.IN_FLIGHT
            and e.claimed_at is not None
            and e.claimed_at < stale_before
        ]
        for event in stale:
            event.reaped()
        return len(stale)

    def release(self, worker: str, event_ids: Sequence[str]) -> int:
        held = [e for i in event_ids if (e := self._held_by(worker, i)) is not None]
        for event in held:
            event.reaped()
        return len(held)

    def get(self, event_id: str) -> OutboxEvent:
        event = self._by_id().get(event_id)
        if event is None:
            raise NotFoundError(f"no outbox event {event_id}")
        return attrs.evolve(event)

    def in_state(self, state: DeliveryState, limit: int) -> list[OutboxEvent]:
        return [attrs.evolve(e) for e in self._data.outbox if e.state is state][:limit]

    def save(self, event: OutboxEvent) -> None:
        for index, stored in enumerate(self._data.outbox):
            if stored.event_id == event.event_id:
                self._data.outbox[index] = attrs.evolve(event)
                return
        raise NotFoundError(f"no outbox event {event.event_id}")

    def _by_id(self) -> dict[str, OutboxEvent]:
        return {e.event_id: e for e in self._data.outbox}


class _Exceptions(_OverData):
    def add(self, item: IntegrationException) -> None:
        self._data.exceptions[item.exception_id] = item

    def get(self, exception_id: str) -> IntegrationException:
        try:
            return self._data.exceptions[exception_id]
        except KeyError:
            raise NotFoundError(f"no integration exception {exception_id}") from None

    def open_for(self, subject: str) -> list[IntegrationException]:
        return [
            x
            for x in self._data.exceptions.values()
            if x.subject == subject and x.state is not ExceptionState.RESOLVED
        ]

    def all(self) -> list[IntegrationException]:
        return list(self._data.exceptions.values())

    def save(self, item: IntegrationException) -> None:
        self._data.exceptions[item.exception_id] = item


class _Audit(_OverData):
    def append(self, record: AuditRecord) -> None:
        self._data.audit.append(record)

    def last(self) -> AuditRecord | None:
        return self._data.audit[-1] if self._data.audit else None

    def all(self) -> list[AuditRecord]:
        return list(self._data.audit)

    def for_subject(self, subject: str) -> list[AuditRecord]:
        return [record for record in self._data.audit if record.subject == subject]


class _Inbox(_OverData):
    def find(self, source: str, message_id: str) -> InboxMessage | None:
        return self._data.inbox.get((source, message_id))

    def add(self, message: InboxMessage) -> None:
        key = (message.source, message.message_id)
        if key in self._data.inbox:
            raise ConflictError(f"{message.subject} is already stored")
        self._data.inbox[key] = message

    def save(self, message: InboxMessage) -> None:
        self._data.inbox[(message.source, message.message_id)] = message

    def received_before(self, cutoff: datetime, limit: int) -> list[InboxMessage]:
        waiting = [
            m
            for m in self._data.inbox.values()
            if m.state is InboxState.RECEIVED and m.received_at < cutoff
        ]
        return sorted(waiting, key=lambda m: (m.received_at, m.source, m.message_id))[:limit]


class _Sequences(_OverData):
    def next_number(self, series: str, on: date) -> str:
        key = f"{series}:{on.year}"
        self._data.sequences[key] += 1
        prefix = {"invoice": "INV", "credit_memo": "CN"}.get(series, series.upper())
        return f"{prefix}-{on.year}-{self._data.sequences[key]:06d}"


class _BillingRuns(_OverData):
    def add(self, record: BillingRunRecord) -> None:
        self._data.billing_runs.append(record)


class _NaturalKeys(_OverData):
    """Facts by (kind, source, key): the dictionary key is the uniqueness constraint."""

    def record(self, recorded: RecordedFact) -> RecordedFact | None:
        first = self._data.natural_keys.get(recorded.fact.identity)
        if first is None:
            self._data.natural_keys[recorded.fact.identity] = recorded
        return first

    def find(self, kind: str, source: str, key: str) -> RecordedFact | None:
        return self._data.natural_keys.get((kind, source, key))


class _Operations(_OverData):
    """The operations queries over the store (what the SQL adapter answers with GROUP BY)."""

    def outbox_counts(self) -> list[OutboxCount]:
        counts = Counter(
            (e.aggregate_type, e.event_type, e.state)
            for e in self._data.outbox
            if e.state in UNDELIVERED_STATES
        )
        ordered = sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1], item[0][2].value)
        )
        return [OutboxCount(a, t, state, n) for (a, t, state), n in ordered]

    def oldest_waiting_event_at(self) -> datetime | None:
        waiting = [e.occurred_at for e in self._data.outbox if e.state in WAITING_STATES]
        return min(waiting, default=None)

    def open_exceptions(self) -> dict[ExceptionKind, int]:
        items = self._data.exceptions.values()
        return dict(Counter(x.kind for x in items if x.state in OPEN_EXCEPTION_STATES))

    def idempotency_keys_in_progress(self) -> int:
        records = self._data.idempotency.values()
        return sum(1 for r in records if r.status is IdempotencyStatus.IN_PROGRESS)

    def last_billing_run(self) -> BillingRunRecord | None:
        return self._data.billing_runs[-1] if self._data.billing_runs else None
