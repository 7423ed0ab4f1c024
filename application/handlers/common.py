"""Small helpers handlers share: put a failure on the typed exception queue, resolve what
waits there. `audit` stays for the handlers that still write their records by hand (delivery
and billing, until they move to the audit table of ADR 0044)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.audit import record_transition
from application.audit_trail import state_text
from application.changes import RecordMoved
from application.context import RequestContext
from application.messagebus import Dependencies
from application.ports import Clock, IdGenerator
from application.records import ExceptionKind, IntegrationException
from application.unit_of_work import UnitOfWork


def audit(
    uow: UnitOfWork,
    ctx: RequestContext,
    deps: Dependencies,
    subject: str,
    action: str,
    before: object,
    after: object,
    reason: str = "",
) -> None:
    """One audit record for one state transition (states given as enums, strings or None)."""
    audit_at(uow, ctx, deps.clock, subject, action, before, after, reason)


def audit_at(
    uow: UnitOfWork,
    ctx: RequestContext,
    clock: Clock,
    subject: str,
    action: str,
    before: object,
    after: object,
    reason: str = "",
) -> None:
    """`audit` for a handler that names the clock instead of taking every dependency."""
    record_transition(
        uow.audit,
        at=clock.now(),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
        subject=subject,
        action=action,
        before=_state(before),
        after=_state(after),
        reason=reason,
    )


def _state(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def raise_exception(
    uow: UnitOfWork,
    ctx: RequestContext,
    deps: Dependencies,
    *,
    kind: ExceptionKind,
    workflow: str,
    subject: str,
    reason_code: str,
    detail: str,
    replay: Mapping[str, Any],
) -> IntegrationException:
    """`queue_exception` for handlers that still take the whole `Dependencies`."""
    return queue_exception(
        uow,
        ctx,
        deps.clock,
        deps.ids,
        kind=kind,
        workflow=workflow,
        subject=subject,
        reason_code=reason_code,
        detail=detail,
        replay=replay,
    )


def queue_exception(
    uow: UnitOfWork,
    ctx: RequestContext,
    clock: Clock,
    ids: IdGenerator,
    *,
    kind: ExceptionKind,
    workflow: str,
    subject: str,
    reason_code: str,
    detail: str,
    replay: Mapping[str, Any],
) -> IntegrationException:
    """Put a failure on the typed exception queue, unless the same one is already open."""
    for existing in uow.exceptions.open_for(subject):
        if existing.workflow == workflow and existing.reason_code == reason_code:
            existing.last_error = detail
            uow.exceptions.save(existing)
            return existing
    now = clock.now()
    item = IntegrationException(
        ids.next_id("EXC"),
        kind,
        workflow,
        subject,
        reason_code,
        detail,
        dict(replay),
        ctx.correlation_id,
        now,
    )
    if item.retryable:
        item.failed_again(detail, now)
    uow.exceptions.add(item)
    state = state_text(item.state)
    uow.record(RecordMoved(f"exception:{item.exception_id}", "raised", None, state, detail))
    return item


def resolve_open_exceptions(uow: UnitOfWork, subject: str, by: str, clock: Clock) -> None:
    """What was waiting on the exception queue for the subject is resolved once it is done."""
    for item in uow.exceptions.open_for(subject):
        item.resolved(by, clock.now())
        uow.exceptions.save(item)
