"""Delivery arrives in bulk: approved time and expenses, admitted by the domain's rules
(`domain.admission`, ADR 0025) and sorted out by id (`domain.resent`).

Every item is accepted or rejected with a reason code, never dropped silently. Reads are
set-based: the ids a batch names, the person-days it touches (by index), and, under a cap that
blocks overage, the obligation's time summed by role and day; its recorded entries only when
the batch could reach that cap (ADR 0041). The decisions on recorded items are in
`delivery_items.py`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TypeVar

import attrs

from application import commands as c
from application.admission_scope import StoredScope
from application.changes import RunCompleted
from application.context import RequestContext
from application.gc_pause import paused_collection
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock
from application.unit_of_work import UnitOfWork
from domain.admission import TimeAdmission, billing_order, reason_code, terms_in_force
from domain.errors import DomainError
from domain.expenses import require_contract_currency
from domain.plausibility import PlausibilityPolicy
from domain.resent import (
    ENTRY_CONFLICT,
    EXPENSE_CONFLICT,
    Rejection,
    expense_says,
    sort_out,
    time_entry_says,
)
from domain.time_entry import ExpenseItem

__all__ = ["ENTRY_CONFLICT", "EXPENSE_CONFLICT", "IngestionReport", "Rejection"]

Raw = TypeVar("Raw")
Item = TypeVar("Item")


@attrs.frozen
class IngestionReport:
    """What happened to each item of a batch."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[Rejection, ...]


def record_time_entries(
    cmd: c.RecordTimeEntries,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    plausibility: PlausibilityPolicy,
) -> IngestionReport:
    """Validate and store a batch of approved time entries in one transaction: new entries in
    billing order (work date, then id), each person's day against what is recorded for it
    plus what this batch accepted before."""
    # The cyclic collector is paused over the batch and runs once its objects are gone
    # (ADR 0055): the entries are acyclic, and reference counting frees them.
    with paused_collection():
        return _recorded_time_entries(cmd, unit_of_work(ctx), clock, plausibility)


def _recorded_time_entries(
    cmd: c.RecordTimeEntries, uow: UnitOfWork, clock: Clock, plausibility: PlausibilityPolicy
) -> IngestionReport:
    with uow:
        recorded = uow.delivery.time_entries_with_ids([e.entry_id for e in cmd.entries])
        batch = sort_out(
            cmd.entries, _entry_id, time_entry_says, recorded, ENTRY_CONFLICT, "time entry"
        )
        admission = _time_admission(uow, cmd, batch.new, plausibility, clock.now().date())
        accepted, rejected = _admitted(
            billing_order(batch.new), admission.admit, _entry_id, batch.conflicts, len(cmd.entries)
        )
        uow.delivery.add_time_entries(accepted)
        if accepted or rejected:
            uow.record(
                RunCompleted(
                    "time_entries",
                    "ingest",
                    None,
                    _summary(len(accepted), len(batch.duplicates), len(rejected), cmd.approved_by),
                )
            )
        uow.commit()
    return IngestionReport(
        tuple([e.entry_id for e in accepted]), tuple(batch.duplicates), tuple(rejected)
    )


def record_expenses(
    cmd: c.RecordExpenses,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    plausibility: PlausibilityPolicy,
) -> IngestionReport:
    """Validate and store a batch of approved expenses: dated no later than the future
    tolerance allows, inside the contract, each id recorded once."""
    now = clock.now()
    with unit_of_work(ctx) as uow:
        scope = StoredScope(uow, (x.incurred_on for x in cmd.items))
        recorded = uow.delivery.expenses_with_ids(x.expense_id for x in cmd.items)
        batch = sort_out(
            cmd.items, _expense_id, expense_says, recorded, EXPENSE_CONFLICT, "expense"
        )

        def admit(raw: c.ExpenseInput) -> ExpenseItem:
            plausibility.refuse_future(
                raw.incurred_on, now.date(), f"the date of expense {raw.expense_id}"
            )
            terms_in_force(scope, raw.engagement_id, raw.obligation_id, raw.incurred_on)
            _in_contract_currency(scope, raw)
            return _approved_expense(raw, cmd.approved_by, now)

        accepted, rejected = _admitted(
            batch.new, admit, _expense_id, batch.conflicts, len(cmd.items)
        )
        uow.delivery.add_expenses(accepted)
        uow.commit()
    return IngestionReport(
        tuple(x.expense_id for x in accepted), tuple(batch.duplicates), tuple(rejected)
    )


#: An entry's id, read in C (it is asked for every entry of a batch).
_entry_id: Callable[[c.TimeEntryInput], str] = operator.attrgetter("entry_id")


def _expense_id(raw: c.ExpenseInput) -> str:
    return raw.expense_id


def _summary(accepted: int, duplicates: int, rejected: int, approved_by: str) -> str:
    return (
        f"{accepted} accepted, {duplicates} duplicates, {rejected} rejected "
        f"(approved in the PSA by {approved_by})"
    )


def _time_admission(
    uow: UnitOfWork,
    cmd: c.RecordTimeEntries,
    new: Sequence[tuple[int, c.TimeEntryInput]],
    plausibility: PlausibilityPolicy,
    today: date,
) -> TimeAdmission:
    """The rules of this batch over what is stored: the person-days its new entries touch
    (locked on PostgreSQL), everything else read when first needed."""
    # Lists, not generators: each is walked once over thousands of entries.
    raws = [raw for _, raw in new]
    days = uow.delivery.hours_by_person_day([(r.resource_id, r.work_date) for r in raws])
    scope = StoredScope(uow, [e.work_date for e in cmd.entries])
    scope.read_engagements({raw.engagement_id for raw in raws})
    return TimeAdmission(scope, plausibility, today, days, raws)


def _in_contract_currency(scope: StoredScope, raw: c.ExpenseInput) -> None:
    engagement = scope.engagement(raw.engagement_id)
    assert engagement is not None  # terms_in_force refused an unknown one
    contract = scope.contract(engagement.contract_id)
    require_contract_currency(raw.expense_id, raw.cost, contract.contract_id, contract.currency)


def _approved_expense(raw: c.ExpenseInput, approved_by: str, now: datetime) -> ExpenseItem:
    item = ExpenseItem.submit(
        raw.expense_id,
        raw.obligation_id,
        raw.resource_id,
        raw.category,
        raw.incurred_on,
        raw.cost,
        raw.description,
    )
    item.approve(approved_by, now)
    return item


def _admitted(
    new: Iterable[tuple[int, Raw]],
    admit: Callable[[Raw], Item],
    key: Callable[[Raw], str],
    conflicts: Sequence[Rejection],
    size: int,
) -> tuple[list[Item], list[Rejection]]:
    """Each new item admitted, or refused with its rule's reason; both in batch order (of a
    batch of `size` items)."""
    # Each admitted item goes to its place in the batch as it comes (a batch is admitted in
    # another order than it came in): no pair per item and no sort of thousands of them.
    placed: list[Item | None] = [None] * size
    rejected = list(conflicts)
    for position, raw in new:
        try:
            placed[position] = admit(raw)
        except DomainError as error:
            rejected.append(Rejection(key(raw), reason_code(error), str(error), position))
    rejected.sort(key=lambda r: r.position or 0)
    return [item for item in placed if item is not None], rejected
