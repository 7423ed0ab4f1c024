"""Revenue, balances and accounting periods.

- A revenue run posts each obligation's cumulative catch-up for a month (run twice, it posts
  nothing the second time).
- An engagement's balances as of a month end: recognised, billed, unbilled WIP, deferred
  revenue and backlog per obligation and in total; cost and margin only for principals with
  `rates:read_cost` (for everyone else the keys are absent).
- Periods close once their last day has come; reopening is a separate permission and always
  gives a reason. Nothing dated in a closed period is posted, by anyone (422 `period-closed`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.balances import EngagementBalances, ObligationBalances
from application.queries.paging import PageRequest
from domain.accounting_period import AccountingPeriod, PeriodState
from domain.money import Money
from entrypoints.http.routes.common import (
    MONTH,
    RULED_WRITE_PROBLEMS,
    IdempotencyKey,
    MoneyOut,
    Month,
    Text,
    money_out,
    or_not_found,
    out_of,
    to_period,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    optional_query,
    path_param,
    respond_after,
    state_query,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import (
    finance_of,
    principal_of,
    services_of,
    viewer_of,
)
from entrypoints.http.security import Principal

COST = "rates:read_cost"

MonthPath = Annotated[
    str,
    path_param(
        "The accounting period, a calendar month YYYY-MM.", "March 2026", "2026-03", pattern=MONTH
    ),
]


# -- revenue ----------------------------------------------------------------------------------


class RevenueRunBody(msgspec.Struct, forbid_unknown_fields=True):
    period: Month


class RecognisedOut(msgspec.Struct):
    obligation_id: str
    revenue: MoneyOut


class HeldOut(msgspec.Struct):
    contract_id: str
    legal_entity_id: str
    reason: str
    detail: str


class RevenueRunOut(msgspec.Struct):
    period: str
    posted_on: date
    #: What this run posted per obligation (empty when the books were already up to date).
    posted: list[RecognisedOut]
    #: Contracts whose revenue was not posted because their legal entity has no chart of
    #: accounts; the first run after the chart is added posts what they earned.
    held: list[HeldOut]


_REVENUE = RouteFamily("revenue", "revenue:run")
_PERIODS = RouteFamily("periods", "periods:read")


@_REVENUE.post(
    "/revenue-runs",
    "Recognise a month's revenue: each obligation's cumulative catch-up",
    *RULED_WRITE_PROBLEMS,
    "period-closed",
    description=(
        "Posts, dated the month's last day, what each obligation earned through that day less "
        "what the journal already recognised. A second run of the same month posts nothing. "
        "A month that has not begun, or one that ends before revenue was last recognised "
        "(it would reverse what was recognised since), is 422 and posts nothing. A contract "
        "whose legal entity has no chart of accounts is listed in `held` and the others are "
        "posted; the first run after the chart is added catches it up."
    ),
)
def run_revenue(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[RevenueRunBody, body_example("March", {"period": "2026-03"})],
) -> Response[RevenueRunOut]:
    period = to_period(data.period)

    def answer(run: c.RevenueRun) -> RevenueRunOut:
        rows = [RecognisedOut(oid, money_out(run.posted[oid])) for oid in sorted(run.posted)]
        held = [
            HeldOut(h.contract_id, h.legal_entity_id, "no_chart_of_accounts", h.detail)
            for h in run.held
        ]
        return RevenueRunOut(period.key, period.end, rows, held)

    return respond_after(request, data, c.RecogniseRevenue(period), answer)


# -- balances ---------------------------------------------------------------------------------


class ObligationBalancesOut(msgspec.Struct, omit_defaults=True):
    obligation_id: str
    name: str
    model: str
    recognised: MoneyOut
    billed: MoneyOut
    unbilled_wip: MoneyOut
    deferred_revenue: MoneyOut
    #: What the terms are worth in total; null when they fix no value (e.g. uncapped T&M).
    contract_value: MoneyOut | None
    backlog: MoneyOut | None
    cost: MoneyOut | msgspec.UnsetType = msgspec.UNSET
    margin: MoneyOut | msgspec.UnsetType = msgspec.UNSET
    uncosted_hours: str | msgspec.UnsetType = msgspec.UNSET


class BalancesOut(msgspec.Struct, omit_defaults=True):
    engagement_id: str
    customer_id: str
    contract_id: str
    currency: str
    as_of: date
    recognised: MoneyOut
    billed: MoneyOut
    unbilled_wip: MoneyOut
    deferred_revenue: MoneyOut
    #: Null unless every obligation's terms fix a value.
    backlog: MoneyOut | None
    obligations: list[ObligationBalancesOut]
    cost: MoneyOut | msgspec.UnsetType = msgspec.UNSET
    margin: MoneyOut | msgspec.UnsetType = msgspec.UNSET
    #: Margin as a percentage of recognised revenue; null before anything is recognised.
    margin_percent: str | msgspec.UnsetType | None = msgspec.UNSET
    #: Hours delivered without a cost rate: the cost leaves them out rather than guess.
    uncosted_hours: str | msgspec.UnsetType = msgspec.UNSET


def _amount(value: Money) -> MoneyOut:
    """Balances are in whole minor units: written with all of them (`0.00`, not `0`)."""
    return money_out(value)


def _maybe(value: Money | None) -> MoneyOut | None:
    return None if value is None else _amount(value)


def _figures(of: ObligationBalances | EngagementBalances) -> dict[str, MoneyOut]:
    """The four balances an engagement and each of its obligations show."""
    return {
        "recognised": _amount(of.recognised),
        "billed": _amount(of.billed),
        "unbilled_wip": _amount(of.unbilled_wip),
        "deferred_revenue": _amount(of.deferred),
    }


def _obligation(row: ObligationBalances, costed: bool) -> ObligationBalancesOut:
    out = out_of(
        ObligationBalancesOut,
        row,
        **_figures(row),
        contract_value=_maybe(row.contract_value),
        backlog=_maybe(row.backlog),
    )
    if costed:
        out.cost = _amount(row.cost)
        out.margin = _amount(row.recognised - row.cost)
        out.uncosted_hours = str(row.uncosted_hours)
    return out


def balances_out(found: EngagementBalances, principal: Principal) -> BalancesOut:
    costed = principal.may(COST)
    out = out_of(
        BalancesOut,
        found,
        currency=found.currency.code,
        **_figures(found),
        backlog=_maybe(found.backlog),
        obligations=[_obligation(row, costed) for row in found.obligations],
    )
    if costed:
        percent = found.margin_percent
        out.cost = _amount(found.cost)
        out.margin = _amount(found.margin)
        out.margin_percent = None if percent is None else str(percent)
        out.uncosted_hours = str(found.uncosted_hours)
    return out


@_REVENUE.get(
    "/engagements/{engagement_id:str}/balances",
    "An engagement's WIP, deferred revenue, backlog, revenue and billing as of a month",
    "not-found",
    permission="revenue:read",
    description=(
        "From the posted journal, as of the month's last day. Cost and margin appear only for "
        "principals with `rates:read_cost`; for everyone else the keys are absent."
    ),
)
def get_balances(
    request: Request[Any, Any, Any],
    engagement_id: Annotated[
        str,
        path_param("The engagement.", "an engagement", "E1"),
    ],
    as_of: Annotated[
        str | None,
        optional_query(
            "as_of",
            "end of March 2026",
            "2026-03",
            pattern=MONTH,
            description="The month whose last day the balances are taken at (default: today's).",
        ),
    ] = None,
) -> BalancesOut:
    day = to_period(as_of).end if as_of else services_of(request).clock.now().date()
    found = finance_of(request).books.balances(engagement_id, viewer_of(request), day)
    balances = or_not_found(found, "engagement", engagement_id)
    return balances_out(balances, principal_of(request))


# -- periods ----------------------------------------------------------------------------------


class PeriodStatusOut(msgspec.Struct):
    period: str
    start: date
    end: date
    state: str
    closed_by: str | None
    closed_at: datetime | None
    reopen_reason: str | None


def period_status(period: AccountingPeriod) -> PeriodStatusOut:
    return out_of(
        PeriodStatusOut,
        period,
        period=period.period.key,
        start=period.period.start,
        end=period.period.end,
        state=period.state.value,
    )


@_PERIODS.get(
    "/periods", "Accounting periods that were ever closed, and their state (any other is open)"
)
@paged(PeriodStatusOut, period_status)
def list_periods(
    request: Request[Any, Any, Any],
    page: PageRequest,
    state_filter: Annotated[
        str | None,
        state_query(PeriodState, "closed periods", "closed"),
    ] = None,
) -> Rows:
    periods = finance_of(request).periods
    return periods.page(state_filter, page)


def _move_period(
    request: Request[Any, Any, Any], month: str, body: object, command: object
) -> Response[PeriodStatusOut]:
    """Close or reopen the month and answer with the period as it now stands."""
    periods = finance_of(request).periods
    return respond_after(
        request, body, command, lambda _: period_status(periods.period(to_period(month)))
    )


_PERIOD = Subject("month", MonthPath, PeriodStatusOut, _move_period)


@_PERIODS.post(
    "/periods/{month:str}/close",
    "Close a period whose last day has come: nothing dated in it is posted any more",
    *RULED_WRITE_PROBLEMS,
    permission="periods:close",
)
@_PERIOD.command()
def close_period(month: str) -> object:
    return c.ClosePeriod(to_period(month))


class ReopenBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


@_PERIODS.post(
    "/periods/{month:str}/reopen",
    "Reopen a closed period (its own permission; audited with the reason)",
    *RULED_WRITE_PROBLEMS,
    permission="periods:reopen",
)
@_PERIOD.command(body_example("a late supplier invoice", {"reason": "late supplier invoice"}))
def reopen_period(month: str, data: ReopenBody) -> object:
    return c.ReopenPeriod(to_period(month), data.reason)


ROUTES = [run_revenue, get_balances, list_periods, close_period, reopen_period]
