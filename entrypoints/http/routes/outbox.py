"""The outbox as operations see it: events by delivery state, one event, and the audited
replay of a dead one (same event id, a fresh retry schedule; ADR 0016)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.openapi.spec import Example
from litestar.params import Parameter

from application.queries.paging import PageRequest
from application.records import DeliveryState, OutboxEvent
from application.relay import ReplayOutboxEvent
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    Text,
    or_not_found,
    out_of,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    optional_query,
    respond_after,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import ops_reads_of

EventPath = Annotated[
    str,
    Parameter(
        description="The outbox event id (the CloudEvents id).",
        max_length=100,
        examples=[Example(summary="an event", value="EVT-000001")],
    ),
]


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
    return out_of(OutboxEventOut, event, state=event.state.value)


_OPERATIONS = RouteFamily("operations", "outbox:read")


@_OPERATIONS.get("/outbox", "Outbox events in one delivery state (default: dead), oldest first")
@paged(OutboxEventOut, event_out)
def list_outbox(
    request: Request[Any, Any, Any],
    page: PageRequest,
    state_filter: Annotated[
        str,
        optional_query(
            "state",
            "dead letters",
            "dead",
            description="pending, in_flight, failed, delivered or dead",
            pattern="^(pending|in_flight|failed|delivered|dead)$",
        ),
    ] = "dead",
) -> Rows:
    outbox = ops_reads_of(request).operations
    return outbox.outbox_events(DeliveryState(state_filter), page)


def _event(request: Request[Any, Any, Any], event_id: str) -> OutboxEvent:
    found = ops_reads_of(request).operations.outbox_event(event_id)
    return or_not_found(found, "outbox event", event_id)


@_OPERATIONS.get("/outbox/{event_id:str}", "One outbox event and its delivery state", "not-found")
def get_outbox_event(request: Request[Any, Any, Any], event_id: EventPath) -> OutboxEventOut:
    return event_out(_event(request, event_id))


class ReplayBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


def _replay(
    request: Request[Any, Any, Any], event_id: str, body: object, command: object
) -> Response[OutboxEventOut]:
    """Replay an event the caller can see (404 otherwise) and answer it as it now stands."""
    _event(request, event_id)
    return respond_after(request, body, command, event_out)


_EVENT = Subject("event_id", EventPath, OutboxEventOut, _replay)


@_OPERATIONS.post(
    "/outbox/{event_id:str}/replay",
    "Send a dead event again: same id, fresh retry schedule, audited with the reason",
    *WRITE_PROBLEMS,
    "business-rule",
    "conflict",
    permission="outbox:replay",
)
@_EVENT.command(
    body_example("the subscriber is fixed", {"reason": "ERP endpoint certificate renewed"})
)
def replay_outbox_event(event_id: str, data: ReplayBody) -> object:
    return ReplayOutboxEvent(event_id, data.reason)


ROUTES = [list_outbox, get_outbox_event, replay_outbox_event]
