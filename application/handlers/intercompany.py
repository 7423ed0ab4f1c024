"""Employment histories and transfer pricing: validated by the domain, stored, audited; a
month's recharges posted to both entities' journals."""

from __future__ import annotations

from application.books import period_lock
from application.changes import RunCompleted, SettingReplaced
from application.context import RequestContext
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
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import ChartsOfAccounts, PostingScope
from domain.employment import EmploymentHistory
from domain.intercompany import IntercompanyStatement, TransferPricing


def set_employment_history(
    cmd: SetEmploymentHistory, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> EmploymentHistory:
    """A resource's history is replaced whole; the audit trail keeps the one before."""
    history = EmploymentHistory.of(cmd.resource_id, cmd.employments)
    with unit_of_work(ctx) as uow:
        before = describe_history(uow.intercompany.employment_history(cmd.resource_id))
        uow.intercompany.save_employment_history(history)
        subject, after = f"resource:{cmd.resource_id}", describe_history(history)
        uow.record(SettingReplaced(subject, "set_employment_history", before, after))
        uow.commit()
    return history


def set_transfer_pricing(
    cmd: SetTransferPricing, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> TransferPricing:
    """The transfer pricing is replaced whole; the audit trail keeps the one before."""
    pricing = TransferPricing.of(cmd.policies, cmd.default_markup_percent)
    with unit_of_work(ctx) as uow:
        before = describe_pricing(uow.intercompany.transfer_pricing())
        uow.intercompany.save_transfer_pricing(pricing)
        after = describe_pricing(pricing)
        uow.record(SettingReplaced("transfer-pricing", "set_transfer_pricing", before, after))
        uow.commit()
    return pricing


def post_intercompany_recharges(
    cmd: PostIntercompanyRecharges,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    charts: ChartsOfAccounts | None,
) -> RechargesPosted:
    """Each side's entry goes to its entity's journal and the ERP through the outbox, in one
    transaction; an entry posted before with the same amount is not posted again."""
    with unit_of_work(ctx) as uow:
        period_lock(uow).check(cmd.period.end, "post intercompany recharges")
        statement = intercompany_statement(uow, cmd.period)
        _refuse_open_exceptions(statement, cmd)
        posted, already = _post_recharges(uow, ctx, statement, clock, charts)
        if posted:
            subject, after = f"intercompany:{cmd.period.key}", f"{len(posted)} entries"
            uow.record(RunCompleted(subject, "post_recharges", after))
        uow.commit()
    return RechargesPosted(cmd.period, tuple(posted), tuple(already))


def _refuse_open_exceptions(
    statement: IntercompanyStatement, cmd: PostIntercompanyRecharges
) -> None:
    if statement.exceptions:
        raise RechargeExceptionsOpenError(
            f"{len(statement.exceptions)} time entries of {cmd.period.key} cannot be "
            "recharged (see GET /intercompany-recharges): nothing was posted"
        )


def _post_recharges(
    uow: UnitOfWork,
    ctx: RequestContext,
    statement: IntercompanyStatement,
    clock: Clock,
    charts: ChartsOfAccounts | None,
) -> tuple[list[str], list[str]]:
    """The entries posted now, and those posted before with the same amount."""
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
            post_entry(uow, ctx, clock.now(), charts, entry, scope)
            posted.append(entry.entry_id)
    return posted, already
