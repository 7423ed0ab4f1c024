"""An entry the PSA approved arrives approved: the same entry as one submitted, then approved
here, except that no approval event is recorded for it (the approval is the PSA's fact)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest

from domain.ids import ObligationId, ResourceId, Role, TaskId, TimeEntryId
from domain.time_entry import InvalidQuantityError, ItemState, TimeEntry

FIELDS = (TimeEntryId("t1"), ObligationId("tm"), ResourceId("ana"), Role("consultant"))
DAY = date(2026, 3, 2)


def test_an_entry_the_psa_approved_is_the_submitted_entry_approved_without_an_event() -> None:
    options = {"task_id": TaskId("T7"), "billable": False, "cost_rate": Decimal("61.25")}
    arrived = TimeEntry.received_approved(*FIELDS, DAY, Decimal("7.5"), **options)
    submitted = TimeEntry.submit(*FIELDS, DAY, Decimal("7.5"), **options)
    submitted.approve("lead", datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    submitted.events.clear()
    assert attrs.asdict(arrived) == attrs.asdict(submitted)
    assert arrived.state is ItemState.APPROVED
    assert arrived.revision == 1
    assert arrived.events == []


@pytest.mark.parametrize("hours", ["0", "-1", "24.25"])
def test_an_arriving_entry_holds_more_than_nothing_and_at_most_a_day(hours: str) -> None:
    with pytest.raises(InvalidQuantityError):
        TimeEntry.received_approved(*FIELDS, DAY, Decimal(hours))
