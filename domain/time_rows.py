"""A time entry as pricing reads it: the facts that bill, without the entity around them.

A billing run prices every open entry of thousands of obligations and changes almost none of
them (the few it holds or writes off are read again as entities). `BillableTime` names what
pricing reads of an entry; a `TimeEntry` has all of it, and so has a `TimeRow`, a plain tuple
of those facts that a store can build straight from its cursor. The billing models (time and
materials, retainer, the re-rating of billed time) price either alike (ADR 0069, amended).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol

from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.time_entry import ItemState, TimeEntry

#: The states in which an entry still bills (`TimeEntry.is_billable_state`; a test holds the
#: two together for every state).
BILLABLE_STATES = frozenset((ItemState.APPROVED, ItemState.HELD, ItemState.WRITTEN_OFF))


class BillableTime(Protocol):
    """What pricing reads of a time entry."""

    @property
    def entry_id(self) -> TimeEntryId: ...
    @property
    def obligation_id(self) -> ObligationId: ...
    @property
    def resource_id(self) -> ResourceId: ...
    @property
    def role(self) -> Role: ...
    @property
    def work_date(self) -> date: ...
    @property
    def hours(self) -> Decimal: ...
    @property
    def billable(self) -> bool: ...
    @property
    def state(self) -> ItemState: ...
    @property
    def held(self) -> Decimal: ...
    @property
    def released(self) -> Decimal: ...
    @property
    def written_off(self) -> Decimal: ...
    @property
    def written_off_over_cap(self) -> Decimal: ...
    @property
    def is_billable_state(self) -> bool: ...


class TimeRow(NamedTuple):
    """A time entry's billable facts as one tuple, in this order (a store's bulk read builds
    it from its columns in the same order)."""

    entry_id: TimeEntryId
    obligation_id: ObligationId
    resource_id: ResourceId
    role: Role
    work_date: date
    hours: Decimal
    billable: bool
    state: ItemState
    held: Decimal
    released: Decimal
    written_off: Decimal
    written_off_over_cap: Decimal

    @property
    def is_billable_state(self) -> bool:
        """As the entry's own: approved, held or written-off entries bill what is open."""
        return self.state in BILLABLE_STATES

    @classmethod
    def of(cls, entry: TimeEntry) -> TimeRow:
        """The row of an entry, its values shared, not copied."""
        return cls(
            entry.entry_id, entry.obligation_id, entry.resource_id, entry.role,
            entry.work_date, entry.hours, entry.billable, entry.state, entry.held,
            entry.released, entry.written_off, entry.written_off_over_cap,
        )  # fmt: skip


#: The column names of a `TimeRow`, in its order (what a store's bulk read selects).
TIME_ROW_NAMES = TimeRow._fields
