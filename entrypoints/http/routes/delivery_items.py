"""Delivery: the decisions people take on single items (approve, reject, hold over a cap,
release, write off, correct a time entry); each answers the item as it now stands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.context import RequestContext
from domain.ids import TaskId, TimeEntryId
from domain.time_entry import ExpenseItem, TimeEntry
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    DecimalString,
    Text,
    or_not_found,
    out_of,
    to_decimal,
)
from entrypoints.http.routes.declare import RouteFamily, Subject, body_example, path_param
from entrypoints.http.routes.delivery_text import decimal_text, holds_text
from entrypoints.http.runtime import execute, services_of

# -- requests ---------------------------------------------------------------------------------


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


def item_out(item: TimeEntry | ExpenseItem) -> ItemOut:
    return out_of(
        ItemOut,
        item,
        kind="time_entry" if isinstance(item, TimeEntry) else "expense",
        state=item.state.value,
        quantity=decimal_text(item.quantity),
        **holds_text(item),
    )


def _corrected(entry: TimeEntry) -> CorrectedTimeEntryOut:
    return out_of(
        CorrectedTimeEntryOut, entry, hours=decimal_text(entry.hours), state=entry.state.value
    )


# -- routes -----------------------------------------------------------------------------------

ItemPath = Annotated[
    str,
    path_param("A time entry id or an expense id.", "a time entry", "PSA-88231"),
]


def _act(
    request: Request[Any, Any, Any],
    item_id: str,
    body: object,
    command: object,
    answer: Callable[[Any], object] = item_out,
) -> Response[Any]:
    """Run an item command and answer with what `answer` makes of the item as it now stands
    (read in the command's context, after its commit)."""
    services = services_of(request)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        with services.reader(ctx) as uow:
            item = uow.delivery.time_entry(item_id) or uow.delivery.expense(item_id)
        # The command found the item a moment ago: a 404 here is only a safeguard.
        return 200, answer(or_not_found(item, "time entry or expense", item_id))

    return execute(request, body, run)


_DELIVERY = RouteFamily("delivery", "delivery:approve")


_ITEM = Subject("item_id", ItemPath, ItemOut, _act)


@_DELIVERY.post(
    "/items/{item_id:str}/approve",
    "Approve a submitted time entry or expense",
    *RULED_WRITE_PROBLEMS,
)
@_ITEM.command()
def approve_item(item_id: str) -> object:
    return c.ApproveItem(item_id)


@_DELIVERY.post(
    "/items/{item_id:str}/reject",
    "Reject a submitted time entry or expense, with a reason",
    *RULED_WRITE_PROBLEMS,
)
@_ITEM.command(body_example("not on this project", {"reason": "wrong_project"}))
def reject_item(item_id: str, data: ReasonBody) -> object:
    return c.RejectItem(item_id, data.reason)


@_DELIVERY.post(
    "/items/{item_id:str}/hold",
    "Hold a quantity of an approved item until someone releases or writes it off",
    *RULED_WRITE_PROBLEMS,
)
@_ITEM.command(body_example("2 h over the cap", {"quantity": "2", "reason": "over_cap"}))
def hold_item(item_id: str, data: HoldBody) -> object:
    return c.HoldItem(item_id, to_decimal(data.quantity, "/quantity"), data.reason)


@_DELIVERY.post(
    "/items/{item_id:str}/release",
    "Release an item's held quantity for billing beyond the cap",
    *RULED_WRITE_PROBLEMS,
)
@_ITEM.command()
def release_item(item_id: str) -> object:
    return c.ReleaseHeldItem(item_id)


@_DELIVERY.post(
    "/items/{item_id:str}/write-off",
    "Write off an item's held quantity (or a given quantity) as leakage",
    *RULED_WRITE_PROBLEMS,
)
@_ITEM.command(body_example("the held hours", {"reason": "goodwill: over the cap"}))
def write_off_item(item_id: str, data: WriteOffBody) -> object:
    quantity = None if data.quantity is None else to_decimal(data.quantity, "/quantity")
    return c.WriteOffItem(item_id, data.reason, quantity)


EntryPath = Annotated[
    str,
    path_param(
        "The time entry's id (as the PSA or time app numbered it).", "a time entry", "PSA-88231"
    ),
]


def _correct(
    request: Request[Any, Any, Any], entry_id: str, body: object, command: object
) -> Response[Any]:
    return _act(request, entry_id, body, command, _corrected)


_ENTRY = Subject("entry_id", EntryPath, CorrectedTimeEntryOut, _correct)
_CORRECTION_EXAMPLE = {"hours": "6.5", "reason": "PSA timesheet corrected by the consultant"}


@_DELIVERY.post(
    "/time-entries/{entry_id:str}/correct",
    "Correct an unbilled time entry's hours, task or billable flag, with a reason",
    *RULED_WRITE_PROBLEMS,
    permission="delivery:write",
    description=(
        "The explicit, audited way to change a recorded entry (a re-send with other values is "
        "an `entry_conflict`). Give a reason and at least one of `hours`, `task_id`, "
        "`billable`. The new hours meet the plausibility rules and the person's day like a "
        "new entry. An entry already billed (even partly) is refused: billed hours are "
        "corrected by a credit memo, which releases them. The audit trail keeps before, "
        "after and the reason; a `TimeEntryCorrected` event goes to the outbox."
    ),
)
@_ENTRY.command(body_example("fewer hours", _CORRECTION_EXAMPLE))
def correct_time_entry(entry_id: str, data: CorrectionBody) -> object:
    if data.hours is None and data.task_id is None and data.billable is None:
        raise Problem(
            "validation-error",
            "a correction changes at least one of hours, task_id and billable",
            errors=[FieldError("", "give hours, task_id or billable")],
        )
    return c.CorrectTimeEntry(
        TimeEntryId(entry_id),
        data.reason,
        hours=None if data.hours is None else to_decimal(data.hours, "/hours"),
        task_id=None if data.task_id is None else TaskId(data.task_id),
        billable=data.billable,
    )


ITEM_ROUTES: list[Any] = [
    approve_item,
    reject_item,
    hold_item,
    release_item,
    write_off_item,
    correct_time_entry,
]
