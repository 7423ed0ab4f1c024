"""The time-entry table carries the indexes its reads use (ADR 0058): every ingested entry pays
for each one. A person's day is found by (resource_id, work_date), an obligation's time by
obligation_id (with the revision, which the billing run's stamp sums from the index alone,
migration 0022), and a period's entries by the work date, so a period report reads the period
and not the whole history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.period import Period
from domain.time_entry import TimeEntry

CTX = RequestContext("ingest", "corr-indexes")
NOW = datetime(2026, 5, 31, 18, 0, tzinfo=UTC)


def indexed(database: Database) -> set[tuple[str, ...]]:
    """The column lists of the time-entry table's indexes (its primary key aside)."""
    found = sa.inspect(database.engine).get_indexes("time_entries")
    return {tuple(str(name) for name in index["column_names"]) for index in found}


def test_time_entries_are_indexed_by_person_day_by_obligation_and_by_work_date(
    database: Database,
) -> None:
    assert indexed(database) == {
        ("obligation_id", "revision"),
        ("resource_id", "work_date"),
        ("work_date",),
    }


def test_a_periods_entries_are_read_from_its_first_to_its_last_day(database: Database) -> None:
    days = [date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 30), date(2026, 5, 1)]
    entries = [
        TimeEntry.received_approved(
            TimeEntryId(f"t{n}"),
            ObligationId("tm"),
            ResourceId("r1"),
            Role("consultant"),
            day,
            Decimal("2.5"),
        )
        for n, day in enumerate(days)
    ]
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.add_time_entries(entries)
        uow.commit()
    with database.unit_of_work(CTX, lambda: NOW, read_only=True) as uow:
        april = uow.delivery.time_entries_in(Period(date(2026, 4, 1), date(2026, 4, 30)))
    assert sorted((e.entry_id, e.work_date, e.hours) for e in april) == [
        ("t1", date(2026, 4, 1), Decimal("2.5")),
        ("t2", date(2026, 4, 30), Decimal("2.5")),
    ]
