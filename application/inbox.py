"""Inbound webhooks: the envelope every source uses, and receiving a message into the inbox.

A message whose signature verified is stored raw in the inbox, in a transaction of its own,
before anything acts on it; then it is processed (`ProcessInboxMessage`, handled in
`application.handlers.inbox`), which may fail onto the exception queue without losing it.
The inbox key (source, message id) makes a second delivery of a message whose processing
finished a no-op that reports how it went; a second delivery of one whose processing never
finished (the process died) processes it, as the waiting-messages job does. A claim per
message (`claim`) keeps two processors off one message at a time.

The envelope (docs/webhooks.md) is one JSON object:

    {"type": "contract.approved", "timestamp": "2026-03-01T09:00:00Z", "data": {...}}

`type` names the event, `data` is the source's payload (translated per source by the
`WebhookTranslator` port), `timestamp` (optional) is when the event happened at the source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import attrs

from application import commands as c
from application.changes import RecordMoved
from application.context import RequestContext
from application.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PayloadError,
    RequestInProgressError,
)
from application.idempotency import STALE_AFTER
from application.messagebus import Dispatch, UnitOfWorkFactory
from application.ports import Clock
from application.records import (
    IdempotencyRecord,
    IdempotencyStatus,
    InboxMessage,
    InboxState,
)
from application.strict_json import parse_json
from application.unit_of_work import UnitOfWork

#: Event types are dotted lower-case names: `opportunity.closed_won`, `time.approved`.
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
MAX_EVENT_TYPE_LENGTH = 100
ENVELOPE_FIELDS = ("type", "timestamp", "data")


@attrs.frozen
class Envelope:
    """A parsed message: its event type, its data, and when it happened at the source."""

    event_type: str
    data: Mapping[str, Any]
    timestamp: datetime | None = None


def _timestamp(value: object) -> datetime | str:
    """The parsed timestamp, or what is wrong with it."""
    if not isinstance(value, str):
        return "expected an ISO-8601 date-time string with an offset"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not an ISO-8601 date-time"
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return f"{value!r} has no UTC offset (add Z or +01:00)"
    return parsed


def parse_envelope(body: str, *, check_text: bool = True) -> Envelope:
    """The envelope of a message body: `MalformedJsonError` when the body is not strict JSON
    (`application.strict_json`), `PayloadError` (with a pointer per problem) when it is JSON
    but not an envelope, and unless `check_text` is off, `TextLimitError` when a string
    breaks the text rules. The intake leaves the text rules to processing, so a signed
    message that breaks them is stored and waits on the exception queue instead of being
    refused and lost."""
    document = parse_json(body, check_text=check_text)
    if not isinstance(document, dict):
        raise PayloadError([("", "the body must be a JSON object with 'type' and 'data'")])
    problems: list[tuple[str, str]] = []
    event_type = document.get("type")
    if "type" not in document:
        problems.append(("/type", "required"))
    elif not isinstance(event_type, str):
        problems.append(("/type", "expected a string like 'contract.approved'"))
    elif len(event_type) > MAX_EVENT_TYPE_LENGTH or not EVENT_TYPE.fullmatch(event_type):
        problems.append(("/type", f"{event_type[:60]!r} is not an event type like 'time.approved'"))
    data = document.get("data")
    if "data" not in document:
        problems.append(("/data", "required"))
    elif not isinstance(data, dict):
        problems.append(("/data", "expected an object"))
    timestamp: datetime | None = None
    if "timestamp" in document:
        parsed = _timestamp(document["timestamp"])
        if isinstance(parsed, str):
            problems.append(("/timestamp", parsed))
        else:
            timestamp = parsed
    problems += [(f"/{_escape(k)}", "unknown field") for k in document if k not in ENVELOPE_FIELDS]
    if problems:
        raise PayloadError(problems)
    assert isinstance(event_type, str)
    assert isinstance(data, dict)
    return Envelope(event_type, data, timestamp)


def _escape(key: str) -> str:
    """A JSON pointer reference token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


# Receiving --------------------------------------------------------------------------------


class ReceiptStatus(Enum):
    PROCESSED = "processed"
    FAILED = "failed"
    DUPLICATE = "duplicate"


@attrs.frozen
class Receipt:
    """What became of one delivery: processed, failed onto the exception queue (its id), or
    a duplicate of a stored message (whose current state and exception it reports)."""

    source: str
    message_id: str
    status: ReceiptStatus
    state: InboxState
    exception_id: str | None = None

    @classmethod
    def duplicate(cls, first: InboxMessage) -> Receipt:
        """A delivery of a message whose processing had finished: its stored outcome."""
        state = first.state
        return cls(
            first.source, first.message_id, ReceiptStatus.DUPLICATE, state, first.exception_id
        )


class MessageInProgressError(RequestInProgressError):
    """Another delivery, the waiting-messages job or a replay is processing the message now;
    its claim goes stale after `CLAIM_STALE_AFTER`, when a crashed processor's work is taken
    over."""

    code = "message_in_progress"


class MessageIdReusedError(ConflictError):
    """A message id names one message: a delivery under a stored message's id with another
    body is refused and stores nothing, and the stored message stands."""

    code = "message_id_reused"


class InboxMessageFailedError(ApplicationError):
    """Processing a stored message stopped at a problem; it is on the exception queue."""

    code = "inbox_message_failed"

    def __init__(self, subject: str, exception_id: str, detail: str) -> None:
        super().__init__(f"{subject} failed ({exception_id}): {detail}")
        self.exception_id = exception_id


def stored(uow: UnitOfWork, source: str, message_id: str) -> InboxMessage:
    message = uow.inbox.find(source, message_id)
    if message is None:
        raise NotFoundError(f"no inbox message {message_id!r} from {source!r}")
    return message


def receive(
    cmd: c.ReceiveInboxMessage,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> Receipt:
    """Store the message (its own transaction), then process it.

    A message stored before is a duplicate only once its processing has finished (processed,
    or failed onto the exception queue): that changes nothing and reports the stored state;
    under its id another body (other JSON content, not merely other spacing or key order) is
    `MessageIdReusedError`.
    One still `received` never finished (its processor died, or is still at it), so this
    delivery processes it, from the stored body; `MessageInProgressError` while another
    processor holds its claim, so the sender tries again later."""
    message = InboxMessage(
        cmd.source, cmd.message_id, cmd.event_type, cmd.body, clock.now(), ctx.correlation_id
    )
    if not _store(message, ctx, unit_of_work):
        first = _stored_before(message, ctx, unit_of_work)
        if parse_json(first.body, check_text=False) != parse_json(cmd.body, check_text=False):
            raise MessageIdReusedError(
                f"message {cmd.message_id!r} from the {cmd.source} was received before with "
                "another body; the first one stands. A corrected message is a new message: "
                "send it under a new webhook-id"
            )
        if first.state is not InboxState.RECEIVED:
            return Receipt.duplicate(first)
    try:
        dispatch(c.ProcessInboxMessage(cmd.source, cmd.message_id), ctx)
    except InboxMessageFailedError as failure:
        return Receipt(
            cmd.source,
            cmd.message_id,
            ReceiptStatus.FAILED,
            InboxState.FAILED,
            failure.exception_id,
        )
    return Receipt(cmd.source, cmd.message_id, ReceiptStatus.PROCESSED, InboxState.PROCESSED)


def _stored_before(
    message: InboxMessage, ctx: RequestContext, unit_of_work: UnitOfWorkFactory
) -> InboxMessage:
    with unit_of_work(ctx, read_only=True) as uow:
        return stored(uow, message.source, message.message_id)


def _store(message: InboxMessage, ctx: RequestContext, unit_of_work: UnitOfWorkFactory) -> bool:
    """True when this delivery stored the message; False when it was stored already."""
    try:
        with unit_of_work(ctx) as uow:
            if uow.inbox.find(message.source, message.message_id) is not None:
                return False
            uow.inbox.add(message)
            after = message.state.value
            receipt = RecordMoved(message.subject, "receive", None, after, message.event_type)
            uow.record(receipt)
            uow.commit()
            return True
    except ConflictError:
        # A concurrent delivery of the same message stored it first (its insert won the key);
        # anything else that conflicted is not a duplicate and goes on up.
        with unit_of_work(ctx, read_only=True) as uow:
            if uow.inbox.find(message.source, message.message_id) is None:
                raise
        return False


# Claims -----------------------------------------------------------------------------------

#: A claim older than this belongs to a processor that died; the next one takes it over.
CLAIM_STALE_AFTER = STALE_AFTER


def claim(uow: UnitOfWork, message: InboxMessage, token: str, now: datetime) -> None:
    """Claim the processing of `message` for the processor `token`, or refuse with
    `MessageInProgressError` while another processor's claim is fresh.

    The claim is an idempotency record of the source (principal `webhook:<source>`, key the
    message id, fingerprint the token): the `webhook-id` is the message's idempotency key,
    and the idempotency store already claims race-safely on both databases (of two racing
    claims one wins, the other is refused) and is purged after 24 hours."""
    principal, key = _claim_key(message)
    held = uow.idempotency.find(principal, key)
    if held is not None and held.fingerprint != token and now - held.created_at < STALE_AFTER:
        raise MessageInProgressError(f"{message.subject} is being processed; try again later")
    record = IdempotencyRecord(principal, key, token, IdempotencyStatus.IN_PROGRESS, now)
    try:
        uow.idempotency.save(record)
    except RequestInProgressError:  # another processor claimed it since we looked
        raise MessageInProgressError(
            f"{message.subject} is being processed; try again later"
        ) from None


def release(uow: UnitOfWork, message: InboxMessage, token: str) -> None:
    """Give up the claim, if it is still this processor's (one that was too slow may have
    been taken over: the claim is the newcomer's then)."""
    principal, key = _claim_key(message)
    held = uow.idempotency.find(principal, key)
    if held is not None and held.fingerprint == token:
        uow.idempotency.delete(principal, key)


def _claim_key(message: InboxMessage) -> tuple[str, str]:
    return f"webhook:{message.source}", message.message_id
