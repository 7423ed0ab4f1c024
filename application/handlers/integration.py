"""The typed exception queue: retries on a schedule, a dead state, and an audited replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import commands as c
from application.context import RequestContext
from application.errors import ApplicationError
from application.handlers.common import audit
from application.messagebus import Dependencies
from application.records import ExceptionState, IntegrationException
from domain.errors import DomainError

#: Commands an exception may ask to replay, rebuilt from their stored name and arguments.
REPLAYABLE: dict[str, Callable[..., Any]] = {
    "SetUpEngagement": c.SetUpEngagement,
    "HandOverInvoice": c.HandOverInvoice,
    "ProcessInboxMessage": c.ProcessInboxMessage,
}

Dispatch = Callable[[object, RequestContext], Any]


def _rebuild(item: IntegrationException) -> object:
    name = str(item.replay.get("command", ""))
    factory = REPLAYABLE.get(name)
    if factory is None:
        raise ApplicationError(f"exception {item.exception_id} has nothing replayable ({name!r})")
    return factory(**dict(item.replay.get("args", {})))


def replay_exception(
    cmd: c.ReplayException, ctx: RequestContext, deps: Dependencies, dispatch: Dispatch
) -> bool:
    """Reprocess what the exception kept; audited whatever the outcome. True when it healed."""
    with deps.uow(ctx) as uow:
        item = uow.exceptions.get(cmd.exception_id)
        if item.state is ExceptionState.RESOLVED:
            return True
        command = _rebuild(item)
        audit(
            uow,
            ctx,
            deps,
            f"exception:{item.exception_id}",
            "replay",
            item.state,
            None,
            f"replay of {type(command).__name__}",
        )
        uow.commit()
    try:
        healed = dispatch(command, ctx)
        error = "" if healed is not False else "the replay hit the same problem"
    except (DomainError, ApplicationError) as failure:
        healed, error = False, str(failure)
    with deps.uow(ctx) as uow:
        item = uow.exceptions.get(cmd.exception_id)
        before = item.state
        if healed is not False and item.state is not ExceptionState.RESOLVED:
            item.resolved(ctx.actor, deps.clock.now())
        elif healed is False and item.state is not ExceptionState.RESOLVED:
            item.failed_again(error, deps.clock.now())
        uow.exceptions.save(item)
        audit(
            uow, ctx, deps, f"exception:{item.exception_id}", "replayed", before, item.state, error
        )
        uow.commit()
    return healed is not False


def retry_due_exceptions(
    cmd: c.RetryDueExceptions, ctx: RequestContext, deps: Dependencies, dispatch: Dispatch
) -> list[str]:
    """Background job: replay every downstream failure whose next attempt is due."""
    now = deps.clock.now()
    with deps.uow(ctx, read_only=True) as uow:
        due = [item.exception_id for item in uow.exceptions.all() if item.due(now)]
    for exception_id in due:
        replay_exception(c.ReplayException(exception_id), ctx, deps, dispatch)
    return due
