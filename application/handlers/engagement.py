"""The engagement's lifecycle after setup: suspend and resume, start closing and close, and
cancelling a deal whose setup has not started. Each move is one transition with its reason,
audited from the engagement's event at commit; the domain refuses a move its state does not
allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application import commands as c
from application.context import RequestContext
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock
from application.queries.engagements import EngagementView, lifecycle_path
from domain.engagement import Engagement
from domain.ids import EngagementId

Move = Callable[[Engagement, datetime], None]


def suspend_engagement(
    cmd: c.SuspendEngagement, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> EngagementView:
    """Only an active engagement is suspended, for a stated reason."""
    move: Move = lambda e, at: e.suspend(cmd.reason, at)  # noqa: E731
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, move)


def resume_engagement(
    cmd: c.ResumeEngagement, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> EngagementView:
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, Engagement.resume)


def start_closing_engagement(
    cmd: c.StartClosingEngagement,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> EngagementView:
    move: Move = lambda e, at: e.start_closing(cmd.close_date, at)  # noqa: E731
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, move)


def close_engagement(
    cmd: c.CloseEngagement, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> EngagementView:
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, Engagement.close)


def cancel_engagement(
    cmd: c.CancelEngagement, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> EngagementView:
    """Only a deal whose setup has not started is cancelled, for a stated reason."""
    move: Move = lambda e, at: e.cancel(cmd.reason, at)  # noqa: E731
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, move)


def _change_engagement(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    clock: Clock,
    engagement_id: EngagementId,
    move: Move,
) -> EngagementView:
    """One lifecycle transition of one engagement in one transaction; the answer is the
    engagement as it now stands, with its path, read in the same transaction."""
    with unit_of_work(ctx) as uow:
        engagement = uow.engagements.get(engagement_id)
        before = engagement.state
        subject = f"engagement:{engagement_id}"
        trail = [(r.before, r.after) for r in uow.audit.for_subject(subject)]
        move(engagement, clock.now())
        path = lifecycle_path([*trail, (before.value, engagement.state.value)])
        view = EngagementView.of(engagement, path, uow.exceptions.open_for(subject))
        uow.commit()
    return view
