"""The leakage report (ADR 0028): approved work that will never be billed, by cause, and the
value at risk beside it, per customer, engagement, contract, currency and month, with totals
per currency (currencies are never added together). Finance, finance approvers and auditors
read it; a client viewer is refused (403), as for the finance dashboard."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request

from application.leakage import LeakageQuery
from domain.leakage import (
    DEFAULT_AGED_DAYS,
    AgeBucket,
    LeakageCause,
    LeakageFigures,
)
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import (
    ID_PATTERN,
    MONTH,
    MoneyOut,
    answer,
    money_out,
    to_period,
)
from entrypoints.http.routes.declare import RouteFamily, optional_query
from entrypoints.http.runtime import finance_of, services_of

DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: The longest age limit a report takes (ten years).
MAX_AGED_DAYS = 3650


class LeakageOut(msgspec.Struct):
    over_cap: MoneyOut
    by_hand: MoneyOut
    conceded: MoneyOut
    expired_expense: MoneyOut
    total: MoneyOut


class AtRiskOut(msgspec.Struct):
    held_over_cap: MoneyOut
    aged_unbilled: dict[str, MoneyOut]
    milestones_not_invoiced: MoneyOut
    total: MoneyOut


class LeakageGroupOut(msgspec.Struct):
    customer_id: str
    engagement_id: str
    contract_id: str
    period: str
    currency: str
    leakage: LeakageOut
    at_risk: AtRiskOut


class LeakageTotalOut(msgspec.Struct):
    currency: str
    leakage: LeakageOut
    at_risk: AtRiskOut


class LeakageReportOut(msgspec.Struct):
    as_of: date
    start: date | None
    end: date
    aged_days: int
    groups: list[LeakageGroupOut]
    totals: list[LeakageTotalOut]


def _figures_out(figures: LeakageFigures) -> tuple[LeakageOut, AtRiskOut]:
    rounded = figures.quantized()
    given_up = LeakageOut(
        over_cap=money_out(rounded.leakage[LeakageCause.OVER_CAP]),
        by_hand=money_out(rounded.leakage[LeakageCause.BY_HAND]),
        conceded=money_out(rounded.leakage[LeakageCause.CONCEDED]),
        expired_expense=money_out(rounded.leakage[LeakageCause.EXPIRED_EXPENSE]),
        total=money_out(rounded.leakage_total),
    )
    at_risk = AtRiskOut(
        held_over_cap=money_out(rounded.held_over_cap),
        aged_unbilled={b.value: money_out(rounded.aged_unbilled[b]) for b in AgeBucket},
        milestones_not_invoiced=money_out(rounded.milestones_not_invoiced),
        total=money_out(rounded.at_risk_total),
    )
    return given_up, at_risk


def _eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


_LEAKAGE_EXAMPLE = {
    "over_cap": _eur("200.00"),
    "by_hand": _eur("0.00"),
    "conceded": _eur("2592.00"),
    "expired_expense": _eur("0.00"),
    "total": _eur("2792.00"),
}
_AT_RISK_EXAMPLE = {
    "held_over_cap": _eur("450.00"),
    "aged_unbilled": {
        "1-30": _eur("0.00"),
        "31-60": _eur("1440.00"),
        "61-90": _eur("0.00"),
        "over_90": _eur("0.00"),
    },
    "milestones_not_invoiced": _eur("90000.00"),
    "total": _eur("91890.00"),
}
_EXAMPLE = {
    "as_of": "2026-04-30",
    "start": "2026-03-01",
    "end": "2026-03-31",
    "aged_days": 30,
    "groups": [
        {
            "customer_id": "lumen",
            "engagement_id": "E-LUM",
            "contract_id": "C-LUM",
            "period": "2026-03",
            "currency": "EUR",
            "leakage": _LEAKAGE_EXAMPLE,
            "at_risk": _AT_RISK_EXAMPLE,
        }
    ],
    "totals": [{"currency": "EUR", "leakage": _LEAKAGE_EXAMPLE, "at_risk": _AT_RISK_EXAMPLE}],
}


def _day(text: str | None, name: str) -> date | None:
    """A `YYYY-MM-DD` query parameter, or 400 pointing at it."""
    if text is None:
        return None
    try:
        # Only the extended form: Python also reads `20260301`, which nobody should send.
        day = date.fromisoformat(text) if DAY.match(text) else None
    except ValueError:
        day = None
    if day is None:
        detail = f"{text!r} is not a day (YYYY-MM-DD)"
        raise Problem("validation-error", detail, errors=[FieldError(f"/query/{name}", detail)])
    return day


def _dates(
    period: str | None, start_text: str | None, end_text: str | None, today: date
) -> tuple[date | None, date, date]:
    """(start, end, as of) of the question; bad combinations point at the parameter."""
    start, end = _day(start_text, "from"), _day(end_text, "to")
    if period is not None and (start is not None or end is not None):
        pointer = "/query/from" if start is not None else "/query/to"
        detail = "ask for a period or for a date range (from, to), not both"
        raise Problem("validation-error", detail, errors=[FieldError(pointer, detail)])
    if period is not None:
        month = to_period(period)
        if month.start > today:
            detail = f"{period} has not started yet (today is {today})"
            raise Problem("validation-error", detail, errors=[FieldError("/query/period", detail)])
        return month.start, min(month.end, today), today
    last = today if end is None else end
    if last > today:
        detail = f"the report covers work done by today ({today}), not up to {last}"
        raise Problem("validation-error", detail, errors=[FieldError("/query/to", detail)])
    if start is not None and start > last:
        detail = f"the range starts ({start}) after it ends ({last})"
        raise Problem("validation-error", detail, errors=[FieldError("/query/from", detail)])
    return start, last, today


_DASHBOARD = RouteFamily("dashboard", "billing:read")


@_DASHBOARD.get(
    "/leakage",
    "Leakage by cause and value at risk, per engagement and month, totals per currency",
    "not-found",
    answers=answer(LeakageReportOut, _EXAMPLE),
    description=(
        "Approved work that will never be billed, by cause (`over_cap`, `by_hand`, "
        "`conceded`, `expired_expense`), and beside it the value at risk (held over a cap, "
        "approved time unbilled for more than `aged_days` days by age bucket, milestones "
        "accepted but not invoiced), as the books stand today. Each hour and each amount "
        "given up counts once. Amounts have exactly their currency's minor digits; "
        "currencies are never added together. See ADR 0028."
    ),
)
def get_leakage(
    request: Request[Any, Any, Any],
    period: Annotated[
        str | None,
        optional_query(
            "period",
            "March 2026",
            "2026-03",
            pattern=MONTH,
            description="Only work dated in this month (YYYY-MM); not with `from` or `to`.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        optional_query(
            "from",
            "from 1 January 2026",
            "2026-01-01",
            max_length=10,
            description="Only work dated on or after this day.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        optional_query(
            "to",
            "to 31 March 2026",
            "2026-03-31",
            max_length=10,
            description="Only work dated on or before this day (default and latest: today).",
        ),
    ] = None,
    customer_id: Annotated[
        str | None,
        optional_query(
            "customer_id",
            "one customer",
            "acme",
            pattern=ID_PATTERN,
            description="Only this customer's engagements.",
        ),
    ] = None,
    engagement_id: Annotated[
        str | None,
        optional_query(
            "engagement_id",
            "one engagement",
            "E1",
            pattern=ID_PATTERN,
            description="Only this engagement (404 if there is none).",
        ),
    ] = None,
    contract_id: Annotated[
        str | None,
        optional_query(
            "contract_id",
            "one contract",
            "C1",
            pattern=ID_PATTERN,
            description="Only the engagement of this contract (404 if none has it).",
        ),
    ] = None,
    aged_days: Annotated[
        int,
        optional_query(
            "aged_days",
            "a month",
            DEFAULT_AGED_DAYS,
            ge=0,
            le=MAX_AGED_DAYS,
            description=(
                f"Approved time unbilled for more than this many days is at risk "
                f"(default {DEFAULT_AGED_DAYS})."
            ),
        ),
    ] = DEFAULT_AGED_DAYS,
) -> LeakageReportOut:
    services = services_of(request)
    first, last, today = _dates(period, start, end, services.clock.now().date())
    query = LeakageQuery(
        today, first, last, customer_id, engagement_id, contract_id, aged_days=aged_days
    )
    found = finance_of(request).books.leakage(query)
    groups = []
    for key, figures in found.groups:
        given_up, at_risk = _figures_out(figures)
        groups.append(
            LeakageGroupOut(
                key.customer_id, key.engagement_id, key.contract_id, key.period.key,
                key.currency.code, given_up, at_risk,
            )
        )  # fmt: skip
    totals = []
    for currency, figures in found.totals().items():
        given_up, at_risk = _figures_out(figures)
        totals.append(LeakageTotalOut(currency.code, given_up, at_risk))
    return LeakageReportOut(found.as_of, found.start, found.end, found.aged_days, groups, totals)


ROUTES = [get_leakage]
