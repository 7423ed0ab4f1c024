"""Revenue positions per obligation: what each has earned, what it has billed, and the gap.

Each billing model says how much revenue its obligation has earned cumulatively through a date
(`BillingModel.recognise`); this module only dispatches to it and does the arithmetic around
it. A period's revenue is a cumulative catch-up: earned through the period's last day minus
earned through the day before it started, so a change of estimate lands in the period that
learns of it and never rewrites a closed one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from domain.billing import ObligationHistory
from domain.errors import CurrencyMismatchError, DomainError
from domain.ids import ObligationId
from domain.ledger import ObligationBalance
from domain.money import Currency, Money, money_sum
from domain.obligation import RevenueContext, billing_model_for
from domain.period import Period

#: An obligation's revenue position is the same value the ledger posts from: one class.
RevenuePosition = ObligationBalance


def recognised_to_date(history: ObligationHistory[Any], ctx: RevenueContext) -> Money:
    """Cumulative revenue the obligation has earned through `ctx.as_of`, per its billing model."""
    model = billing_model_for(history.latest.terms)
    earned = model.recognise(history, ctx)
    if earned.currency != ctx.currency:
        raise CurrencyMismatchError(
            f"the {model.name} model recognised {earned.currency} for obligation "
            f"{history.obligation_id}, whose revenue is in {ctx.currency}"
        )
    if earned.quantized() != earned:
        raise DomainError(
            f"the {model.name} model recognised {earned.amount} {earned.currency} for "
            f"obligation {history.obligation_id}: not a whole number of minor units"
        )
    return earned


def recognition_for_period(
    history: ObligationHistory[Any],
    ctx_before_start: RevenueContext,
    ctx_at_end: RevenueContext,
) -> Money:
    """Cumulative catch-up: earned through the period's end minus earned through the day before
    it starts (negative when an estimate fell)."""
    if ctx_before_start.as_of >= ctx_at_end.as_of:
        raise DomainError(
            f"revenue for a period runs from the day before it starts "
            f"({ctx_before_start.as_of}) to a later end ({ctx_at_end.as_of})"
        )
    return recognised_to_date(history, ctx_at_end) - recognised_to_date(history, ctx_before_start)


def recognition_in(history: ObligationHistory[Any], period: Period, ctx: RevenueContext) -> Money:
    """Revenue for one period, reading the same delivered items as of its two boundaries."""
    before_start = attrs.evolve(ctx, as_of=period.start - timedelta(days=1))
    at_end = attrs.evolve(ctx, as_of=period.end)
    return recognition_for_period(history, before_start, at_end)


def positions(
    histories: Iterable[ObligationHistory[Any]],
    ctx: RevenueContext,
    billed_by_obligation: Mapping[ObligationId, Money],
) -> list[RevenuePosition]:
    """Each obligation's recognised and billed amounts as of `ctx.as_of`, in the order given;
    an obligation with nothing billed has billed zero."""
    result: list[RevenuePosition] = []
    seen: set[ObligationId] = set()
    for history in histories:
        oid = history.obligation_id
        if oid in seen:
            raise DomainError(f"obligation {oid} appears twice")
        seen.add(oid)
        billed = billed_by_obligation.get(oid, Money.zero(ctx.currency))
        result.append(RevenuePosition(oid, recognised_to_date(history, ctx), billed))
    strays = sorted(set(billed_by_obligation) - seen)
    if strays:
        raise DomainError(
            f"billed amounts were given for obligations with no terms: {', '.join(strays)}"
        )
    return result


@attrs.frozen
class RevenueSummary:
    """Totals over obligations in one currency. WIP and deferred are summed per obligation,
    never netted across obligations, so both can be positive here."""

    currency: Currency
    recognised: Money
    billed: Money
    unbilled_wip: Money
    deferred: Money

    @classmethod
    def of(cls, items: Iterable[RevenuePosition], currency: Currency) -> RevenueSummary:
        """Add up the positions of obligations in one currency."""
        listed = tuple(items)
        return cls(
            currency,
            money_sum((p.recognised for p in listed), currency),
            money_sum((p.billed for p in listed), currency),
            money_sum((p.unbilled_wip for p in listed), currency),
            money_sum((p.deferred for p in listed), currency),
        )
