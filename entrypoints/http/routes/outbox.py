"""The outbox as operations see it: events by delivery state, one event, and the audited
replay of a dead one (same event id, a fresh retry schedule; ADR 0016)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter, QueryParameter

from application.errors import NotFoundError
from application.records import DeliveryState, OutboxEvent
from application.relay import ReplayOutboxEvent
from entrypoints.http.problems import Problem
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    Cursor,
    IdempotencyKey,
    Limit,
    Text,
    documented,
    permission,
)
from entrypoints.http.runtime import Page, context_of, execute, paginate, services_of

EventPath = Annotated[
    str,
    Parameter(
        description="The outbox event id (the CloudEvents id).",
        max_length=100,
        examples=[Example(summary="an event", value="EVT-000001")],
    ),
]

#: At most this many events of one state are read for a listing.
SCAN_LIMIT = 10_000


class OutboxEventOut(msgspec.Struct):
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    correlation_id: str
    occurred_at: datetime
    state: str
    attempts: int
    claimed_by: str | None
    claimed_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None


def event_out(event: OutboxEvent) -> OutboxEventOut:
    return OutboxEventOut(
        event_id=event.event_id,
        event_type=event.event_type,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        correlation_id=event.correlation_id,
        occurred_at=event.occurred_at,
        state=event.state.value,
        attempts=event.attempts,
        claimed_by=event.claimed_by,
        claimed_at=event.claimed_at,
        last_error=event.last_error,
        next_attempt_at=event.next_attempt_at,
    )


@get(
    "/outbox",
    opt=permission("outbox:read"),
    tags=["operations"],
    summary="Outbox events in one delivery state (default: dead), oldest first",
    responses=documented(),
    sync_to_thread=True,
)
def list_outbox(
    request: Request[Any, Any, Any],
    limit: Limit = None,
    cursor: Cursor = None,
    state_filter: Annotated[
        str,
        QueryParameter(
            name="state",
            required=False,
            description="pending, in_flight, failed, delivered or dead",
            pattern="^(pending|in_flight|failed|delivered|dead)$",
            examples=[Example(summary="dead letters", value="dead")],
        ),
    ] = "dead",
) -> Page[OutboxEventOut]:
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        events = uow.outbox.in_state(DeliveryState(state_filter), SCAN_LIMIT)
    page = paginate(events, limit, cursor, services.limits)
    return Page([event_out(e) for e in page.items], page.next_cursor)


def _event(request: Request[Any, Any, Any], event_id: str) -> OutboxEvent:
    with services_of(request).reader(context_of(request)) as uow:
        try:
            return uow.outbox.get(event_id)
        except NotFoundError:
            raise Problem("not-found", f"there is no outbox event {event_id}") from None


@get(
    "/outbox/{event_id:str}",
    opt=permission("outbox:read"),
    tags=["operations"],
    summary="One outbox event and its delivery state",
    responses=documented("not-found"),
    sync_to_thread=True,
)
def get_outbox_event(request: Request[Any, Any, Any], event_id: EventPath) -> OutboxEventOut:
    return event_out(_event(request, event_id))


class ReplayBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


@post(
    "/outbox/{event_id:str}/replay",
    opt=permission("outbox:replay"),
    tags=["operations"],
    summary="Send a dead event again: same id, fresh retry schedule, audited with the reason",
    responses=documented(*WRITE_PROBLEMS, "business-rule", "conflict", "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def replay_outbox_event(
    request: Request[Any, Any, Any],
    event_id: EventPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        ReplayBody,
        Body(
            examples=[
                Example(
                    summary="the subscriber is fixed",
                    value={"reason": "ERP endpoint certificate renewed"},
                )
            ]
        ),
    ],
) -> Response[OutboxEventOut]:
    _event(request, event_id)
    services = services_of(request)

    def run(ctx: Any) -> tuple[int, object]:
        event = services.bus.handle(ReplayOutboxEvent(event_id, data.reason), ctx)
        return 200, event_out(event)

    return execute(request, data, run)


ROUTES = [list_outbox, get_outbox_event, replay_outbox_event]
