"""The engagement's lifecycle after setup: suspend and resume, start closing and close, and
cancelling a deal whose setup has not started. Each move is one audited transition with its
reason; the domain refuses a move its state does not allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application import commands as c
from application.context import RequestContext
from application.handlers.common import audit
from application.messagebus import Dependencies
from application.queries.engagements import EngagementView, lifecycle_path
from domain.engagement import Engagement
from domain.ids import EngagementId


def suspend_engagement(
    cmd: c.SuspendEngagement, ctx: RequestContext, deps: Dependencies
) -> EngagementView:
    return _change_engagement(
        cmd.engagement_id,
        ctx,
        deps,
        "suspend",
        lambda e, at: e.suspend(cmd.reason, at),
        cmd.reason,
    )


def resume_engagement(
    cmd: c.ResumeEngagement, ctx: RequestContext, deps: Dependencies
) -> EngagementView:
    return _change_engagement(cmd.engagement_id, ctx, deps, "resume", lambda e, at: e.resume(at))


def start_closing_engagement(
    cmd: c.StartClosingEngagement, ctx: RequestContext, deps: Dependencies
) -> EngagementView:
    return _change_engagement(
        cmd.engagement_id,
        ctx,
        deps,
        "start_closing",
        lambda e, at: e.start_closing(cmd.close_date, at),
        f"close date {cmd.close_date.isoformat()}",
    )


def close_engagement(
    cmd: c.CloseEngagement, ctx: RequestContext, deps: Dependencies
) -> EngagementView:
    return _change_engagement(cmd.engagement_id, ctx, deps, "close", lambda e, at: e.close(at))


def cancel_engagement(
    cmd: c.CancelEngagement, ctx: RequestContext, deps: Dependencies
) -> EngagementView:
    return _change_engagement(
        cmd.engagement_id,
        ctx,
        deps,
        "cancel",
        lambda e, at: e.cancel(cmd.reason, at),
        cmd.reason,
    )


def _change_engagement(
    engagement_id: EngagementId,
    ctx: RequestContext,
    deps: Dependencies,
    action: str,
    change: Callable[[Engagement, datetime], None],
    reason: str = "",
) -> EngagementView:
    """One lifecycle transition of one engagement, audited with its reason; the answer is the
    engagement as it now stands, read in the same transaction."""
    with deps.uow(ctx) as uow:
        engagement = uow.engagements.get(engagement_id)
        before = engagement.state
        subject = f"engagement:{engagement_id}"
        trail = [(r.before, r.after) for r in uow.audit.for_subject(subject)]
        change(engagement, deps.clock.now())
        audit(uow, ctx, deps, subject, action, before, engagement.state, reason.strip())
        path = lifecycle_path([*trail, (before.value, engagement.state.value)])
        view = EngagementView.of(engagement, path, uow.exceptions.open_for(subject))
        uow.commit()
    return view
