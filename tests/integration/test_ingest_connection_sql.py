"""The connection a bulk ingest runs on (ADR 0058): a batch large enough to touch thousands of
index pages leaves its SQLite connection a larger page cache and a longer WAL between
checkpoints, a batch of hundreds of entries (the HTTP API's) only the longer WAL, a small one
leaves it as it is, and the person-day totals read the same either way."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.delivery_store import (
    INGEST_CACHE_KIB,
    INGEST_CHECKPOINT_PAGES,
    INGEST_CHECKPOINTS_FROM_ENTRIES,
    INGEST_SETUP_FROM_DAYS,
)
from application.context import RequestContext
from domain.ids import ResourceId
from domain.time_entry import ItemState, TimeEntry
from tests.integration.support import only_on
from tests.unit.application.conftest import time_entry

CTX = RequestContext("ingest", "corr-ingest")
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)


def _days(count: int) -> list[tuple[ResourceId, date]]:
    return [(ResourceId(f"r{n:05d}"), DAY + timedelta(days=n % 20)) for n in range(count)]


def _settings_after_reading(
    database: Database, days: list[tuple[ResourceId, date]]
) -> tuple[int, int]:
    """The connection's page cache and WAL checkpoint interval once it read these days."""
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.hours_by_person_day(days)
        read = uow.connection.exec_driver_sql
        return (
            read("PRAGMA cache_size").scalar_one(),
            read("PRAGMA wal_autocheckpoint").scalar_one(),
        )


def _approved(entry_id: str, day: date, hours: str, **fields: Any) -> TimeEntry:
    raw = time_entry(entry_id, day, hours, **fields)
    return TimeEntry.received_approved(
        raw.entry_id, raw.obligation_id, raw.resource_id, raw.role, raw.work_date, raw.hours
    )


@only_on("sqlite")
def test_a_small_batch_leaves_the_connections_cache_and_checkpoints_as_sqlite_sets_them(
    database: Database,
) -> None:
    fresh = sqlite3.connect(":memory:")
    default = (
        fresh.execute("PRAGMA cache_size").fetchone()[0],
        fresh.execute("PRAGMA wal_autocheckpoint").fetchone()[0],
    )
    assert _settings_after_reading(database, _days(INGEST_SETUP_FROM_DAYS - 1)) == default


@only_on("sqlite")
def test_a_large_batch_sets_its_connection_up_for_bulk_ingest_for_good(
    database: Database,
) -> None:
    bulk = (-INGEST_CACHE_KIB, INGEST_CHECKPOINT_PAGES)
    assert _settings_after_reading(database, _days(INGEST_SETUP_FROM_DAYS)) == bulk
    # The pool hands the same connection out again: it keeps them, set once.
    assert _settings_after_reading(database, _days(3)) == bulk


def test_a_persons_recorded_hours_are_summed_exactly_whatever_the_batch_size(
    database: Database,
) -> None:
    entries = [
        _approved("t1", DAY, "1.25"),
        _approved("t2", DAY, "1.25"),
        _approved("t3", DAY, "0.1"),
        _approved("t4", DAY + timedelta(days=1), "1.25"),
    ]
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.add_time_entries(entries)
        uow.commit()
    person = entries[0].resource_id
    asked = [(person, DAY), (person, DAY + timedelta(days=1))]
    for days in (asked, asked + _days(INGEST_SETUP_FROM_DAYS)):
        with database.unit_of_work(CTX, lambda: NOW) as uow:
            found = uow.delivery.hours_by_person_day(days)
        assert found == {asked[0]: Decimal("2.60"), asked[1]: Decimal("1.25")}
        assert str(found[asked[0]]) == "2.60"


def test_each_persons_day_is_summed_alone_however_the_batch_asks_for_it(
    database: Database,
) -> None:
    # More persons than one statement asks for, each with two entries on one day and one on
    # the next, and a rejected entry that counts for nothing; asked in reverse, twice over.
    people = [ResourceId(f"p{n:04d}") for n in range(600)]
    worked = [(DAY, "1.25"), (DAY, "0.{}5"), (DAY + timedelta(days=1), "8")]
    entries = [
        _approved(f"e{n}-{k}", day, hours.format(n % 10), resource_id=person)
        for n, person in enumerate(people)
        for k, (day, hours) in enumerate(worked)
    ]
    refused = _approved("refused", DAY, "9", resource_id=people[0])
    refused.state = ItemState.REJECTED
    entries.append(refused)
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.add_time_entries(entries)
        uow.commit()
    asked = [(p, d) for p in reversed(people) for d in (DAY + timedelta(days=1), DAY)]
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        found = uow.delivery.hours_by_person_day(asked + asked)
    assert found == {
        **{(p, DAY): Decimal("1.25") + Decimal(f"0.{n % 10}5") for n, p in enumerate(people)},
        **{(p, DAY + timedelta(days=1)): Decimal(8) for p in people},
    }


def test_a_batch_finds_which_of_its_ids_are_recorded_however_many_lie_between_them(
    database: Database,
) -> None:
    recorded = [_approved(f"t{n:03d}", DAY, "1") for n in range(0, 100, 2)]
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.add_time_entries(recorded)
        uow.commit()
    # Few ids far apart (more recorded between them than asked), then many close together.
    for asked, expected in (
        (["t000", "t051", "t098", "t999"], {"t000", "t098"}),
        ([f"t{n:03d}" for n in range(40, 70)], {f"t{n:03d}" for n in range(40, 70, 2)}),
        (["s", "u"], set()),
    ):
        with database.unit_of_work(CTX, lambda: NOW) as uow:
            found = uow.delivery.time_entries_with_ids(asked)
        assert set(found) == expected
        assert all(found[i].entry_id == i for i in expected)


def _checkpoints_after_writing(database: Database, count: int, prefix: str) -> tuple[int, int]:
    """The connection's page cache and WAL checkpoint interval once it wrote `count` entries."""
    entries = [
        _approved(f"{prefix}{n:05d}", DAY, "1", resource_id=ResourceId(f"{prefix}{n}"))
        for n in range(count)
    ]
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.add_time_entries(entries)
        read = uow.connection.exec_driver_sql
        found = (
            read("PRAGMA cache_size").scalar_one(),
            read("PRAGMA wal_autocheckpoint").scalar_one(),
        )
        uow.commit()
    return found


@only_on("sqlite")
def test_a_batch_of_hundreds_of_entries_checkpoints_its_connection_less_often_for_good(
    database: Database,
) -> None:
    fresh = sqlite3.connect(":memory:")
    cache, default = (
        fresh.execute("PRAGMA cache_size").fetchone()[0],
        fresh.execute("PRAGMA wal_autocheckpoint").fetchone()[0],
    )
    below = INGEST_CHECKPOINTS_FROM_ENTRIES - 1
    assert _checkpoints_after_writing(database, below, "s") == (cache, default)
    # The HTTP API's batch: fewer person-days than bulk ingest's set-up, so the cache stays.
    written = _checkpoints_after_writing(database, INGEST_CHECKPOINTS_FROM_ENTRIES, "l")
    assert written == (cache, INGEST_CHECKPOINT_PAGES)
    # The pool hands the same connection out again: it keeps the interval.
    assert _checkpoints_after_writing(database, 1, "o") == (cache, INGEST_CHECKPOINT_PAGES)
