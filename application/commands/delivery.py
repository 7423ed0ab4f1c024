"""Commands of delivery: time entries and expenses, their approval and corrections,
milestones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from application.commands.base import Command, Returning
from domain.ids import (
    EngagementId,
    ExpenseId,
    MilestoneId,
    ObligationId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.money import Money
from domain.time_entry import NO_TASK


@attrs.frozen
class TimeEntryInput:
    """One approved time entry as the PSA or time app sends it."""

    entry_id: TimeEntryId
    engagement_id: EngagementId
    obligation_id: ObligationId
    resource_id: ResourceId
    role: Role
    work_date: date
    hours: Decimal
    task_id: TaskId = NO_TASK
    billable: bool = True
    cost_rate: Decimal | None = None

    @classmethod
    def written(
        cls,
        entry_id: str,
        engagement_id: str,
        obligation_id: str,
        resource_id: str,
        role: str,
        work_date: date,
        hours: Decimal,
        task_id: str = NO_TASK,
        billable: bool = True,
    ) -> TimeEntryInput:
        """An entry from the plain text a file or a test writes (ids as written; no task id is
        the entry's want of one)."""
        return cls(
            TimeEntryId(entry_id),
            EngagementId(engagement_id),
            ObligationId(obligation_id),
            ResourceId(resource_id),
            Role(role),
            work_date,
            hours,
            TaskId(task_id or NO_TASK),
            billable,
        )


@attrs.frozen
class RecordTimeEntries(Command):
    """A batch of approved time entries; each is accepted or rejected with a reason code."""

    entries: tuple[TimeEntryInput, ...]
    approved_by: str = "psa"


@attrs.frozen
class ExpenseInput:
    expense_id: ExpenseId
    engagement_id: EngagementId
    obligation_id: ObligationId
    resource_id: ResourceId
    category: str
    incurred_on: date
    cost: Money
    description: str = ""


@attrs.frozen
class RecordExpenses(Command):
    items: tuple[ExpenseInput, ...]
    approved_by: str = "expenses"


@attrs.frozen
class ApproveItem(Command):
    """Approve a submitted time entry or expense."""

    item_id: str


@attrs.frozen
class RejectItem(Command):
    """Reject a submitted time entry or expense, with a reason code."""

    item_id: str
    reason: str


@attrs.frozen
class HoldItem(Command):
    """Hold an approved item's quantity (e.g. above a cap) until someone decides."""

    item_id: str
    quantity: Decimal
    reason: str


@attrs.frozen
class ReleaseHeldItem(Command):
    """Approve billing beyond the cap for an item's held quantity."""

    item_id: str


@attrs.frozen
class WriteOffItem(Command):
    """Write an item's held quantity (or a given quantity) off as leakage."""

    item_id: str
    reason: str
    quantity: Decimal | None = None


@attrs.frozen
class CorrectTimeEntry(Command):
    """Correct what an unbilled entry says was worked (hours, task, billable), with a reason;
    what is not given stays. Billed hours are corrected by a credit memo instead."""

    entry_id: TimeEntryId
    reason: str
    hours: Decimal | None = None
    task_id: TaskId | None = None
    billable: bool | None = None


@attrs.frozen
class CompleteMilestone(Returning[None]):
    milestone_id: MilestoneId
    evidence: str
    on: date
    #: The PSA's id of this completion: when given, the same completion sent again is a
    #: replay, even after the milestone was rejected meanwhile (ADR 0024).
    completion_id: str | None = None


@attrs.frozen
class AcceptMilestone(Returning[None]):
    milestone_id: MilestoneId
    on: date
    #: The client's approver, when the caller records an acceptance on their behalf.
    accepted_by: str | None = None


@attrs.frozen
class RejectMilestone(Returning[None]):
    milestone_id: MilestoneId
    reason: str


@attrs.frozen
class AcceptDueMilestones(Returning[list[str]]):
    """Background job: passive acceptance of milestones whose window has passed."""

    today: date
