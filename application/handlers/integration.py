"""The typed exception queue: retries on a schedule, a dead state, and an audited replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import commands as c
from application.audit_trail import state_text
from application.changes import RecordMoved
from application.context import RequestContext
from application.errors import ApplicationError
from application.messagebus import Dispatch, UnitOfWorkFactory
from application.ports import Clock
from application.records import ExceptionState, IntegrationException
from domain.errors import DomainError

#: Commands an exception may ask to replay, rebuilt from their stored name and arguments.
REPLAYABLE: dict[str, Callable[..., Any]] = {
    "SetUpEngagement": c.SetUpEngagement,
    "HandOverInvoice": c.HandOverInvoice,
    "ProcessInboxMessage": c.ProcessInboxMessage,
}


def _rebuild(item: IntegrationException) -> object:
    name = str(item.replay.get("command", ""))
    factory = REPLAYABLE.get(name)
    if factory is None:
        raise ApplicationError(f"exception {item.exception_id} has nothing replayable ({name!r})")
    return factory(**dict(item.replay.get("args", {})))


def replay_exception(
    cmd: c.ReplayException,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> bool:
    """Reprocess what the exception kept; audited whatever the outcome. True when it healed."""
    command = _start_replay(unit_of_work, ctx, cmd.exception_id)
    if command is None:
        return True
    try:
        healed, error = dispatch(command, ctx) is not False, ""
    except (DomainError, ApplicationError) as failure:
        healed, error = False, str(failure)
    _record_replay(unit_of_work, ctx, clock, cmd.exception_id, healed, error)
    return healed


def _start_replay(
    unit_of_work: UnitOfWorkFactory, ctx: RequestContext, exception_id: str
) -> object | None:
    """The command the exception kept, its replay audited; None when it is resolved."""
    with unit_of_work(ctx) as uow:
        item = uow.exceptions.get(exception_id)
        if item.state is ExceptionState.RESOLVED:
            return None
        command = _rebuild(item)
        reason = f"replay of {type(command).__name__}"
        subject = f"exception:{item.exception_id}"
        uow.record(RecordMoved(subject, "replay", state_text(item.state), None, reason))
        uow.commit()
    return command


def _record_replay(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    clock: Clock,
    exception_id: str,
    healed: bool,
    error: str,
) -> None:
    """The outcome: resolved when it healed, failed again (retried or dead) when not. A replay
    that failed without raising keeps the error its handler wrote on the item (what is missing
    now, which may no longer be what was missing at first)."""
    with unit_of_work(ctx) as uow:
        item = uow.exceptions.get(exception_id)
        before = state_text(item.state)
        if item.state is not ExceptionState.RESOLVED:
            if healed:
                item.resolved(ctx.actor, clock.now())
            else:
                error = error or item.last_error or "the replay hit the same problem"
                item.failed_again(error, clock.now())
        uow.exceptions.save(item)
        after = state_text(item.state)
        uow.record(RecordMoved(f"exception:{exception_id}", "replayed", before, after, error))
        uow.commit()


def retry_due_exceptions(
    cmd: c.RetryDueExceptions,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> list[str]:
    """Background job: replay every downstream failure whose next attempt is due."""
    now = clock.now()
    with unit_of_work(ctx, read_only=True) as uow:
        due = [item.exception_id for item in uow.exceptions.all() if item.due(now)]
    for exception_id in due:
        dispatch(c.ReplayException(exception_id), ctx)
    return due
