"""Processing stored inbound messages: translate, run the commands, record the outcome.

A message's commands run in order, each in its own unit of work as if a person had sent it
(the actor is the source system, the correlation id the delivery's). After each one commits
the message counts it (`steps_done`), so a replay resumes at the first command that did not
commit and never runs one twice. A problem (a payload that does not map, missing master data,
a business rule, refused time entries) marks the message failed and puts it on the typed
exception queue with `ProcessInboxMessage` as its replay; the replay reads the stored raw body
again (signatures and the time window were checked once, on arrival).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import commands as c
from application.context import RequestContext
from application.errors import (
    ApplicationError,
    ConflictError,
    DownstreamUnavailableError,
    ItemsRejectedError,
    MasterDataError,
    NotFoundError,
    PayloadError,
)
from application.handlers.common import audit, raise_exception
from application.handlers.delivery import IngestionReport
from application.inbox import InboxMessageFailedError, parse_envelope, stored
from application.messagebus import Dependencies
from application.records import ExceptionKind, InboxState
from domain.errors import DomainError, IllegalTransitionError, ImmutableVersionError

Dispatch = Callable[[object, RequestContext], Any]

#: The workflow name of inbox failures on the exception queue.
WORKFLOW = "inbox"


def classify(error: Exception) -> tuple[ExceptionKind, str]:
    """The exception-queue kind and reason code of a processing failure."""
    if isinstance(error, PayloadError | ItemsRejectedError):
        return ExceptionKind.VALIDATION, error.code
    if isinstance(error, MasterDataError):
        return ExceptionKind.MASTER_DATA, "missing_master_data"
    if isinstance(error, NotFoundError):
        # The message refers to a contract, engagement, milestone or invoice Throughline does
        # not know (yet): the system that owns it has to send it first.
        return ExceptionKind.MASTER_DATA, "unknown_reference"
    if isinstance(error, DownstreamUnavailableError):
        return ExceptionKind.DOWNSTREAM_UNAVAILABLE, "downstream_unavailable"
    if isinstance(error, ConflictError | IllegalTransitionError | ImmutableVersionError):
        return ExceptionKind.CONFLICT, error.code
    if isinstance(error, DomainError | ApplicationError):
        return ExceptionKind.VALIDATION, error.code
    raise TypeError(f"not a processing failure: {type(error).__name__}")


def process_inbox_message(
    cmd: c.ProcessInboxMessage, ctx: RequestContext, deps: Dependencies, dispatch: Dispatch
) -> bool:
    """Run the message's commands; True once it is processed (a processed message is never
    run again). A failure is recorded, then raised as `InboxMessageFailedError`."""
    with deps.uow(ctx, read_only=True) as uow:
        message = stored(uow, cmd.source, cmd.message_id)
    if message.state is InboxState.PROCESSED:
        return True
    source_system = RequestContext(
        f"webhook:{message.source}", message.correlation_id, frozenset({"integration"})
    )
    try:
        envelope = parse_envelope(message.body)
        commands = deps.webhooks.translate(message.source, message.event_type, envelope.data)
        for command in commands[message.steps_done :]:
            _require_all_accepted(dispatch(command, source_system))
            _step_done(cmd, ctx, deps)
    except (DomainError, ApplicationError) as error:
        exception_id = _failed(cmd, ctx, deps, error)
        raise InboxMessageFailedError(message.subject, exception_id, str(error)) from error
    _processed(cmd, ctx, deps, len(commands))
    return True


def process_waiting_inbox_messages(
    cmd: c.ProcessWaitingInboxMessages,
    ctx: RequestContext,
    deps: Dependencies,
    dispatch: Dispatch,
) -> list[str]:
    """Background job: process what was stored but never finished (the process died, or an
    unexpected error stopped it); failures go to the exception queue as usual."""
    with deps.uow(ctx, read_only=True) as uow:
        waiting = uow.inbox.received_before(cmd.received_before, cmd.limit)
    for message in waiting:
        try:
            dispatch(c.ProcessInboxMessage(message.source, message.message_id), ctx)
        except InboxMessageFailedError:
            continue  # recorded on the exception queue
    return [message.subject for message in waiting]


def _require_all_accepted(result: object) -> None:
    """A batch with refused items is not done: the refusals wait on the exception queue, and
    a replay retries them (the accepted ones are duplicates then, and change nothing)."""
    if isinstance(result, IngestionReport) and result.rejected:
        refused = "; ".join(f"{r.item_id}: {r.reason_code} ({r.detail})" for r in result.rejected)
        raise ItemsRejectedError(
            f"{len(result.rejected)} refused, {len(result.accepted)} accepted, "
            f"{len(result.duplicates)} already recorded: {refused}"
        )


def _step_done(cmd: c.ProcessInboxMessage, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        message = stored(uow, cmd.source, cmd.message_id)
        message.step_done()
        uow.inbox.save(message)
        uow.commit()


def _processed(
    cmd: c.ProcessInboxMessage, ctx: RequestContext, deps: Dependencies, commands: int
) -> None:
    now = deps.clock.now()
    with deps.uow(ctx) as uow:
        message = stored(uow, cmd.source, cmd.message_id)
        before = message.state
        message.processed(now)
        uow.inbox.save(message)
        for item in uow.exceptions.open_for(message.subject):
            item.resolved(ctx.actor, now)
            uow.exceptions.save(item)
        reason = f"{commands} command{'' if commands == 1 else 's'}"
        audit(uow, ctx, deps, message.subject, "process", before, message.state, reason)
        uow.commit()


def _failed(
    cmd: c.ProcessInboxMessage, ctx: RequestContext, deps: Dependencies, error: Exception
) -> str:
    """Mark the message failed and queue the problem (one open exception per message: a
    replay that hits another problem updates it); the exception's id."""
    kind, reason_code = classify(error)
    detail = str(error)
    with deps.uow(ctx) as uow:
        message = stored(uow, cmd.source, cmd.message_id)
        open_items = [x for x in uow.exceptions.open_for(message.subject) if x.workflow == WORKFLOW]
        if open_items:
            item = open_items[0]
            item.last_error = detail
            uow.exceptions.save(item)
        else:
            item = raise_exception(
                uow,
                ctx,
                deps,
                kind=kind,
                workflow=WORKFLOW,
                subject=message.subject,
                reason_code=reason_code,
                detail=detail,
                replay={
                    "command": "ProcessInboxMessage",
                    "args": {"source": message.source, "message_id": message.message_id},
                },
            )
        before = message.state
        message.failed(detail, item.exception_id)
        uow.inbox.save(message)
        audit(uow, ctx, deps, message.subject, "fail", before, message.state, reason_code)
        uow.commit()
        return item.exception_id
