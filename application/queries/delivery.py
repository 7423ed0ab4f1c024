"""An engagement's delivery as the delivery screens read it: its time entries, by work date,
optionally within one month, in keyset pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol

import attrs

from application.queries.paging import Page, PageRequest
from application.queries.projection import projected
from domain.period import Period
from domain.time_entry import TimeEntry


@attrs.frozen
class TimeEntryView:
    """One time entry as it stands; `cost_rate` is shown only to whoever may read costs."""

    entry_id: str
    obligation_id: str
    resource_id: str
    role: str
    task_id: str
    work_date: date
    hours: Decimal
    billable: bool
    state: str
    held: Decimal
    released: Decimal
    written_off: Decimal
    rejection_reason: str | None
    cost_rate: Decimal | None

    @classmethod
    def of(cls, entry: TimeEntry) -> TimeEntryView:
        return projected(cls, entry, state=entry.state.value)


@attrs.frozen
class TimeEntryFilter:
    """Whose entries: one engagement (seen only by its customer's viewers), maybe one month."""

    engagement_id: str
    month: Period | None = None
    visible_to: str | None = None


def time_entry_key(entry: TimeEntryView) -> tuple[str, str]:
    """The keyset of the time-entry list: the work date, then the entry id."""
    return (entry.work_date.isoformat(), entry.entry_id)


class DeliveryQueries(Protocol):
    """The delivery screens' questions, one call each."""

    def time_entries(self, where: TimeEntryFilter, page: PageRequest) -> Page[TimeEntryView] | None:
        """The page, or None when the engagement does not exist or is not the caller's."""
        ...
