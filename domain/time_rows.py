"""A time entry as pricing reads it: the facts that bill, without the entity around them.

A billing run prices every open entry of thousands of obligations and changes almost none of
them (the few it holds or writes off are read again as entities). A `TimeRow` is a plain
tuple of what pricing reads of an entry, under the entity's own names, that a store builds
straight from its cursor; the billing models (time and materials, retainer, the re-rating of
billed time) read a `BillableTime`, either one, alike (ADR 0069, amended).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple, TypeAlias

from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.time_entry import ItemState, TimeEntry

#: The states in which an entry still bills (`TimeEntry.is_billable_state`; a test holds the
#: two together for every state).
BILLABLE_STATES = frozenset((ItemState.APPROVED, ItemState.HELD, ItemState.WRITTEN_OFF))


class TimeRow(NamedTuple):
    """A time entry's billable facts as one tuple, in this order (a store's bulk read builds
    it from its columns in the same order)."""

    entry_id: TimeEntryId
    obligation_id: ObligationId
    work_date: date
    hours: Decimal
    role: Role
    resource_id: ResourceId
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
            entry.entry_id, entry.obligation_id, entry.work_date, entry.hours, entry.role,
            entry.resource_id, entry.billable, entry.state, entry.held, entry.released,
            entry.written_off, entry.written_off_over_cap,
        )  # fmt: skip


#: What pricing reads an entry as: the entity (previews, revenue, admission) or its row (the
#: billing run). Both answer the same names; pricing reads no other.
BillableTime: TypeAlias = TimeEntry | TimeRow


#: The column names of a `TimeRow`, in its order (what a store's bulk read selects).
TIME_ROW_NAMES = TimeRow._fields
