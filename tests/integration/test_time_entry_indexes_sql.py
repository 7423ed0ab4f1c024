"""The time-entry table carries the indexes its reads use and no more (migration 0022, ADR
0058): every ingested entry pays for each one. A person's day is found by (resource_id,
work_date), an obligation's time by obligation_id; the period reports, which alone read by
the work date, read the period's entries whole from the table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.period import Period
from domain.time_entry import TimeEntry
from tests.integration.test_dispute_history_migration import migrate

CTX = RequestContext("ingest", "corr-indexes")
NOW = datetime(2026, 5, 31, 18, 0, tzinfo=UTC)


def indexed(database: Database) -> set[tuple[str, ...]]:
    """The column lists of the time-entry table's indexes (its primary key aside)."""
    found = sa.inspect(database.engine).get_indexes("time_entries")
    return {tuple(str(name) for name in index["column_names"]) for index in found}


def test_time_entries_are_indexed_by_person_day_and_by_obligation_only(
    database: Database,
) -> None:
    assert indexed(database) == {("obligation_id",), ("resource_id", "work_date")}


def test_downgrading_below_0022_indexes_the_work_date_again(database: Database) -> None:
    migrate(database, "0021", down=True)
    assert ("work_date",) in indexed(database)
    migrate(database, "head")
    assert ("work_date",) not in indexed(database)


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
