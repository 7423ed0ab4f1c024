"""Processing stored inbound messages: translate, run the commands, record the outcome.

A message's commands run in order, each in its own unit of work as if a person had sent it
(the actor is the source system, the correlation id the delivery's). After each one commits
the message counts it (`steps_done`), so a replay resumes at the first command that did not
commit and never runs one twice. A problem (a payload that does not map, missing master data,
a business rule, refused time entries) marks the message failed and puts it on the typed
exception queue with `ProcessInboxMessage` as its replay; the replay reads the stored raw body
again (signatures and the time window were checked once, on arrival). So does an error nobody
foresaw (a bug, the database refusing a value): nothing that fails is left `received`.

Processing holds the message's claim (`application.inbox.claim`) from the first read to the
transaction that records the outcome, which also releases it: a second processor (a retried
delivery, the waiting-messages job, a replay) is refused with `MessageInProgressError`
meanwhile, and takes over a claim its holder left behind by dying.

The text rules of `application.strict_json` (no control characters, lengths) are checked
here, not at the door: a signed message that breaks them is stored and waits on the queue
(validation, `text_limit`, a pointer per field), like any other payload that does not map.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from application import commands as c
from application.audit_trail import state_text
from application.changes import RecordMoved
from application.context import RequestContext
from application.errors import (
    ApplicationError,
    ConcurrentChangeError,
    ConflictError,
    DownstreamUnavailableError,
    ItemsRejectedError,
    MasterDataError,
    NotFoundError,
    PayloadError,
)
from application.handlers.common import queue_exception, resolve_open_exceptions
from application.handlers.delivery import IngestionReport
from application.inbox import (
    InboxMessageFailedError,
    MessageInProgressError,
    claim,
    parse_envelope,
    release,
    stored,
)
from application.messagebus import Dispatch, UnitOfWorkFactory
from application.ports import Clock, IdGenerator, WebhookTranslator
from application.records import ExceptionKind, InboxMessage, InboxState, IntegrationException
from application.unit_of_work import UnitOfWork
from domain.errors import DomainError, IllegalTransitionError, ImmutableVersionError

#: The workflow name of inbox failures on the exception queue.
WORKFLOW = "inbox"
#: The reason code of a failure nobody foresaw (its trace is in the log).
UNEXPECTED = "unexpected_error"

log = logging.getLogger("throughline.inbox")


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
    # A bug, or our own database failing mid-way: retried on the downstream schedule, since
    # the common cause (a connection dropped) heals by itself; a bug ends `dead` after the
    # last retry, on the queue with the correlation id of its trace.
    return ExceptionKind.DOWNSTREAM_UNAVAILABLE, UNEXPECTED


def process_inbox_message(
    cmd: c.ProcessInboxMessage,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    webhooks: WebhookTranslator,
    dispatch: Dispatch,
) -> bool:
    """Run the message's commands under its claim; True once it is processed (a processed
    message is never run again). `MessageInProgressError` while another processor holds the
    claim. Any failure is recorded on the exception queue, then raised as
    `InboxMessageFailedError`."""
    inbox = _Processing(cmd, ctx, unit_of_work, clock, ids, ids.next_id("CLAIM"))
    message = inbox.claim()
    if message is None:
        return True
    try:
        commands = _commands(message, webhooks)
        for command in commands[message.steps_done :]:
            _require_all_accepted(_run(dispatch, command, _as_source_system(message)))
            inbox.step_done()
    except Exception as error:
        raise inbox.failed(error, message) from error
    inbox.processed(len(commands))
    return True


#: How many times a message's command runs when each run loses a race to another writer.
RUNS_ON_CONCURRENT_CHANGE = 3


def _run(dispatch: Dispatch, command: object, ctx: RequestContext) -> Any:
    """The command's result. A run that lost a race (`ConcurrentChangeError`: another writer
    committed first, nothing of this run was stored) runs again on the new state, as a replay
    from the queue would, before the message is parked: two payments of one invoice arriving
    together are both applied."""
    for _ in range(RUNS_ON_CONCURRENT_CHANGE - 1):
        try:
            return dispatch(command, ctx)
        except ConcurrentChangeError:
            log.info("%s lost a race to another writer; run again", type(command).__name__)
    return dispatch(command, ctx)


def _as_source_system(message: InboxMessage) -> RequestContext:
    """A message's commands run as if its source system had sent them."""
    return RequestContext(
        f"webhook:{message.source}", message.correlation_id, frozenset({"integration"})
    )


def _commands(message: InboxMessage, webhooks: WebhookTranslator) -> list[object]:
    envelope = parse_envelope(message.body)
    return list(webhooks.translate(message.source, message.event_type, envelope.data))


def _detail(error: Exception, correlation_id: str) -> str:
    """What the queue says about a failure: the rule's own words, or for an error nobody
    foresaw only its kind (its text may hold SQL or values; the trace goes to the log)."""
    if isinstance(error, DomainError | ApplicationError):
        return str(error)
    log.error(
        "inbox processing failed unexpectedly (correlation id %s)", correlation_id, exc_info=error
    )
    return (
        f"processing stopped at an unexpected {type(error).__name__}; the log has its trace "
        f"under correlation id {correlation_id}"
    )


def process_waiting_inbox_messages(
    cmd: c.ProcessWaitingInboxMessages,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    dispatch: Dispatch,
) -> list[str]:
    """Background job: process what was stored but never finished (the process died, or the
    database failed while the failure was being recorded); failures go to the exception queue
    as usual. The subjects it finished; a message another processor holds is left to it."""
    with unit_of_work(ctx, read_only=True) as uow:
        waiting = uow.inbox.received_before(cmd.received_before, cmd.limit)
    finished: list[str] = []
    for message in waiting:
        try:
            dispatch(c.ProcessInboxMessage(message.source, message.message_id), ctx)
        except MessageInProgressError:
            continue  # a retried delivery or a replay is at it right now
        except InboxMessageFailedError:
            pass  # recorded on the exception queue
        finished.append(message.subject)
    return finished


def _require_all_accepted(result: object) -> None:
    """A batch with refused items is not done: the refusals wait on the exception queue, and
    a replay retries them (the accepted ones are duplicates then, and change nothing)."""
    if isinstance(result, IngestionReport | c.DeliveryRecordsReport) and result.rejected:
        refused = "; ".join(f"{r.item_id}: {r.reason_code} ({r.detail})" for r in result.rejected)
        raise ItemsRejectedError(
            f"{len(result.rejected)} refused, {len(result.accepted)} accepted, "
            f"{len(result.duplicates)} already recorded: {refused}"
        )


@attrs.define
class _Processing:
    """The transactions around one message's commands: claim it, count each command done,
    and record the outcome (which releases the claim)."""

    cmd: c.ProcessInboxMessage
    ctx: RequestContext
    unit_of_work: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    token: str

    def claim(self) -> InboxMessage | None:
        """The stored message, claimed; None when it was processed before."""
        with self.unit_of_work(self.ctx) as uow:
            message = stored(uow, self.cmd.source, self.cmd.message_id)
            if message.state is InboxState.PROCESSED:
                return None
            claim(uow, message, self.token, self.clock.now())
            uow.commit()
        return message

    def step_done(self) -> None:
        with self.unit_of_work(self.ctx) as uow:
            message = stored(uow, self.cmd.source, self.cmd.message_id)
            message.step_done()
            uow.inbox.save(message)
            uow.commit()

    def processed(self, commands: int) -> None:
        now = self.clock.now()
        with self.unit_of_work(self.ctx) as uow:
            message = stored(uow, self.cmd.source, self.cmd.message_id)
            before = state_text(message.state)
            message.processed(now)
            uow.inbox.save(message)
            release(uow, message, self.token)
            resolve_open_exceptions(uow, message.subject, self.ctx.actor, self.clock)
            reason = f"{commands} command{'' if commands == 1 else 's'}"
            after = state_text(message.state)
            uow.record(RecordMoved(message.subject, "process", before, after, reason))
            uow.commit()

    def failed(self, error: Exception, message: InboxMessage) -> InboxMessageFailedError:
        """Mark the message failed, queue the problem (one open exception per message: a
        replay that hits another problem updates it) and release the claim; the error to
        raise."""
        detail = _detail(error, message.correlation_id)
        kind, reason_code = classify(error)
        with self.unit_of_work(self.ctx) as uow:
            message = stored(uow, self.cmd.source, self.cmd.message_id)
            item = _open_or_new(uow, self, message, kind, reason_code, detail)
            before = state_text(message.state)
            message.failed(detail, item.exception_id)
            uow.inbox.save(message)
            release(uow, message, self.token)
            after = state_text(message.state)
            uow.record(RecordMoved(message.subject, "fail", before, after, reason_code))
            uow.commit()
        return InboxMessageFailedError(message.subject, item.exception_id, detail)


def _open_or_new(
    uow: UnitOfWork,
    processing: _Processing,
    message: InboxMessage,
    kind: ExceptionKind,
    reason_code: str,
    detail: str,
) -> IntegrationException:
    open_items = [x for x in uow.exceptions.open_for(message.subject) if x.workflow == WORKFLOW]
    if open_items:
        open_items[0].last_error = detail
        uow.exceptions.save(open_items[0])
        return open_items[0]
    return queue_exception(
        uow,
        processing.ctx,
        processing.clock,
        processing.ids,
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
