"""Employment histories and transfer pricing: validated by the domain, stored, audited."""

from __future__ import annotations

from application.context import RequestContext
from application.handlers.common import audit
from application.intercompany import (
    SetEmploymentHistory,
    SetTransferPricing,
    describe_history,
    describe_pricing,
)
from application.messagebus import Dependencies
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
