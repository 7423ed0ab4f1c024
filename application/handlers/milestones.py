"""Milestones as delivery reports them and the client decides: completion with evidence (once
per PSA completion id, ADR 0024), acceptance by the client's approver or passively after the
contract's window, rejection with a reason. Each move is audited from the milestone's event at
commit."""

from __future__ import annotations

from collections.abc import Callable

from application import commands as c
from application.context import RequestContext
from application.messagebus import UnitOfWorkFactory
from application.natural_keys import MILESTONE_COMPLETION, Admission, admit
from application.ports import Clock
from application.unit_of_work import UnitOfWork
from domain.milestone import Milestone
from domain.plausibility import PlausibilityPolicy


def _move(uow: UnitOfWork, milestone_id: str, change: Callable[[Milestone], None]) -> None:
    milestone = uow.milestones.get(milestone_id)
    change(milestone)
    uow.milestones.save(milestone)


def _move_one(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    milestone_id: str,
    change: Callable[[Milestone], None],
) -> None:
    with unit_of_work(ctx) as uow:
        _move(uow, milestone_id, change)
        uow.commit()


def complete_milestone(
    cmd: c.CompleteMilestone,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    plausibility: PlausibilityPolicy,
) -> None:
    """Delivery says done, with evidence; a completion the PSA numbered is recorded once."""
    plausibility.refuse_future(cmd.on, clock.now().date(), "the completion date")
    with unit_of_work(ctx) as uow:
        if _completed_before(uow, cmd, ctx, clock):
            return
        _move(uow, cmd.milestone_id, lambda m: m.complete(cmd.evidence, cmd.on, clock.now()))
        uow.commit()


def _completed_before(
    uow: UnitOfWork, cmd: c.CompleteMilestone, ctx: RequestContext, clock: Clock
) -> bool:
    """True when the PSA's numbered completion was recorded before."""
    if cmd.completion_id is None:
        return False
    fact = MILESTONE_COMPLETION.fact(
        cmd.completion_id,
        milestone_id=cmd.milestone_id,
        evidence=cmd.evidence,
        completed_on=cmd.on.isoformat(),
    )
    return admit(uow, fact, ctx, clock.now()) is Admission.REPLAY


def accept_milestone(
    cmd: c.AcceptMilestone,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    plausibility: PlausibilityPolicy,
) -> None:
    """The client approver accepts; the milestone becomes billable."""
    plausibility.refuse_future(cmd.on, clock.now().date(), "the acceptance date")
    by = cmd.accepted_by or ctx.actor
    _move_one(unit_of_work, ctx, cmd.milestone_id, lambda m: m.accept(by, cmd.on, clock.now()))


def reject_milestone(
    cmd: c.RejectMilestone, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """The client rejects with a reason; delivery completes it again."""
    reject: Callable[[Milestone], None] = lambda m: m.reject(ctx.actor, cmd.reason, clock.now())  # noqa: E731
    _move_one(unit_of_work, ctx, cmd.milestone_id, reject)


def accept_due_milestones(
    cmd: c.AcceptDueMilestones,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> list[str]:
    """Passive acceptance: completed milestones whose window has passed are accepted."""
    with unit_of_work(ctx) as uow:
        due = [str(milestone.milestone_id) for milestone in uow.milestones.completed_due(cmd.today)]
        for milestone_id in due:
            _move(uow, milestone_id, lambda m: m.accept_passively(cmd.today, clock.now()))
        uow.commit()
    return due
