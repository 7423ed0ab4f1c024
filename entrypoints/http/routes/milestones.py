"""Milestones: list an engagement's, read one, and the delivery and acceptance steps
(complete with evidence, accept, reject with a reason)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter

from application import commands as c
from application.context import RequestContext
from application.unit_of_work import UnitOfWork
from domain.contract import Contract
from domain.ids import MilestoneId
from domain.milestone import Milestone
from entrypoints.http.problems import Problem
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    Cursor,
    Id,
    IdempotencyKey,
    Limit,
    Text,
    documented,
    permission,
)
from entrypoints.http.routes.delivery import EngagementQuery, visible_engagement
from entrypoints.http.runtime import (
    Page,
    context_of,
    execute,
    paginate,
    principal_of,
    services_of,
)
from entrypoints.http.security import Principal

MilestonePath = Annotated[
    str,
    Parameter(
        description="The milestone id (from the contract's milestone terms).",
        examples=[Example(summary="a milestone", value="M1")],
    ),
]


def _example(summary: str, value: dict[str, Any]) -> Any:
    return Body(examples=[Example(summary=summary, value=value)])


class MilestoneOut(msgspec.Struct):
    milestone_id: str
    obligation_id: str
    contract_id: str
    engagement_id: str | None
    name: str
    state: str
    evidence: str | None
    completed_on: date | None
    accepted_on: date | None
    accepted_by: str | None
    rejection_reason: str | None
    passive_acceptance_days: int | None
    passive_acceptance_due_on: date | None


def milestone_out(
    milestone: Milestone, contract_id: str, engagement_id: str | None
) -> MilestoneOut:
    return MilestoneOut(
        milestone_id=milestone.milestone_id,
        obligation_id=milestone.obligation_id,
        contract_id=contract_id,
        engagement_id=engagement_id,
        name=milestone.name,
        state=milestone.state.value,
        evidence=milestone.evidence,
        completed_on=milestone.completed_on,
        accepted_on=milestone.accepted_on,
        accepted_by=milestone.accepted_by,
        rejection_reason=milestone.rejection_reason,
        passive_acceptance_days=milestone.passive_acceptance_days,
        passive_acceptance_due_on=milestone.passive_acceptance_due_on,
    )


def _contract_of(uow: UnitOfWork, milestone: Milestone) -> Contract | None:
    """The contract whose obligation the milestone belongs to."""
    for contract in uow.contracts.all():
        if milestone.obligation_id in contract.obligation_ids():
            return contract
    return None


def _visible(uow: UnitOfWork, principal: Principal, milestone_id: str) -> MilestoneOut:
    """The milestone, or 404 when it does not exist or belongs to another client's customer."""
    milestone = uow.milestones.find(milestone_id)
    contract = _contract_of(uow, milestone) if milestone is not None else None
    if milestone is None or contract is None or not principal.sees(contract.customer_id):
        raise Problem("not-found", f"there is no milestone {milestone_id}")
    engagement = uow.engagements.find_by_contract(contract.contract_id)
    return milestone_out(
        milestone, contract.contract_id, engagement.engagement_id if engagement else None
    )


@get(
    "/milestones",
    opt=permission("delivery:read"),
    tags=["milestones"],
    summary="List an engagement's milestones",
    responses=documented("not-found"),
    sync_to_thread=True,
)
def list_milestones(
    request: Request[Any, Any, Any],
    engagement_id: EngagementQuery,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[MilestoneOut]:
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        engagement = visible_engagement(uow, principal_of(request), engagement_id)
        contract = uow.contracts.get(engagement.contract_id)
        milestones = uow.milestones.for_obligations(contract.obligation_ids())
    chosen = sorted(milestones, key=lambda m: (m.obligation_id, m.milestone_id))
    page = paginate(chosen, limit, cursor, services.limits)
    return Page(
        [milestone_out(m, contract.contract_id, engagement.engagement_id) for m in page.items],
        page.next_cursor,
    )


@get(
    "/milestones/{milestone_id:str}",
    opt=permission("delivery:read"),
    tags=["milestones"],
    summary="One milestone and where it stands",
    responses=documented("not-found"),
    sync_to_thread=True,
)
def get_milestone(request: Request[Any, Any, Any], milestone_id: MilestonePath) -> MilestoneOut:
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        return _visible(uow, principal_of(request), milestone_id)


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
    services = services_of(request)
    principal = principal_of(request)
    with services.reader(context_of(request)) as uow:
        _visible(uow, principal, milestone_id)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        with services.reader(ctx) as uow:
            return 200, _visible(uow, principal, milestone_id)

    return execute(request, body, run)


_PROBLEMS = (*WRITE_PROBLEMS, "business-rule", "request-in-progress")


@post(
    "/milestones/{milestone_id:str}/complete",
    opt=permission("milestones:write"),
    tags=["milestones"],
    summary="Delivery completes a milestone, with evidence",
    responses=documented(*_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def complete_milestone(
    request: Request[Any, Any, Any],
    milestone_id: MilestonePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        CompleteBody,
        _example("design signed off", {"evidence": "design pack v3 signed", "on": "2026-03-02"}),
    ],
) -> Response[MilestoneOut]:
    command = c.CompleteMilestone(
        MilestoneId(milestone_id), data.evidence, data.on, data.completion_id
    )
    return _act(request, milestone_id, data, command)


@post(
    "/milestones/{milestone_id:str}/accept",
    opt=permission("milestones:write"),
    tags=["milestones"],
    summary="The client accepts a completed milestone; it becomes billable",
    responses=documented(*_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def accept_milestone(
    request: Request[Any, Any, Any],
    milestone_id: MilestonePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        AcceptBody,
        _example("accepted by the client", {"on": "2026-03-05", "accepted_by": "cfo@acme"}),
    ],
) -> Response[MilestoneOut]:
    return _act(
        request,
        milestone_id,
        data,
        c.AcceptMilestone(MilestoneId(milestone_id), data.on, data.accepted_by),
    )


@post(
    "/milestones/{milestone_id:str}/reject",
    opt=permission("milestones:write"),
    tags=["milestones"],
    summary="The client rejects a completed milestone and says why",
    responses=documented(*_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def reject_milestone(
    request: Request[Any, Any, Any],
    milestone_id: MilestonePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[RejectBody, _example("rework", {"reason": "load tests missing"})],
) -> Response[MilestoneOut]:
    command = c.RejectMilestone(MilestoneId(milestone_id), data.reason)
    return _act(request, milestone_id, data, command)


ROUTES = [list_milestones, get_milestone, complete_milestone, accept_milestone, reject_milestone]
