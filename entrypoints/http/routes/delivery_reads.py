"""Delivery as people read it: an engagement's time entries, by work date, in keyset pages.

Cost rates are property-protected: only principals with `rates:read_cost` see the key at all.
A client viewer reads only its own customer's engagements (another's is 404).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request

from application.queries.delivery import TimeEntryFilter, TimeEntryView
from entrypoints.http.problems import MONTH_PATTERN
from entrypoints.http.routes.common import (
    ID_PATTERN,
    Limit,
    or_not_found,
    out_of,
    query_param,
    to_period,
)
from entrypoints.http.routes.declare import RouteFamily, optional_query
from entrypoints.http.routes.delivery_text import decimal_text, holds_text
from entrypoints.http.routes.keyset import KeysetCursor, page_out, page_request
from entrypoints.http.runtime import Page, ops_reads_of, principal_of
from entrypoints.http.security import Principal

COST = "rates:read_cost"

EngagementQuery = Annotated[
    str,
    query_param(
        "engagement_id",
        "one engagement",
        "E1",
        pattern=ID_PATTERN,
        description="The engagement whose delivery to list.",
    ),
]
PeriodQuery = Annotated[
    str | None,
    optional_query(
        "period",
        "March 2026",
        "2026-03",
        pattern=MONTH_PATTERN,
        description="Only entries worked in this month (YYYY-MM).",
    ),
]


class TimeEntryOut(msgspec.Struct, omit_defaults=True):
    entry_id: str
    engagement_id: str
    obligation_id: str
    resource_id: str
    role: str
    task_id: str
    work_date: date
    hours: str
    billable: bool
    state: str
    held: str
    released: str
    written_off: str
    rejection_reason: str | None
    #: Present only for principals with `rates:read_cost` (null when the PSA sent none).
    cost_rate: str | msgspec.UnsetType | None = msgspec.UNSET


def time_entry_out(entry: TimeEntryView, engagement_id: str, principal: Principal) -> TimeEntryOut:
    out = out_of(
        TimeEntryOut,
        entry,
        engagement_id=engagement_id,
        hours=decimal_text(entry.hours),
        **holds_text(entry),
    )
    if principal.may(COST):
        out.cost_rate = None if entry.cost_rate is None else str(entry.cost_rate)
    return out


_DELIVERY = RouteFamily("delivery", "delivery:read")


@_DELIVERY.get(
    "/time-entries",
    "List an engagement's time entries (cost rates only with rates:read_cost)",
    "not-found",
)
def list_time_entries(
    request: Request[Any, Any, Any],
    engagement_id: EngagementQuery,
    period: PeriodQuery = None,
    limit: Limit = None,
    cursor: KeysetCursor = None,
) -> Page[TimeEntryOut]:
    principal = principal_of(request)
    where = TimeEntryFilter(
        engagement_id,
        to_period(period) if period is not None else None,
        principal.customer_id if principal.scoped else None,
    )
    found = ops_reads_of(request).delivery.time_entries(where, page_request(limit, cursor))
    page = or_not_found(found, "engagement", engagement_id)
    return page_out(page, lambda e: time_entry_out(e, engagement_id, principal))
