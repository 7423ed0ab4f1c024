"""The engagement's lifecycle after setup: suspend and resume, start closing and close, and
cancelling a deal whose setup has not started. Each move is one transition with its reason,
audited from the engagement's event at commit; the domain refuses a move its state does not
allow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from application import commands as c
from application.context import RequestContext
from application.handlers.billing_run import BillingRunResult
from application.messagebus import Dispatch, UnitOfWorkFactory
from application.ports import Clock
from application.queries.engagements import EngagementView, lifecycle_path
from domain.billing_run import AdjustmentProposal, BillingProposal, InvoiceProposal
from domain.engagement import Engagement, EngagementState
from domain.ids import EngagementId
from domain.invoice import InvoiceState
from domain.period import Period
from domain.time_entry import ItemState

Move = Callable[[Engagement, datetime], None]

EngagementMove = (
    c.SuspendEngagement | c.ResumeEngagement | c.StartClosingEngagement | c.CancelEngagement
)

#: Each lifecycle command as the transition it makes: suspending and cancelling need a stated
#: reason, closing starts from a close date. Closing itself is `close_engagement`.
MOVES: dict[type, Callable[[Any, Engagement, datetime], None]] = {
    c.SuspendEngagement: lambda cmd, e, at: e.suspend(cmd.reason, at),
    c.ResumeEngagement: lambda _, e, at: e.resume(at),
    c.StartClosingEngagement: lambda cmd, e, at: e.start_closing(cmd.close_date, at),
    c.CancelEngagement: lambda cmd, e, at: e.cancel(cmd.reason, at),
}

#: Items that still wait for someone: approval, or a decision on a hold over a cap.
UNDECIDED = (ItemState.SUBMITTED, ItemState.HELD)
#: Documents a run drafted that are still to be issued (or discarded, which unbills them).
UNISSUED = (InvoiceState.DRAFT, InvoiceState.APPROVED)


def move_engagement(
    cmd: EngagementMove, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> EngagementView:
    """A lifecycle command moves its engagement as `MOVES` says, or is refused by its state."""
    move: Move = lambda e, at: MOVES[type(cmd)](cmd, e, at)  # noqa: E731
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, move)


def close_engagement(
    cmd: c.CloseEngagement,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> EngagementView:
    """A closing engagement closes once its final billing is done: a dry run of its contract
    through the final billing day proposes nothing, and no item of it waits for approval or
    for a decision on a hold (ADR 0079). The check reads before the move's transaction."""
    pending = _still_to_bill(cmd.engagement_id, ctx, unit_of_work, clock, dispatch)
    move: Move = lambda e, at: e.close(at, pending)  # noqa: E731
    return _change_engagement(unit_of_work, ctx, clock, cmd.engagement_id, move)


def _still_to_bill(
    engagement_id: EngagementId,
    ctx: RequestContext,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> list[str]:
    """What keeps the engagement's final billing from being done, said for whoever closes it
    (nothing when it is not closing: the domain then refuses the move by its state)."""
    with unit_of_work(ctx) as uow:
        engagement = uow.engagements.get(engagement_id)
        if engagement.state is not EngagementState.CLOSING:
            return []
        oids = uow.contracts.get(engagement.contract_id).obligation_ids()
        items = [*uow.delivery.time_entries_for(oids), *uow.delivery.expenses_for(oids)]
        unissued = [
            i.invoice_id
            for i in uow.invoices.for_contracts([engagement.contract_id])
            if i.state in UNISSUED
        ]
    period = Period.month_of(engagement.final_billing_day(clock.now().date()))
    run = c.RunBilling(period, dry_run=True, contract_ids=(engagement.contract_id,))
    result = cast(BillingRunResult, dispatch(run, ctx))
    left = _what_is_left(result.proposal, [i for i in items if i.state in UNDECIDED])
    if unissued:
        left.append(f"invoice(s) {', '.join(sorted(unissued))} are drafted and neither issued "
                    "nor discarded")  # fmt: skip
    return left


def _what_is_left(proposal: BillingProposal, undecided: Sequence[object]) -> list[str]:
    key, left = proposal.period.key, []
    documents: list[InvoiceProposal | AdjustmentProposal] = [
        *proposal.invoices,
        *proposal.adjustments,
    ]
    if documents:
        gross = ", ".join(sorted({str(d.totals.gross) for d in documents}))
        left.append(f"the billing run for {key} would still draft {len(documents)} document(s) "
                    f"({gross}): run the billing first")  # fmt: skip
    if proposal.exclusions:
        left.append(f"the billing run for {key} would still hold or write off "
                    f"{len(proposal.exclusions)} item(s) over a cap")  # fmt: skip
    left += [f"its billing for {key} is blocked: {b.detail}" for b in proposal.blocked]
    if undecided:
        left.append(f"{len(undecided)} time entr(ies) or expense(s) wait for approval or for a "
                    "decision on a hold (approve, reject, release or write them off)")  # fmt: skip
    return left


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
