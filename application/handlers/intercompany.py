"""Employment histories and transfer pricing: validated by the domain, stored, audited; a
month's recharges posted to both entities' journals."""

from __future__ import annotations

from application.books import period_lock
from application.context import RequestContext
from application.handlers.common import audit
from application.intercompany import (
    PostIntercompanyRecharges,
    RechargeAlreadyPostedError,
    RechargeExceptionsOpenError,
    RechargesPosted,
    SetEmploymentHistory,
    SetTransferPricing,
    describe_history,
    describe_pricing,
    intercompany_statement,
)
from application.journal import post_entry
from application.messagebus import Dependencies
from domain.chart_of_accounts import PostingScope
from domain.employment import EmploymentHistory
from domain.intercompany import TransferPricing


def set_employment_history(
    cmd: SetEmploymentHistory, ctx: RequestContext, deps: Dependencies
) -> EmploymentHistory:
    """A resource's history is replaced whole; the audit trail keeps the one before."""
    history = EmploymentHistory.of(cmd.resource_id, cmd.employments)
    with deps.uow(ctx) as uow:
        before = uow.intercompany.employment_history(cmd.resource_id)
        uow.intercompany.save_employment_history(history)
        audit(
            uow,
            ctx,
            deps,
            f"resource:{cmd.resource_id}",
            "set_employment_history",
            describe_history(before),
            describe_history(history),
        )
        uow.commit()
    return history


def set_transfer_pricing(
    cmd: SetTransferPricing, ctx: RequestContext, deps: Dependencies
) -> TransferPricing:
    """The transfer pricing is replaced whole; the audit trail keeps the one before."""
    pricing = TransferPricing.of(cmd.policies, cmd.default_markup_percent)
    with deps.uow(ctx) as uow:
        before = uow.intercompany.transfer_pricing()
        uow.intercompany.save_transfer_pricing(pricing)
        audit(
            uow,
            ctx,
            deps,
            "transfer-pricing",
            "set_transfer_pricing",
            describe_pricing(before),
            describe_pricing(pricing),
        )
        uow.commit()
    return pricing


def post_intercompany_recharges(
    cmd: PostIntercompanyRecharges, ctx: RequestContext, deps: Dependencies
) -> RechargesPosted:
    """Each side's entry goes to its entity's journal and the ERP through the outbox, in one
    transaction; an entry posted before with the same amount is not posted again."""
    with deps.uow(ctx) as uow:
        period_lock(uow).check(cmd.period.end, "post intercompany recharges")
        statement = intercompany_statement(uow, cmd.period)
        if statement.exceptions:
            raise RechargeExceptionsOpenError(
                f"{len(statement.exceptions)} time entries of {cmd.period.key} cannot be "
                "recharged (see GET /intercompany-recharges): nothing was posted"
            )
        posted: list[str] = []
        already: list[str] = []
        for recharge in statement.recharges:
            for posting in recharge.postings:
                entry = posting.entry
                before = uow.journal.find(entry.entry_id)
                if before is not None:
                    if before.lines != entry.lines:
                        raise RechargeAlreadyPostedError(
                            f"{entry.entry_id} was posted for another amount than the "
                            f"{recharge.amount} the month's time now gives: nothing was posted"
                        )
                    already.append(entry.entry_id)
                    continue
                scope = PostingScope(posting.legal_entity_id)
                post_entry(uow, ctx, deps.clock.now(), deps.charts, entry, scope)
                posted.append(entry.entry_id)
        if posted:
            audit(
                uow,
                ctx,
                deps,
                f"intercompany:{cmd.period.key}",
                "post_recharges",
                None,
                f"{len(posted)} entries",
            )
        uow.commit()
    return RechargesPosted(cmd.period, tuple(posted), tuple(already))
