"""Delivery: approved time and expenses in bulk, and the decisions people take on single
items (approve, reject, hold over a cap, release, write off, correct a time entry); the
time-entry list is in delivery_reads.py.

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
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter

from application import commands as c
from application.context import RequestContext
from application.handlers.delivery import IngestionReport
from domain.ids import (
    EngagementId,
    ExpenseId,
    ObligationId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.time_entry import ExpenseItem, TimeEntry
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    CurrencyCode,
    DecimalString,
    Id,
    IdempotencyKey,
    Text,
    documented,
    permission,
    to_decimal,
    to_money,
)
from entrypoints.http.routes.delivery_reads import list_time_entries
from entrypoints.http.runtime import (
    execute,
    principal_of,
    services_of,
)

MAX_ITEMS = 1_000
COST = "rates:read_cost"

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def _example(summary: str, value: dict[str, Any]) -> Any:
    return Body(examples=[Example(summary=summary, value=value)])


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


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class HoldBody(msgspec.Struct, forbid_unknown_fields=True):
    quantity: DecimalString
    reason: Text


class WriteOffBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text
    #: Omitted: the held quantity.
    quantity: DecimalString | None = None


class CorrectionBody(msgspec.Struct, forbid_unknown_fields=True):
    """Why, and what changes: at least one of hours, task_id and billable (the rest stays)."""

    reason: Text
    hours: DecimalString | None = None
    task_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    billable: bool | None = None


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


class CorrectedTimeEntryOut(msgspec.Struct):
    """A time entry as it stands after a correction."""

    entry_id: str
    obligation_id: str
    resource_id: str
    work_date: date
    hours: str
    task_id: str
    billable: bool
    state: str


class ItemOut(msgspec.Struct):
    """A time entry or expense as it stands after a decision."""

    item_id: str
    kind: str  # time_entry | expense
    obligation_id: str
    state: str
    quantity: str
    held: str
    released: str
    written_off: str
    rejection_reason: str | None


def decimal_text(value: Decimal) -> str:
    """A quantity as a plain decimal string without trailing zeros: `2`, not `2.000000`."""
    return format(value.normalize(), "f")


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


def item_out(item: TimeEntry | ExpenseItem) -> ItemOut:
    return ItemOut(
        item_id=item.item_id,
        kind="time_entry" if isinstance(item, TimeEntry) else "expense",
        obligation_id=item.obligation_id,
        state=item.state.value,
        quantity=decimal_text(item.quantity),
        held=decimal_text(item.held),
        released=decimal_text(item.released),
        written_off=decimal_text(item.written_off),
        rejection_reason=item.rejection_reason,
    )


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
    data: Annotated[TimeEntriesBody, _example("one approved entry", _TIME_EXAMPLE)],
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
    command = c.RecordTimeEntries(
        tuple(
            c.TimeEntryInput(
                entry_id=TimeEntryId(e.entry_id),
                engagement_id=EngagementId(e.engagement_id),
                obligation_id=ObligationId(e.obligation_id),
                resource_id=ResourceId(e.resource_id),
                role=Role(e.role),
                work_date=e.work_date,
                hours=to_decimal(e.hours, f"/entries/{n}/hours"),
                task_id=TaskId(e.task_id),
                billable=e.billable,
                cost_rate=None
                if e.cost_rate is None
                else to_decimal(e.cost_rate, f"/entries/{n}/cost_rate"),
            )
            for n, e in enumerate(data.entries)
        ),
        approved_by=data.approved_by,
    )

    def run(ctx: RequestContext) -> tuple[int, object]:
        report: IngestionReport = services.bus.handle(command, ctx)
        results = [
            TimeEntryResult(*row) for row in _statuses([e.entry_id for e in data.entries], report)
        ]
        return 200, TimeEntriesOut(_counts(report), results)

    return execute(request, data, run)


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
    data: Annotated[ExpensesBody, _example("one approved expense", _EXPENSE_EXAMPLE)],
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

    return execute(request, data, run)


ItemPath = Annotated[
    str,
    Parameter(
        description="A time entry id or an expense id.",
        examples=[Example(summary="a time entry", value="PSA-88231")],
    ),
]


def _act(
    request: Request[Any, Any, Any], item_id: str, body: object, command: object
) -> Response[ItemOut]:
    """Run an item command and answer with the item as it now stands."""
    services = services_of(request)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        with services.reader(ctx) as uow:
            item = uow.delivery.time_entry(item_id) or uow.delivery.expense(item_id)
        if item is None:  # pragma: no cover - the command found it a moment ago
            raise Problem("not-found", f"there is no time entry or expense {item_id}")
        return 200, item_out(item)

    return execute(request, body, run)


_ITEM_PROBLEMS = (*WRITE_PROBLEMS, "business-rule", "request-in-progress")


@post(
    "/items/{item_id:str}/approve",
    opt=permission("delivery:approve"),
    tags=["delivery"],
    summary="Approve a submitted time entry or expense",
    responses=documented(*_ITEM_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def approve_item(
    request: Request[Any, Any, Any], item_id: ItemPath, idempotency_key: IdempotencyKey
) -> Response[ItemOut]:
    return _act(request, item_id, None, c.ApproveItem(item_id))


@post(
    "/items/{item_id:str}/reject",
    opt=permission("delivery:approve"),
    tags=["delivery"],
    summary="Reject a submitted time entry or expense, with a reason",
    responses=documented(*_ITEM_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def reject_item(
    request: Request[Any, Any, Any],
    item_id: ItemPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[ReasonBody, _example("not on this project", {"reason": "wrong_project"})],
) -> Response[ItemOut]:
    return _act(request, item_id, data, c.RejectItem(item_id, data.reason))


@post(
    "/items/{item_id:str}/hold",
    opt=permission("delivery:approve"),
    tags=["delivery"],
    summary="Hold a quantity of an approved item until someone releases or writes it off",
    responses=documented(*_ITEM_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def hold_item(
    request: Request[Any, Any, Any],
    item_id: ItemPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        HoldBody, _example("2 h over the cap", {"quantity": "2", "reason": "over_cap"})
    ],
) -> Response[ItemOut]:
    quantity = to_decimal(data.quantity, "/quantity")
    return _act(request, item_id, data, c.HoldItem(item_id, quantity, data.reason))


@post(
    "/items/{item_id:str}/release",
    opt=permission("delivery:approve"),
    tags=["delivery"],
    summary="Release an item's held quantity for billing beyond the cap",
    responses=documented(*_ITEM_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def release_item(
    request: Request[Any, Any, Any], item_id: ItemPath, idempotency_key: IdempotencyKey
) -> Response[ItemOut]:
    return _act(request, item_id, None, c.ReleaseHeldItem(item_id))


@post(
    "/items/{item_id:str}/write-off",
    opt=permission("delivery:approve"),
    tags=["delivery"],
    summary="Write off an item's held quantity (or a given quantity) as leakage",
    responses=documented(*_ITEM_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def write_off_item(
    request: Request[Any, Any, Any],
    item_id: ItemPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[WriteOffBody, _example("the held hours", {"reason": "goodwill: over the cap"})],
) -> Response[ItemOut]:
    quantity = None if data.quantity is None else to_decimal(data.quantity, "/quantity")
    return _act(request, item_id, data, c.WriteOffItem(item_id, data.reason, quantity))


EntryPath = Annotated[
    str,
    Parameter(
        description="The time entry's id (as the PSA or time app numbered it).",
        examples=[Example(summary="a time entry", value="PSA-88231")],
    ),
]

_CORRECTION_EXAMPLE = {"hours": "6.5", "reason": "PSA timesheet corrected by the consultant"}


@post(
    "/time-entries/{entry_id:str}/correct",
    opt=permission("delivery:write"),
    tags=["delivery"],
    summary="Correct an unbilled time entry's hours, task or billable flag, with a reason",
    description=(
        "The explicit, audited way to change a recorded entry (a re-send with other values is "
        "an `entry_conflict`). Give a reason and at least one of `hours`, `task_id`, "
        "`billable`. The new hours meet the plausibility rules and the person's day like a "
        "new entry. An entry already billed (even partly) is refused: billed hours are "
        "corrected by a credit memo, which releases them. The audit trail keeps before, "
        "after and the reason; a `TimeEntryCorrected` event goes to the outbox."
    ),
    responses=documented(*_ITEM_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def correct_time_entry(
    request: Request[Any, Any, Any],
    entry_id: EntryPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[CorrectionBody, _example("fewer hours", _CORRECTION_EXAMPLE)],
) -> Response[CorrectedTimeEntryOut]:
    if data.hours is None and data.task_id is None and data.billable is None:
        raise Problem(
            "validation-error",
            "a correction changes at least one of hours, task_id and billable",
            errors=[FieldError("", "give hours, task_id or billable")],
        )
    command = c.CorrectTimeEntry(
        TimeEntryId(entry_id),
        data.reason,
        hours=None if data.hours is None else to_decimal(data.hours, "/hours"),
        task_id=None if data.task_id is None else TaskId(data.task_id),
        billable=data.billable,
    )
    services = services_of(request)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        with services.reader(ctx) as uow:
            entry = uow.delivery.time_entry(entry_id)
        if entry is None:  # pragma: no cover - the command found it a moment ago
            raise Problem("not-found", f"there is no time entry {entry_id}")
        return 200, CorrectedTimeEntryOut(
            entry_id=entry.entry_id,
            obligation_id=entry.obligation_id,
            resource_id=entry.resource_id,
            work_date=entry.work_date,
            hours=decimal_text(entry.hours),
            task_id=entry.task_id,
            billable=entry.billable,
            state=entry.state.value,
        )

    return execute(request, data, run)


#: GET (delivery_reads.py) and POST /time-entries are registered together, as one router:
#: Litestar registers the handlers already on a path again when another method joins it
#: later, and wraps a `sync_to_thread` handler a second time (its response then is an
#: un-awaited coroutine).
ROUTES: list[Any] = [
    Router(path="/", route_handlers=[record_time_entries, list_time_entries]),
    record_expenses,
    approve_item,
    reject_item,
    hold_item,
    release_item,
    write_off_item,
    correct_time_entry,
]
