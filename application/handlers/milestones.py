"""Milestones as delivery reports them and the client decides: completion with evidence (once
per PSA completion id, ADR 0024), acceptance by the client's approver or passively after the
contract's window, rejection with a reason. Each move is audited."""

from __future__ import annotations

from collections.abc import Callable

from application import commands as c
from application.context import RequestContext
from application.handlers.common import audit
from application.messagebus import Dependencies
from application.natural_keys import MILESTONE_COMPLETION, Admission, admit
from application.unit_of_work import UnitOfWork
from domain.milestone import Milestone


def _milestone_transition(
    uow: UnitOfWork,
    ctx: RequestContext,
    deps: Dependencies,
    milestone_id: str,
    action: str,
    change: Callable[[Milestone], None],
) -> None:
    milestone = uow.milestones.get(milestone_id)
    before = milestone.state
    change(milestone)
    uow.milestones.save(milestone)
    audit(uow, ctx, deps, f"milestone:{milestone_id}", action, before, milestone.state)


def _milestone_command(
    deps: Dependencies,
    ctx: RequestContext,
    milestone_id: str,
    action: str,
    change: Callable[[Milestone], None],
) -> None:
    with deps.uow(ctx) as uow:
        _milestone_transition(uow, ctx, deps, milestone_id, action, change)
        uow.commit()


def complete_milestone(cmd: c.CompleteMilestone, ctx: RequestContext, deps: Dependencies) -> None:
    """Delivery says done, with evidence; a completion the PSA numbered is recorded once."""
    with deps.uow(ctx) as uow:
        if cmd.completion_id is not None:
            fact = MILESTONE_COMPLETION.fact(
                cmd.completion_id,
                milestone_id=cmd.milestone_id,
                evidence=cmd.evidence,
                completed_on=cmd.on.isoformat(),
            )
            if admit(uow, fact, ctx, deps.clock.now()) is Admission.REPLAY:
                return
        _milestone_transition(
            uow,
            ctx,
            deps,
            cmd.milestone_id,
            "complete",
            lambda m: m.complete(cmd.evidence, cmd.on, deps.clock.now()),
        )
        uow.commit()


def accept_milestone(cmd: c.AcceptMilestone, ctx: RequestContext, deps: Dependencies) -> None:
    """The client approver accepts; the milestone becomes billable."""
    _milestone_command(
        deps,
        ctx,
        cmd.milestone_id,
        "accept",
        lambda m: m.accept(cmd.accepted_by or ctx.actor, cmd.on, deps.clock.now()),
    )


def reject_milestone(cmd: c.RejectMilestone, ctx: RequestContext, deps: Dependencies) -> None:
    _milestone_command(
        deps,
        ctx,
        cmd.milestone_id,
        "reject",
        lambda m: m.reject(ctx.actor, cmd.reason, deps.clock.now()),
    )


def accept_due_milestones(
    cmd: c.AcceptDueMilestones, ctx: RequestContext, deps: Dependencies
) -> list[str]:
    """Passive acceptance: completed milestones whose window has passed are accepted."""
    accepted: list[str] = []
    with deps.uow(ctx) as uow:
        for milestone in uow.milestones.completed_due(cmd.today):
            _milestone_transition(
                uow,
                ctx,
                deps,
                milestone.milestone_id,
                "accept_passively",
                lambda m: m.accept_passively(cmd.today, deps.clock.now()),
            )
            accepted.append(milestone.milestone_id)
        uow.commit()
    return accepted
