"""Delivered items: time entries and expense items, and their shared approval lifecycle.

Billed quantities are not stored here: they are the allocations of the invoices that billed
the item (see `domain.billing.BilledLedger`), so an item can be partly billed. What the
item itself records is what the firm decided about it: held over a cap, released beyond the
cap, or written off.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import attrs

from domain.errors import DomainError
from domain.ids import ExpenseId, ObligationId, ResourceId, Role, TaskId, TimeEntryId
from domain.lifecycle import LifecycleTable
from domain.money import EXACT, Money, dsum
from domain.plausibility import HOURS_IN_A_DAY, check_hours

#: Time booked without a PSA task code.
NO_TASK = TaskId("")


class ItemState(Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    HELD = "held"
    WRITTEN_OFF = "written_off"


class ItemTrigger(Enum):
    APPROVE = "approve"
    REJECT = "reject"
    HOLD = "hold"
    RELEASE = "release"
    WRITE_OFF = "write_off"


ITEM_LIFECYCLE = LifecycleTable(
    "time entry or expense",
    ItemState,
    ItemTrigger,
    [
        (ItemTrigger.APPROVE, ItemState.SUBMITTED, ItemState.APPROVED),
        (ItemTrigger.REJECT, ItemState.SUBMITTED, ItemState.REJECTED),
        (ItemTrigger.HOLD, ItemState.APPROVED, ItemState.HELD),
        (ItemTrigger.RELEASE, ItemState.HELD, ItemState.APPROVED),
        (ItemTrigger.WRITE_OFF, [ItemState.HELD, ItemState.APPROVED], ItemState.WRITTEN_OFF),
    ],
)

#: Hours of nothing, the bound below an entry's hours.
_NO_HOURS = Decimal(0)

#: The state an entry the PSA approved arrives in: the lifecycle's answer, asked once.
_ARRIVES_APPROVED = ITEM_LIFECYCLE.next_state(ItemState.SUBMITTED, ItemTrigger.APPROVE)


class NothingHeldError(DomainError):
    """Only hours that are actually held can be released or written off."""

    code = "nothing_held"


class AlreadySettledError(DomainError):
    """Hours already billed, written off, or written off by a credit memo cannot be written off
    again: each hour given up counts once."""

    code = "already_settled"


class InvalidQuantityError(DomainError):
    """Hours and amounts are positive and never exceed what was approved."""

    code = "invalid_quantity"


class ExpenseCategoryRequiredError(DomainError):
    """An expense names its category (white space names none)."""

    code = "category_required"


class EntryAlreadyBilledError(DomainError):
    """Hours an invoice billed are corrected by a credit memo, never by editing the entry."""

    code = "entry_already_billed"


class EntryNotCorrectableError(DomainError):
    """Only an approved (or submitted) entry that nobody held, released or wrote off can be
    corrected: the decisions were taken on the hours it has."""

    code = "entry_not_correctable"


@attrs.frozen
class ItemApproved:
    item_id: str
    by: str
    at: datetime


@attrs.frozen
class ItemRejected:
    item_id: str
    reason: str
    at: datetime


@attrs.frozen
class ItemHeld:
    item_id: str
    quantity: Decimal
    reason: str
    at: datetime


@attrs.frozen
class ItemReleased:
    item_id: str
    quantity: Decimal
    by: str
    at: datetime


@attrs.frozen
class ItemWrittenOff:
    item_id: str
    quantity: Decimal
    reason: str
    at: datetime


@attrs.frozen
class TimeEntryCorrected:
    """What an entry said before and after a correction, who corrected it and why."""

    entry_id: str
    hours_before: Decimal
    hours: Decimal
    task_before: str
    task_id: str
    billable_before: bool
    billable: bool
    reason: str
    by: str
    at: datetime


@attrs.define(slots=False, eq=False)
class _DeliveredItem(ABC):
    """What time entries and expenses share: the approval lifecycle and the cap decisions."""

    state: ItemState = attrs.field(default=ItemState.SUBMITTED, kw_only=True)
    held: Decimal = attrs.field(default=Decimal(0), kw_only=True)
    released: Decimal = attrs.field(default=Decimal(0), kw_only=True)
    written_off: Decimal = attrs.field(default=Decimal(0), kw_only=True)
    #: The part of `written_off` given up over a cap (the rest was written off by hand).
    written_off_over_cap: Decimal = attrs.field(default=Decimal(0), kw_only=True)
    rejection_reason: str | None = attrs.field(default=None, kw_only=True)
    revision: int = attrs.field(default=0, kw_only=True)
    events: list[object] = attrs.field(factory=list, kw_only=True, repr=False)

    @property
    @abstractmethod
    def item_id(self) -> str:
        """The item's own id."""

    @property
    @abstractmethod
    def quantity(self) -> Decimal:
        """The approved quantity (hours, or cost amount for expenses)."""

    @abstractmethod
    def check_stated_quantity(self, quantity: Decimal) -> None:
        """A quantity someone holds or writes off by hand is positive and stated as finely as
        the item's own quantity, no finer: a sliver would leave the rest billable as
        3.9999999999 h on an invoice."""

    def _fire(self, trigger: ItemTrigger) -> None:
        self.state = ITEM_LIFECYCLE.next_state(self.state, trigger)
        self.revision += 1

    def approve(self, by: str, at: datetime) -> None:
        """Only a submitted item can be approved."""
        self._fire(ItemTrigger.APPROVE)
        self.events.append(ItemApproved(self.item_id, by, at))

    def reject(self, reason: str, at: datetime) -> None:
        """A submitted item is rejected with a reason code."""
        if not reason.strip():
            raise DomainError("a rejection needs a reason")
        self._fire(ItemTrigger.REJECT)
        self.rejection_reason = reason
        self.events.append(ItemRejected(self.item_id, reason, at))

    def hold(self, quantity: Decimal, reason: str, at: datetime) -> None:
        """Hold the part over a cap until someone releases or writes it off."""
        self._check_quantity(quantity)
        self._fire(ItemTrigger.HOLD)
        self.held = quantity
        self.events.append(ItemHeld(self.item_id, quantity, reason, at))

    def release(self, by: str, at: datetime) -> None:
        """Approve the held part for billing beyond the cap."""
        if self.held <= 0:
            raise NothingHeldError(f"{self.item_id} has nothing held")
        self._fire(ItemTrigger.RELEASE)
        quantity, self.held = self.held, Decimal(0)
        self.released = EXACT.add(self.released, quantity)
        self.events.append(ItemReleased(self.item_id, quantity, by, at))

    def write_off(
        self, quantity: Decimal | None, reason: str, at: datetime, *, settled: Decimal
    ) -> None:
        """Record a quantity as leakage, never billed: the held part (given up over the cap),
        or a given quantity by hand, which must still be open: not billed or credited off by
        a document (`settled`, from the billed ledger), not held, not written off before."""
        if self.state is ItemState.HELD:
            quantity = self.held if quantity is None else quantity
            if quantity != self.held:
                raise InvalidQuantityError("a hold is written off whole")
            self._give_up(quantity, reason, at, over_cap=True)
            self.held = Decimal(0)
            return
        if quantity is None:
            raise InvalidQuantityError("say how much to write off")
        self._check_quantity(quantity)
        still_open = self.open_quantity(settled)
        if quantity != still_open:  # all that is open goes, however finely it was recorded
            self.check_stated_quantity(quantity)
        if quantity > still_open:
            raise AlreadySettledError(
                f"{self.item_id}: only {max(still_open, Decimal(0))} of it is still open "
                f"({settled} billed or credited off, {self.written_off} written off, "
                f"{self.held} held), not {quantity}"
            )
        self._give_up(quantity, reason, at, over_cap=False)

    def write_off_over_cap(self, quantity: Decimal, reason: str, at: datetime) -> None:
        """The billing run gives up the open part of an item above a cap whose policy writes
        overage off (the run measured it as open billable quantity)."""
        self._give_up(quantity, reason, at, over_cap=True)

    def _give_up(self, quantity: Decimal, reason: str, at: datetime, *, over_cap: bool) -> None:
        self._check_quantity(quantity)
        self._fire(ItemTrigger.WRITE_OFF)
        self.written_off = EXACT.add(self.written_off, quantity)
        if over_cap:
            self.written_off_over_cap = EXACT.add(self.written_off_over_cap, quantity)
        self.events.append(ItemWrittenOff(self.item_id, quantity, reason, at))

    def open_quantity(self, settled: Decimal) -> Decimal:
        """What is still open on the item: approved, less what documents billed or credited
        off (`settled`), what is held and what was written off (may be negative when
        increment rounding billed more than was worked)."""
        return EXACT.subtract(self.quantity, dsum((settled, self.held, self.written_off)))

    def given_up_once(self, billable: Decimal, settled: Decimal) -> tuple[Decimal, Decimal]:
        """What the item itself gave up (over a cap, by hand) that no document billed or
        credited off: of `billable` quantity, what `settled` (billed or credited off by a
        document) and the hold leave. Hand write-offs give way first, so a quantity given up
        twice (by hand and by a write-off credit, as older records may hold) counts once."""
        room = max(Decimal(0), EXACT.subtract(billable, EXACT.add(settled, self.held)))
        over_cap = min(self.written_off_over_cap, room)
        by_hand = EXACT.subtract(self.written_off, self.written_off_over_cap)
        by_hand = max(Decimal(0), min(by_hand, EXACT.subtract(room, over_cap)))
        return over_cap, by_hand

    def _check_quantity(self, quantity: Decimal) -> None:
        # Held and written-off quantities are billable quantities as the billing run measured
        # them (after increment rounding, which may round an entry up), so the only bound the
        # item itself can check is that they are positive.
        if quantity <= 0:
            raise InvalidQuantityError(f"{quantity} is not a positive quantity")

    @property
    def is_billable_state(self) -> bool:
        """Approved items bill; held items bill what is not held; written-off ones bill nothing
        more beyond what was billed before the write-off."""
        return self.state in (ItemState.APPROVED, ItemState.HELD, ItemState.WRITTEN_OFF)


@attrs.define(slots=False, eq=False)
class TimeEntry(_DeliveredItem):
    """Hours a resource worked on a task of an engagement on one date."""

    entry_id: TimeEntryId
    obligation_id: ObligationId
    resource_id: ResourceId
    role: Role
    work_date: date
    hours: Decimal
    task_id: TaskId = NO_TASK
    billable: bool = True
    cost_rate: Decimal | None = None

    @classmethod
    def submit(
        cls,
        entry_id: TimeEntryId,
        obligation_id: ObligationId,
        resource_id: ResourceId,
        role: Role,
        work_date: date,
        hours: Decimal,
        *,
        task_id: TaskId = NO_TASK,
        billable: bool = True,
        cost_rate: Decimal | None = None,
    ) -> TimeEntry:
        """A new entry, as submitted by the time-capture system."""
        if hours <= 0 or hours > 24:
            raise InvalidQuantityError(f"{hours} h is not between 0 and 24 hours")
        return cls(
            entry_id,
            obligation_id,
            resource_id,
            role,
            work_date,
            hours,
            task_id,
            billable,
            cost_rate,
        )

    @classmethod
    def received_approved(
        cls,
        entry_id: TimeEntryId,
        obligation_id: ObligationId,
        resource_id: ResourceId,
        role: Role,
        work_date: date,
        hours: Decimal,
        *,
        task_id: TaskId = NO_TASK,
        billable: bool = True,
        cost_rate: Decimal | None = None,
    ) -> TimeEntry:
        """An entry the PSA already approved: it arrives approved. The approval is a fact of
        the PSA, not a decision made here, so no event is recorded for it."""
        # What `submit` then `approve` would make, built at once (bulk ingestion makes
        # hundreds of thousands): the submitted entry's check, the lifecycle's approved state
        # and the revision one change past the submission. (The bounds are decimals: a
        # comparison with an int converts the int first, on every call.)
        if hours <= _NO_HOURS or hours > HOURS_IN_A_DAY:
            raise InvalidQuantityError(f"{hours} h is not between 0 and 24 hours")
        # Made with the positional fields only, then given its state and revision: keywords
        # cost the generated `__init__` more than the two assignments do.
        entry = cls(
            entry_id, obligation_id, resource_id, role, work_date, hours, task_id, billable,
            cost_rate,
        )  # fmt: skip
        entry.state, entry.revision = _ARRIVES_APPROVED, 1
        return entry

    @property
    def item_id(self) -> str:
        return self.entry_id

    @property
    def quantity(self) -> Decimal:
        return self.hours

    def check_stated_quantity(self, quantity: Decimal) -> None:
        """Hours carry at most two decimals, as the entry's own do."""
        try:
            check_hours(quantity)
        except DomainError as error:
            raise InvalidQuantityError(f"{self.entry_id}: {error}") from None

    def correct(
        self,
        hours: Decimal,
        task_id: TaskId,
        billable: bool,
        *,
        billed: Decimal,
        reason: str,
        by: str,
        at: datetime,
    ) -> bool:
        """An entry not billed and not decided on (held, released, written off) may be
        corrected, with a reason; billed hours are corrected by a credit memo. False when the
        correction changes nothing (no event then)."""
        if not reason.strip():
            raise DomainError("a correction needs a reason")
        if billed > 0:
            raise EntryAlreadyBilledError(
                f"{billed} h of time entry {self.entry_id} are billed: billed hours are "
                "corrected by a credit memo (which releases them), not by editing the entry"
            )
        decided = self.held or self.released or self.written_off
        if self.state not in (ItemState.SUBMITTED, ItemState.APPROVED) or decided:
            raise EntryNotCorrectableError(
                f"time entry {self.entry_id} is {self.state.value}"
                + (" with a cap decision on its hours" if decided else "")
                + ": only an approved entry nobody decided on can be corrected"
            )
        check_hours(hours)
        if hours > HOURS_IN_A_DAY:
            raise InvalidQuantityError(f"{hours} h is not between 0 and 24 hours")
        if (hours, task_id, billable) == (self.hours, self.task_id, self.billable):
            return False
        self.events.append(
            TimeEntryCorrected(
                self.entry_id, self.hours, hours, self.task_id, task_id,
                self.billable, billable, reason, by, at,
            )
        )  # fmt: skip
        self.hours, self.task_id, self.billable = hours, task_id, billable
        self.revision += 1
        return True


@attrs.define(slots=False, eq=False)
class ExpenseItem(_DeliveredItem):
    """An expense incurred for an engagement: cost in the contract's currency, by category."""

    expense_id: ExpenseId
    obligation_id: ObligationId
    resource_id: ResourceId
    category: str
    incurred_on: date
    cost: Money
    description: str = ""

    @classmethod
    def submit(
        cls,
        expense_id: ExpenseId,
        obligation_id: ObligationId,
        resource_id: ResourceId,
        category: str,
        incurred_on: date,
        cost: Money,
        description: str = "",
    ) -> ExpenseItem:
        """A new expense, as submitted by the expense system."""
        if not cost.is_positive():
            raise InvalidQuantityError(f"an expense costs more than nothing, not {cost}")
        if not category.strip():
            raise ExpenseCategoryRequiredError(
                f"expense {expense_id} needs a category: its caps and its tax code go by it"
            )
        return cls(expense_id, obligation_id, resource_id, category, incurred_on, cost, description)

    @property
    def item_id(self) -> str:
        return self.expense_id

    @property
    def quantity(self) -> Decimal:
        """Expenses are allocated by cost amount (partial billing under a category cap)."""
        return self.cost.amount

    def check_stated_quantity(self, quantity: Decimal) -> None:
        """An amount of the expense's cost, in whole minor units of its currency."""
        stated = Money(quantity, self.cost.currency)
        if quantity <= 0 or stated.quantized() != stated:
            raise InvalidQuantityError(
                f"{self.expense_id}: {quantity} is not a positive amount in whole "
                f"{self.cost.currency} minor units"
            )
