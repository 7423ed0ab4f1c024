"""Delivery: approved time and expenses in bulk; the decisions people take on single items
are in delivery_items.py, the time-entry list in delivery_reads.py.

A batch answers 200 with one result per item in the order sent: `accepted`, `duplicate` (its
id is already recorded with the same content; nothing changes) or `rejected` with a reason
code (`entry_conflict` / `expense_conflict` when the id is recorded with other content; the
plausibility rules of ADR 0025 have their own codes). Cost rates are property-protected both
ways: only principals with `rates:read_cost` see them in the list, and only they may send them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, post

from application import commands as c
from application.context import RequestContext
from application.handlers.delivery import IngestionReport
from domain.ids import (
    EngagementId,
    ExpenseId,
    ObligationId,
    ResourceId,
)
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.batch_outcomes import accepted_whole
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    CurrencyCode,
    DecimalString,
    Id,
    IdempotencyKey,
    documented,
    permission,
    to_money,
)
from entrypoints.http.routes.delivery_items import ITEM_ROUTES
from entrypoints.http.routes.delivery_reads import list_time_entries
from entrypoints.http.routes.delivery_text import body_example
from entrypoints.http.runtime import (
    execute,
    principal_of,
    services_of,
)

MAX_ITEMS = 1_000
COST = "rates:read_cost"

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


# -- requests ---------------------------------------------------------------------------------


class TimeEntryIn(msgspec.Struct, forbid_unknown_fields=True):
    """One time entry the PSA approved."""

    entry_id: Id
    engagement_id: Id
    obligation_id: Id
    resource_id: Id
    role: Name
    work_date: date
    hours: DecimalString
    task_id: Annotated[str, msgspec.Meta(max_length=100)] = ""
    billable: bool = True
    #: Hourly cost in the contract's currency; only principals with `rates:read_cost` send it.
    cost_rate: DecimalString | None = None


class TimeEntriesBody(msgspec.Struct, forbid_unknown_fields=True):
    entries: Annotated[list[TimeEntryIn], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]
    #: Who approved the entries in the PSA (kept in the audit trail).
    approved_by: Name = "psa"


class ExpenseIn(msgspec.Struct, forbid_unknown_fields=True):
    """One approved expense: its amount in the contract's currency."""

    expense_id: Id
    engagement_id: Id
    obligation_id: Id
    resource_id: Id
    category: Name
    incurred_on: date
    amount: DecimalString
    currency: CurrencyCode
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ExpensesBody(msgspec.Struct, forbid_unknown_fields=True):
    items: Annotated[list[ExpenseIn], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]
    approved_by: Name = "expenses"


# -- responses --------------------------------------------------------------------------------


class TimeEntryResult(msgspec.Struct):
    entry_id: str
    status: str  # accepted | duplicate | rejected
    reason_code: str | None
    detail: str | None


class ExpenseResult(msgspec.Struct):
    expense_id: str
    status: str
    reason_code: str | None
    detail: str | None


class BatchCounts(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: int


class TimeEntriesOut(msgspec.Struct):
    counts: BatchCounts
    results: list[TimeEntryResult]


class ExpensesOut(msgspec.Struct):
    counts: BatchCounts
    results: list[ExpenseResult]


def _statuses(
    ids: Sequence[str], report: IngestionReport
) -> list[tuple[str, str, str | None, str | None]]:
    """One (id, status, reason, detail) per item sent, in order: the first occurrence of an id
    carries its outcome; a repeat of it in the batch is a duplicate, or rejected when the
    report names its position (it says something else than the first)."""
    accepted = set(report.accepted)
    at = {r.position: r for r in report.rejected if r.position is not None}
    rejected = {r.item_id: r for r in report.rejected if r.position is None}
    seen: Counter[str] = Counter()
    out = []
    for position, item_id in enumerate(ids):
        seen[item_id] += 1
        if position in at:
            why = at[position]
            out.append((item_id, "rejected", why.reason_code, why.detail))
        elif seen[item_id] == 1 and item_id in accepted:
            out.append((item_id, "accepted", None, None))
        elif seen[item_id] == 1 and item_id in rejected:
            why = rejected[item_id]
            out.append((item_id, "rejected", why.reason_code, why.detail))
        else:
            out.append((item_id, "duplicate", None, None))
    return out


def _counts(report: IngestionReport) -> BatchCounts:
    return BatchCounts(len(report.accepted), len(report.duplicates), len(report.rejected))


# -- routes -----------------------------------------------------------------------------------

_TIME_EXAMPLE = {
    "entries": [
        {
            "entry_id": "PSA-88231",
            "engagement_id": "E1",
            "obligation_id": "tm",
            "resource_id": "r-ana",
            "role": "consultant",
            "work_date": "2026-03-02",
            "hours": "7.5",
            "task_id": "T-100",
        }
    ],
    "approved_by": "pm.jones",
}


@post(
    "/time-entries",
    opt=permission("delivery:write"),
    tags=["delivery"],
    summary="Record a batch of approved time entries (each accepted, duplicate or rejected)",
    description=(
        "At most 1,000 entries. Each entry is validated against its contract (engagement "
        "active, date inside the contract, obligation, rate, caps) and the plausibility rules "
        "(hours positive with at most two decimals, a person's day at most 24 h across every "
        "batch, no work date beyond the future tolerance), in billing order (work date, then "
        "id), and answered with its own status. A re-sent entry id with the same content is a "
        "`duplicate` and changes nothing; with other content it is rejected as "
        "`entry_conflict`, naming the fields (a change goes through "
        "`POST /time-entries/{entry_id}/correct`). `cost_rate` may be sent only by principals "
        "with `rates:read_cost`."
    ),
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def record_time_entries(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[TimeEntriesBody, body_example("one approved entry", _TIME_EXAMPLE)],
) -> Response[TimeEntriesOut]:
    services = services_of(request)
    principal = principal_of(request)
    costed = [n for n, e in enumerate(data.entries) if e.cost_rate is not None]
    if costed and not principal.may(COST):
        raise Problem(
            "forbidden",
            f"sending cost_rate needs the permission {COST!r}",
            errors=[FieldError(f"/entries/{n}/cost_rate", "not yours to set") for n in costed],
        )
    if len(data.entries) > services.limits.max_batch_items:
        raise Problem(
            "validation-error",
            f"a batch holds at most {services.limits.max_batch_items} entries",
            errors=[FieldError("/entries", "too many items")],
        )
    # Positional, in TimeEntryInput's field order, and no pointer text per entry: this runs
    # for every entry of a batch. `hours` and `cost_rate` are DecimalStrings, whose pattern
    # admits only decimals, so `Decimal` takes each as it is, once per distinct text (a batch
    # repeats its hours). The ids are passed as the text they are: their NewTypes are a call
    # per value that returns it unchanged.
    hours = {text: Decimal(text) for text in {e.hours for e in data.entries}}
    command = c.RecordTimeEntries(
        tuple(
            [
                c.TimeEntryInput(
                    e.entry_id,  # type: ignore[arg-type]
                    e.engagement_id,  # type: ignore[arg-type]
                    e.obligation_id,  # type: ignore[arg-type]
                    e.resource_id,  # type: ignore[arg-type]
                    e.role,  # type: ignore[arg-type]
                    e.work_date,
                    hours[e.hours],
                    e.task_id,  # type: ignore[arg-type]
                    e.billable,
                    None if e.cost_rate is None else Decimal(e.cost_rate),
                )
                for e in data.entries
            ]
        ),
        approved_by=data.approved_by,
    )

    def run(ctx: RequestContext) -> tuple[int, object]:
        report: IngestionReport = services.bus.handle(command, ctx)
        ids = [e.entry_id for e in data.entries]
        if accepted_whole(ids, report):
            results = [TimeEntryResult(i, "accepted", None, None) for i in ids]
        else:
            results = [TimeEntryResult(*row) for row in _statuses(ids, report)]
        return 200, TimeEntriesOut(_counts(report), results)

    return execute(request, data, run, answer_in_transaction=True)


_EXPENSE_EXAMPLE = {
    "items": [
        {
            "expense_id": "EXP-4410",
            "engagement_id": "E1",
            "obligation_id": "tm",
            "resource_id": "r-ana",
            "category": "travel",
            "incurred_on": "2026-03-04",
            "amount": "212.40",
            "currency": "EUR",
            "description": "Train to the client site",
        }
    ]
}


@post(
    "/expenses",
    opt=permission("delivery:write"),
    tags=["delivery"],
    summary="Record a batch of approved expenses (each accepted, duplicate or rejected)",
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def record_expenses(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[ExpensesBody, body_example("one approved expense", _EXPENSE_EXAMPLE)],
) -> Response[ExpensesOut]:
    services = services_of(request)
    if len(data.items) > services.limits.max_batch_items:
        raise Problem(
            "validation-error",
            f"a batch holds at most {services.limits.max_batch_items} items",
            errors=[FieldError("/items", "too many items")],
        )
    command = c.RecordExpenses(
        tuple(
            c.ExpenseInput(
                expense_id=ExpenseId(x.expense_id),
                engagement_id=EngagementId(x.engagement_id),
                obligation_id=ObligationId(x.obligation_id),
                resource_id=ResourceId(x.resource_id),
                category=x.category,
                incurred_on=x.incurred_on,
                cost=to_money(x.amount, x.currency, f"/items/{n}/amount"),
                description=x.description,
            )
            for n, x in enumerate(data.items)
        ),
        approved_by=data.approved_by,
    )

    def run(ctx: RequestContext) -> tuple[int, object]:
        report: IngestionReport = services.bus.handle(command, ctx)
        results = [
            ExpenseResult(*row) for row in _statuses([x.expense_id for x in data.items], report)
        ]
        return 200, ExpensesOut(_counts(report), results)

    return execute(request, data, run, answer_in_transaction=True)


#: GET (delivery_reads.py) and POST /time-entries are registered together, as one router:
#: Litestar registers the handlers already on a path again when another method joins it
#: later, and wraps a `sync_to_thread` handler a second time (its response then is an
#: un-awaited coroutine).
ROUTES: list[Any] = [
    Router(path="/", route_handlers=[record_time_entries, list_time_entries]),
    record_expenses,
    *ITEM_ROUTES,
]
