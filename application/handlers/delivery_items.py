"""Decisions on recorded time entries and expenses: approve, reject, hold and release (one
handler over a table of decisions), write off, and the explicit, audited correction of a
recorded entry (ADR 0025)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from application import commands as c
from application.admission_scope import StoredRateCards
from application.changes import RecordMoved
from application.context import RequestContext
from application.errors import NotFoundError
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.admission import admit_corrected
from domain.billing import SourceKind, SourceRef
from domain.contract import Contract
from domain.money import EXACT
from domain.plausibility import check_person_day
from domain.resent import as_text
from domain.time_entry import ExpenseItem, TimeEntry

Item = TimeEntry | ExpenseItem
ItemDecision = c.ApproveItem | c.RejectItem | c.HoldItem | c.ReleaseHeldItem

#: Each plain decision on an item: the action it is audited as and the change it makes. A
#: submitted item is approved, or rejected with the reason; an approved item's quantity is held
#: (with the reason) until someone releases it for billing beyond the cap or writes it off.
DECISIONS: dict[type, tuple[str, Callable[[Any, Item, str, datetime], None]]] = {
    c.ApproveItem: ("approve", lambda _, item, actor, at: item.approve(actor, at)),
    c.RejectItem: ("reject", lambda cmd, item, _, at: item.reject(cmd.reason, at)),
    c.HoldItem: ("hold", lambda cmd, item, _, at: _hold(item, cmd, at)),
    c.ReleaseHeldItem: ("release", lambda _, item, actor, at: item.release(actor, at)),
}


def _hold(item: Item, cmd: c.HoldItem, at: datetime) -> None:
    if cmd.quantity != item.quantity:  # the whole item is held however finely it was recorded
        item.check_stated_quantity(cmd.quantity)
    item.hold(cmd.quantity, cmd.reason, at)


def decide_item(
    cmd: ItemDecision, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """A decision changes its item as `DECISIONS` says, or is refused by the item's state."""
    action, decide = DECISIONS[type(cmd)]
    reason = getattr(cmd, "reason", "")
    with _deciding(unit_of_work, ctx, cmd.item_id, action, reason) as (_, item):
        decide(cmd, item, ctx.actor, clock.now())


def write_off_item(
    cmd: c.WriteOffItem, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Record the held (or a given) quantity as leakage, never billed.

    The item is told what documents already billed or credited off (the billed ledger), so
    the domain refuses hours a write-off credit memo already gave up: revenue and the leakage
    report would otherwise lose the same hours twice."""
    with _deciding(unit_of_work, ctx, cmd.item_id, "write_off", cmd.reason) as (uow, item):
        item.write_off(cmd.quantity, cmd.reason, clock.now(), settled=_settled(uow, item))


def correct_time_entry(
    cmd: c.CorrectTimeEntry, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """The explicit, audited change of a recorded entry (hours, task, billable) that nothing
    billed yet, dated in an open period; the new hours meet the plausibility rules, the
    person's day and a blocking cap as a new entry would. A correction that changes nothing
    records nothing."""
    with unit_of_work(ctx) as uow:
        entry = uow.delivery.time_entry(cmd.entry_id)
        if entry is None:
            raise NotFoundError(f"no time entry {cmd.entry_id}")
        # What was worked in a closed period is what its books say: nobody changes it.
        PeriodLock.of(uow.periods.overlapping(entry.work_date, entry.work_date)).check(
            entry.work_date, "correct a time entry"
        )
        contract = _contract_of(uow, entry)
        ledger = uow.ledger.load([contract.contract_id] if contract else [])
        before = _stated(entry)
        day = (entry.resource_id, entry.work_date)
        # The day's other hours, read before the entry changes (the read sees this entry).
        recorded = uow.delivery.hours_by_person_day([day]).get(day, Decimal(0))
        others = EXACT.subtract(recorded, entry.hours)
        changed = entry.correct(
            entry.hours if cmd.hours is None else cmd.hours,
            entry.task_id if cmd.task_id is None else cmd.task_id,
            entry.billable if cmd.billable is None else cmd.billable,
            billed=ledger.settled(SourceRef(SourceKind.TIME_ENTRY, entry.entry_id)),
            reason=cmd.reason,
            by=ctx.actor,
            at=clock.now(),
        )
        if not changed:
            return
        check_person_day(entry.resource_id, entry.work_date, others, entry.hours)
        if contract is not None:
            _admit_corrected(uow, contract, entry)
        uow.delivery.save(entry)
        uow.record(
            RecordMoved(f"item:{entry.entry_id}", "correct", before, _stated(entry), cmd.reason)
        )
        uow.commit()


@contextmanager
def _deciding(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    item_id: str,
    action: str,
    reason: str = "",
) -> Iterator[tuple[UnitOfWork, Item]]:
    """One decision on one item in its own transaction: the body changes the item; it is then
    saved, its move audited (before and after state, the reason) and committed. A refusal
    raised in the body commits nothing."""
    with unit_of_work(ctx) as uow:
        item = _item(uow, item_id)
        before = item.state
        yield uow, item
        uow.delivery.save(item)
        uow.record(RecordMoved(f"item:{item_id}", action, before, item.state, reason))
        uow.commit()


def _item(uow: UnitOfWork, item_id: str) -> Item:
    item = uow.delivery.time_entry(item_id) or uow.delivery.expense(item_id)
    if item is None:
        raise NotFoundError(f"no time entry or expense {item_id}")
    return item


def _stated(entry: TimeEntry) -> str:
    task = f"task {entry.task_id}" if entry.task_id else "no task"
    return f"{as_text(entry.hours)} h, {task}, {'billable' if entry.billable else 'not billable'}"


def _contract_of(uow: UnitOfWork, item: Item) -> Contract | None:
    return next((k for k in uow.contracts.all() if item.obligation_id in k.obligation_ids()), None)


def _admit_corrected(uow: UnitOfWork, contract: Contract, entry: TimeEntry) -> None:
    """The corrected entry against a blocking cap, the obligation's other entries read only
    when its summed time could reach the cap."""
    oid = entry.obligation_id
    admit_corrected(
        contract.obligation_history(oid),
        StoredRateCards(uow),
        lambda: uow.delivery.recorded_time_by_role_and_day(oid),
        lambda: [e for e in uow.delivery.time_entries_for([oid]) if e.entry_id != entry.entry_id],
        entry,
    )


def _settled(uow: UnitOfWork, item: Item) -> Decimal:
    """What documents billed or credited off of the item (the billed ledger of its contract)."""
    contract = _contract_of(uow, item)
    if contract is None:
        return Decimal(0)
    kind = SourceKind.TIME_ENTRY if isinstance(item, TimeEntry) else SourceKind.EXPENSE
    return uow.ledger.load([contract.contract_id]).settled(SourceRef(kind, item.item_id))
