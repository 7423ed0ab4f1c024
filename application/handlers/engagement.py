"""The engagement's lifecycle after setup: suspend and resume, start closing and close, and
cancelling a deal whose setup has not started. Each move is one transition with its reason,
audited from the engagement's event at commit; the domain refuses a move its state does not
allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from application import commands as c
from application.context import RequestContext
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock
from application.queries.engagements import EngagementView, lifecycle_path
from domain.engagement import Engagement
from domain.ids import EngagementId

Move = Callable[[Engagement, datetime], None]

EngagementMove = (
    c.SuspendEngagement
    | c.ResumeEngagement
    | c.StartClosingEngagement
    | c.CloseEngagement
    | c.CancelEngagement
)

#: Each lifecycle command as the transition it makes: suspending and cancelling need a stated
#: reason, closing starts from a close date.
MOVES: dict[type, Callable[[Any, Engagement, datetime], None]] = {
    c.SuspendEngagement: lambda cmd, e, at: e.suspend(cmd.reason, at),
    c.ResumeEngagement: lambda _, e, at: e.resume(at),
    c.StartClosingEngagement: lambda cmd, e, at: e.start_closing(cmd.close_date, at),
    c.CloseEngagement: lambda _, e, at: e.close(at),
    c.CancelEngagement: lambda cmd, e, at: e.cancel(cmd.reason, at),
}


def move_engagement(
    cmd: EngagementMove, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> EngagementView:
    """A lifecycle command moves its engagement as `MOVES` says, or is refused by its state."""
    move: Move = lambda e, at: MOVES[type(cmd)](cmd, e, at)  # noqa: E731
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
