"""What every unit of work does the same way, whatever it stores in (ADR 0014).

A template method: `commit` collects the events of every aggregate the unit of work saw,
turns them into audit records (application/audit_trail.py, ADR 0044: the events first, then
the changes the application stated with `record`), lets the storage write its changes (the
audit records with them), turns the events into outbox rows (one way of naming the
aggregate, the request's correlation id and trace context, one time per commit), and only
then asks the storage to commit. The adapters fill in the storage hooks: open, flush, commit,
roll back, close, and the list of aggregates their repositories handed out.
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from application.audit import record_transition
from application.audit_trail import AuditEntry, Change, audit_entries, state_text
from application.context import RequestContext
from application.idempotency import Claim
from application.records import OutboxEvent
from application.reference_reads import ReferenceReads, RepositoryReferences
from application.unit_of_work import AuditLog, UnitOfWork
from domain.accounting_period import AccountingPeriod

#: The payload of one outbox event: (aggregate, event, the other aggregates seen) -> fields.
OutboxPayload = Callable[[object, object, Sequence[object]], Mapping[str, Any]]

#: The attribute naming an aggregate's id, tried in this order.
_ID_ATTRIBUTES = (
    "engagement_id", "invoice_id", "credit_memo_id", "milestone_id", "contract_id",
    "entry_id", "expense_id", "rate_card_id", "exception_id",
)  # fmt: skip


class ReadOnlyUnitOfWorkError(RuntimeError):
    """A read-only unit of work was asked to commit."""


def aggregate_identity(aggregate: object) -> tuple[str, str]:
    """An outbox event names its aggregate by type and id; a period's id is its key."""
    if isinstance(aggregate, AccountingPeriod):
        return type(aggregate).__name__, aggregate.period.key
    for attribute in _ID_ATTRIBUTES:
        if hasattr(aggregate, attribute):
            return type(aggregate).__name__, str(getattr(aggregate, attribute))
    return type(aggregate).__name__, ""


def drain_events(seen: Iterable[object]) -> list[tuple[object, object]]:
    """Each event recorded by an aggregate leaves it once, in the order the aggregates were
    seen and then the order they recorded them."""
    drained: list[tuple[object, object]] = []
    for aggregate in seen:
        events = getattr(aggregate, "events", None)
        if events:
            drained.extend((aggregate, event) for event in events)
            events.clear()
    return drained


class SeenAggregates(list[object]):
    """The aggregates a unit of work saw, in order, each with its state when first seen (the
    `before` of its first audit record)."""

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[int, object] = {}

    def append(self, item: object) -> None:
        self.states.setdefault(id(item), state_text(getattr(item, "state", None)))
        super().append(item)

    def extend(self, items: Iterable[object]) -> None:
        for item in items:
            self.append(item)


class AbstractUnitOfWork(UnitOfWork, abc.ABC):
    """The `UnitOfWork` port, storage aside: a subclass opens and closes its storage, hands
    out the repositories (the port's attributes), and flushes, commits and rolls back; this
    class does the rest."""

    def __init__(
        self,
        ctx: RequestContext,
        now: Callable[[], datetime],
        payload: OutboxPayload,
        *,
        read_only: bool = False,
    ) -> None:
        self._ctx, self._now, self._payload, self._read_only = ctx, now, payload, read_only
        self._committed_events: list[object] = []
        self._changes: list[Change] = []
        #: The commit waits for the request's answer (`Claim.hold`, ADR 0018).
        self._awaiting_answer = False

    def __enter__(self) -> Self:
        self._committed_events.clear()
        self._changes.clear()
        if (held := self._ctx.idempotency) is not None and held.held:
            # Work of this request waits for its answer: it commits first, so this unit of
            # work reads it and never waits for its lock.
            held.settle()
        self._begin()
        self._take_claim()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._awaiting_answer:
            return  # `finish` commits and ends it
        self._end()
        if (claim := self._claim()) is not None:
            claim.released(self)

    def commit(self) -> None:
        """Everything the unit of work changed, and the events it caused, or nothing."""
        if self._read_only:
            raise ReadOnlyUnitOfWorkError("a read-only unit of work cannot commit")
        drained = self._write_seen()
        self._committed_events.extend(event for _, event in drained)
        claim = self._claim()
        if claim is not None and claim.hold(self):
            self._awaiting_answer = True
            return
        self._commit()
        if claim is not None:
            claim.committed(self)

    def write_out(self) -> None:
        """Everything `commit` writes, written now into the open transaction and let go: the
        events of what was seen and the changes stated since the last write-out become audit
        records (the events' first, as a commit orders them) and are appended to the chain,
        the aggregates' rows and the outbox rows are written. Nothing of it is kept for the
        commit: the events are told by the outbox rows, not by `collect_events` (ADR 0060,
        amendment "memory held to the commit")."""
        if self._read_only:
            raise ReadOnlyUnitOfWorkError("a read-only unit of work cannot write")
        self._write_seen()
        self._append_audit()
        self._let_go()

    def _write_seen(self) -> list[tuple[object, object]]:
        """What `commit` and `write_out` both write: the events of what was seen and the
        stated changes as audit records (the events' first), the aggregates' rows, and the
        events' outbox rows; the events drained, in order."""
        seen = self._seen()
        drained = drain_events(seen)
        states = seen.states if isinstance(seen, SeenAggregates) else {}
        self._write_audit(audit_entries(drained, states, seen))
        self._flush()
        self.outbox.add(self._outbox_events(drained))
        return drained

    def finish(self, answer: tuple[int, str] | None) -> None:
        """The commit held for the request's answer: the answer, when there is one, stored
        with the claimed key in the same transaction, then the commit (ADR 0018)."""
        claim = self._claim()
        if not self._awaiting_answer or claim is None:
            raise RuntimeError("this unit of work holds no commit for an answer")
        try:
            if answer is not None:
                self.idempotency.complete(claim.principal, claim.key, *answer)
            self._commit()
            claim.committed(self)
        finally:
            self._awaiting_answer = False
            self._end()
            claim.released(self)

    def rollback(self) -> None:
        self._changes.clear()
        self._rollback()

    def record(self, change: Change) -> None:
        """A change no aggregate records as an event: audited at the commit (or the
        `write_out`) that comes next, after the events it drains."""
        self._changes.append(change)

    def _write_audit(self, entries: list[AuditEntry]) -> None:
        entries.extend(change.audit_entry() for change in self._changes)
        self._changes.clear()
        if not entries:
            return
        now, ctx, log = self._now(), self._ctx, self._audit_at_commit()
        for entry in entries:
            record_transition(
                log,
                at=now,
                actor=ctx.actor,
                correlation_id=ctx.correlation_id,
                subject=entry.subject,
                action=entry.action,
                before=entry.before,
                after=entry.after,
                reason=entry.reason,
            )

    def collect_events(self) -> list[object]:
        """Events recorded by the aggregates this unit of work saw, in order, once."""
        return list(self._committed_events)

    def _claim(self) -> Claim | None:
        return None if self._read_only else self._ctx.idempotency

    def _take_claim(self) -> None:
        """The request's Idempotency-Key is claimed in this transaction, before the command
        reads anything (ADR 0018); a stored answer or another request's claim ends the unit
        of work here."""
        claim = self._claim()
        if claim is None:
            return
        try:
            claim.take(self)
        except BaseException:
            self._end()
            raise

    def _outbox_events(self, drained: Sequence[tuple[object, object]]) -> list[OutboxEvent]:
        if not drained:
            return []
        now, ctx, seen = self._now(), self._ctx, self._seen()
        ids = self._event_ids(len(drained))
        events = []
        for event_id, (aggregate, event) in zip(ids, drained, strict=True):
            aggregate_type, aggregate_id = aggregate_identity(aggregate)
            events.append(
                OutboxEvent(
                    event_id,
                    type(event).__name__,
                    aggregate_type,
                    aggregate_id,
                    self._payload(aggregate, event, seen),
                    ctx.correlation_id,
                    now,
                    traceparent=ctx.traceparent,
                    tracestate=ctx.tracestate,
                )
            )
        return events

    @property
    def references(self) -> ReferenceReads:
        """Read anew through the repositories; a storage that can check kept copies against
        what it stores in this transaction hands those out instead (ADR 0070)."""
        return RepositoryReferences(self)

    # -- the storage hooks ------------------------------------------------------------------

    def _audit_at_commit(self) -> AuditLog:
        """The log the commit's audit records are chained onto; a storage that chains them
        again when it writes them (under its own lock) may hand out one that reads nothing."""
        return self.audit

    def _append_audit(self) -> None:
        """After `write_out`: the audit records chained so far go into the open transaction
        (appended to the chain there or staged for the commit's append), so the unit of work
        holds none of them; a storage whose log is its own copy has nothing to do."""

    def _event_ids(self, count: int) -> list[str]:
        """Ids for the next `count` outbox events; unique across every unit of work."""
        return [str(uuid.uuid4()) for _ in range(count)]

    def _let_go(self) -> None:
        """After `write_out`: forget the aggregates handed out so far (their rows are written);
        a storage whose aggregates live elsewhere anyway may keep them."""

    @abc.abstractmethod
    def _flush(self) -> None:
        """Write back what the aggregates changed in place, before the outbox rows."""

    @abc.abstractmethod
    def _begin(self) -> None:
        """Open the storage and set every repository and store."""

    @abc.abstractmethod
    def _seen(self) -> Sequence[object]:
        """The aggregates the repositories handed out or took in, in order, each once."""

    @abc.abstractmethod
    def _commit(self) -> None:
        """Make everything written durable, as one."""

    @abc.abstractmethod
    def _rollback(self) -> None:
        """Forget whatever was not committed."""

    @abc.abstractmethod
    def _end(self) -> None:
        """Leave the `with` block: forget what was not committed and release the storage."""
