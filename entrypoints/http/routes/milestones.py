"""Milestones: list an engagement's, read one, and the delivery and acceptance steps
(complete with evidence, accept, reject with a reason)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.queries.milestones import MilestoneView
from application.queries.paging import PageRequest
from domain.ids import MilestoneId
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    Id,
    Text,
    or_not_found,
    out_of,
    published,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    path_param,
    respond_seen,
)
from entrypoints.http.routes.delivery_reads import EngagementQuery
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import ops_reads_of, principal_of

MilestonePath = Annotated[
    str,
    path_param("The milestone id (from the contract's milestone terms).", "a milestone", "M1"),
]


#: What a milestone's answer publishes of its view: all but the customer.
_PUBLISHED = (
    "milestone_id", "obligation_id", "contract_id", "engagement_id", "name", "state",
    "evidence", "completed_on", "accepted_on", "accepted_by", "rejection_reason",
    "passive_acceptance_days", "passive_acceptance_due_on",
)  # fmt: skip


class MilestoneOut(published(MilestoneView, *_PUBLISHED)):
    """A milestone on the wire."""


def milestone_out(view: MilestoneView) -> MilestoneOut:
    return out_of(MilestoneOut, view)


def _visible(request: Request[Any, Any, Any], milestone_id: str) -> MilestoneOut:
    """The milestone, or 404 when it does not exist or belongs to another client's customer."""
    view = ops_reads_of(request).milestones.milestone(milestone_id)
    principal = principal_of(request)
    shown = or_not_found(view, "milestone", milestone_id, lambda v: principal.sees(v.customer_id))
    return milestone_out(shown)


_MILESTONES = RouteFamily("milestones", "delivery:read")


@_MILESTONES.get("/milestones", "List an engagement's milestones", "not-found")
@paged(MilestoneOut, milestone_out)
def list_milestones(
    request: Request[Any, Any, Any],
    engagement_id: EngagementQuery,
    page: PageRequest,
) -> Rows:
    principal = principal_of(request)
    visible_to = principal.customer_id if principal.scoped else None
    found = ops_reads_of(request).milestones.milestones(engagement_id, visible_to, page)
    return or_not_found(found, "engagement", engagement_id)


@_MILESTONES.get("/milestones/{milestone_id:str}", "One milestone and where it stands", "not-found")
def get_milestone(request: Request[Any, Any, Any], milestone_id: MilestonePath) -> MilestoneOut:
    return _visible(request, milestone_id)


class CompleteBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    evidence: Text
    on: date
    #: The PSA's id of this completion: the same completion sent again is a replay.
    completion_id: Id | None = None


class AcceptBody(msgspec.Struct, forbid_unknown_fields=True):
    on: date
    #: Who at the client accepted (defaults to the caller).
    accepted_by: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class RejectBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


def _act(
    request: Request[Any, Any, Any], milestone_id: str, body: object, command: object
) -> Response[MilestoneOut]:
    """Run a milestone command and answer with the milestone as it now stands."""
    return respond_seen(request, body, command, lambda: _visible(request, milestone_id))


_MILESTONE = Subject("milestone_id", MilestonePath, MilestoneOut, _act)
_COMPLETION_EXAMPLE = {"evidence": "design pack v3 signed", "on": "2026-03-02"}


@_MILESTONES.post(
    "/milestones/{milestone_id:str}/complete",
    "Delivery completes a milestone, with evidence",
    *RULED_WRITE_PROBLEMS,
    permission="milestones:write",
)
@_MILESTONE.command(body_example("design signed off", _COMPLETION_EXAMPLE))
def complete_milestone(milestone_id: str, data: CompleteBody) -> object:
    milestone = MilestoneId(milestone_id)
    return c.CompleteMilestone(milestone, data.evidence, data.on, data.completion_id)


@_MILESTONES.post(
    "/milestones/{milestone_id:str}/accept",
    "The client accepts a completed milestone; it becomes billable",
    *RULED_WRITE_PROBLEMS,
    permission="milestones:write",
)
@_MILESTONE.command(
    body_example("accepted by the client", {"on": "2026-03-05", "accepted_by": "cfo@acme"})
)
def accept_milestone(milestone_id: str, data: AcceptBody) -> object:
    return c.AcceptMilestone(MilestoneId(milestone_id), data.on, data.accepted_by)


@_MILESTONES.post(
    "/milestones/{milestone_id:str}/reject",
    "The client rejects a completed milestone and says why",
    *RULED_WRITE_PROBLEMS,
    permission="milestones:write",
)
@_MILESTONE.command(body_example("rework", {"reason": "load tests missing"}))
def reject_milestone(milestone_id: str, data: RejectBody) -> object:
    return c.RejectMilestone(MilestoneId(milestone_id), data.reason)


ROUTES = [list_milestones, get_milestone, complete_milestone, accept_milestone, reject_milestone]
