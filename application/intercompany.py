"""Consultant transfers and intercompany recharges (ADR 0031): the commands that set a
resource's employment history and the transfer pricing, and the query that works out a
period's recharges from what is stored.

The recharges are not stored: they are one pure function (`domain.intercompany`) of the
period's approved time, the contracts, the histories, the pricing and the period lock, so
asking twice gives the same answer and a late change shows up on the next ask.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from application.books import period_lock
from application.errors import ApplicationError, ConflictError
from application.unit_of_work import UnitOfWork
from domain.employment import Employment, EmploymentHistory
from domain.ids import ResourceId
from domain.intercompany import (
    IntercompanyStatement,
    TransferPolicy,
    TransferPricing,
    intercompany_recharges,
)
from domain.period import Period


@attrs.frozen
class SetEmploymentHistory:
    """Finance: the legal entities a resource belongs to, oldest spell first (replaces the
    history held before)."""

    resource_id: ResourceId
    employments: tuple[Employment, ...]


@attrs.frozen
class SetTransferPricing:
    """Finance: every transfer policy and the default markup (replaces those held before)."""

    policies: tuple[TransferPolicy, ...]
    default_markup_percent: Decimal | None = None


@attrs.frozen
class PostIntercompanyRecharges:
    """Finance: book a month's recharges in the journals of both entities of each pair (the
    provider's receivable and revenue, the recipient's cost and payable), exactly once."""

    period: Period


@attrs.frozen
class RechargesPosted:
    """The journal entries a posting wrote now, and those an earlier posting already wrote."""

    period: Period
    posted: tuple[str, ...]
    already_posted: tuple[str, ...]


class RechargeExceptionsOpenError(ApplicationError):
    """A month is booked whole or not at all: while some of its time cannot be recharged (no
    cost rate, no policy, no legal entity), nothing of it is posted."""

    code = "recharge_exceptions_open"


class RechargeAlreadyPostedError(ConflictError):
    """A recharge posted before no longer matches what the month's time gives now; the
    journal keeps what was posted and the difference needs an entry of its own."""

    code = "recharge_already_posted"


def describe_history(history: EmploymentHistory | None) -> str | None:
    """One line for the audit trail: `tl-de 2026-01-01..2026-03-15; tl-fr 2026-03-16..`."""
    if history is None:
        return None
    return "; ".join(
        f"{e.legal_entity_id} {e.start}..{'' if e.end is None else e.end}"
        for e in history.employments
    )


def describe_pricing(pricing: TransferPricing) -> str:
    """One line for the audit trail: `tl-de>tl-uk 10%; default 5%`."""
    parts = [f"{p.provider}>{p.recipient} {p.markup_percent}%" for p in pricing.policies]
    if pricing.default_markup_percent is not None:
        parts.append(f"default {pricing.default_markup_percent}%")
    return "; ".join(parts) or "none"


def intercompany_statement(uow: UnitOfWork, period: Period) -> IntercompanyStatement:
    """The period's recharges and exceptions from the stored time, contracts, histories and
    policies; refused when the period's last day is in a closed period."""
    lock = period_lock(uow)
    return intercompany_recharges(
        period,
        uow.delivery.time_entries_in(period),
        uow.contracts.all(),
        uow.intercompany.employment_histories(),
        uow.intercompany.transfer_pricing(),
        lock,
    )
