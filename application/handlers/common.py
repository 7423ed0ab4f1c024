"""Small helpers handlers share: put a failure on the typed exception queue, resolve what
waits there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.audit_trail import state_text
from application.changes import RecordMoved
from application.context import RequestContext
from application.ports import Clock, IdGenerator
from application.records import ExceptionKind, IntegrationException
from application.unit_of_work import UnitOfWork


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
