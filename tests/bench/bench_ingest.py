"""Ingest approved time entries idempotently, validated against contract rules.

Throughline: the RecordTimeEntries command in batches through the unit of work.

Floor (same run, same rows): what a hand-written loader does to store these entries as
Throughline stores them, without Throughline's code. The rows are built from the same inputs
with the values our `time_entries` table receives (every column: task, billable, state
`approved`, revision 1, the zero held/released/written-off amounts), into a table with that
table's keys and indexes, taken from a scratch database our migrations built (not timed):
- SQLite: the table's DDL and indexes copied from `sqlite_master`, the same journal and
  synchronous settings as the application's connections, one transaction of raw sqlite3
  `executemany ... ON CONFLICT (entry_id) DO NOTHING`;
- PostgreSQL: psycopg 3 `COPY` into a staging table, then `INSERT ... ON CONFLICT DO NOTHING`
  into the migrated `time_entries` table itself, one transaction.

`narrow_floor` (context only, printed beside the ratio): the earlier floor, the same ids,
dates and hours as six text columns with one key and no other index. It is several times
faster (4 to 5 times on SQLite, 2.5 to 3 on PostgreSQL, here); the ratio is against the full
shape.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import psycopg

from adapters.sqlalchemy.database import Database
from application import commands as c
from tests.bench.harness import Measurement, arguments, report
from tests.bench.world import CTX, bus_on, seed_engagements, time_entries

BATCH = 5_000

#: The columns of our `time_entries` table, in the order the floor's rows give them.
COLUMNS = (
    "entry_id", "obligation_id", "resource_id", "role", "task_id", "work_date", "hours",
    "billable", "cost_rate", "state", "held", "released", "written_off", "rejection_reason",
    "revision", "written_off_over_cap",
)  # fmt: skip


def _rows(entries: list[c.TimeEntryInput], sqlite: bool) -> list[tuple[object, ...]]:
    """The rows our table receives for these entries, written by hand: SQLite stores dates
    as ISO text, decimals as plain text and booleans as 0/1; PostgreSQL takes the values."""
    zero: object = "0" if sqlite else Decimal(0)
    rows: list[tuple[object, ...]] = []
    for e in entries:
        cost = (
            None if e.cost_rate is None else (format(e.cost_rate, "f") if sqlite else e.cost_rate)
        )
        rows.append((
            e.entry_id, e.obligation_id, e.resource_id, e.role, e.task_id,
            e.work_date.isoformat() if sqlite else e.work_date,
            format(e.hours, "f") if sqlite else e.hours,
            int(e.billable) if sqlite else e.billable,
            cost, "approved", zero, zero, zero, None, 1, zero,
        ))  # fmt: skip
    return rows


def _narrow_rows(entries: list[c.TimeEntryInput]) -> list[tuple[str, ...]]:
    return [
        (e.entry_id, e.obligation_id, e.resource_id, e.role, e.work_date.isoformat(), str(e.hours))
        for e in entries
    ]


@functools.cache
def sqlite_schema() -> tuple[str, ...]:
    """The DDL of our `time_entries` table and its indexes, as the migrations create them
    (read once from a scratch database; not timed)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.db"
        database = Database(f"sqlite:///{path}")
        database.upgrade()
        database.dispose()
        db = sqlite3.connect(path)
        found = db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'time_entries' AND sql IS NOT NULL"
            " ORDER BY type = 'index', name"
        ).fetchall()
        db.close()
    return tuple(sql for (sql,) in found)


def sqlite_floor(entries: list[c.TimeEntryInput]) -> float:
    """Seconds for the one-transaction executemany of our rows into our table's shape
    (creating the table is not timed)."""
    rows = _rows(entries, sqlite=True)
    marks = ", ".join("?" * len(COLUMNS))
    insert = (
        f"INSERT INTO time_entries ({', '.join(COLUMNS)}) VALUES ({marks})"
        " ON CONFLICT (entry_id) DO NOTHING"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # as the application's connections
        for ddl in sqlite_schema():
            db.execute(ddl)
        db.commit()
        started = time.perf_counter()
        with db:
            db.executemany(insert, rows)
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


def narrow_sqlite_floor(entries: list[c.TimeEntryInput]) -> float:
    """The earlier floor, for context: six text columns, one key, no other index."""
    rows = _narrow_rows(entries)
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE t (entry_id TEXT PRIMARY KEY, obligation_id TEXT, resource_id TEXT,"
            " role TEXT, work_date TEXT, hours TEXT)"
        )
        started = time.perf_counter()
        with db:
            db.executemany(
                "INSERT INTO t VALUES (?,?,?,?,?,?) ON CONFLICT (entry_id) DO NOTHING", rows
            )
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


def postgres_floor(url: str, entries: list[c.TimeEntryInput]) -> float:
    """Seconds for COPY into a staging table plus INSERT ... ON CONFLICT into our migrated
    `time_entries` table (keys and indexes as deployed), one transaction."""
    from tests.bench.pg import fresh_database

    rows = _rows(entries, sqlite=False)
    columns = ", ".join(COLUMNS)
    with fresh_database(url) as scratch:
        database = Database(scratch)
        database.upgrade()
        database.dispose()
        with psycopg.connect(scratch.replace("postgresql+psycopg://", "postgresql://")) as conn:
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    f"CREATE TEMP TABLE stage AS SELECT {columns} FROM time_entries WITH NO DATA"
                )
                with conn.cursor().copy(f"COPY stage ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.execute(
                    f"INSERT INTO time_entries ({columns}) SELECT {columns} FROM stage"
                    " ON CONFLICT DO NOTHING"
                )
            elapsed = time.perf_counter() - started
    return elapsed


def narrow_postgres_floor(url: str, entries: list[c.TimeEntryInput]) -> float:
    """The earlier floor, for context: six columns, one key, no other index."""
    rows = _narrow_rows(entries)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute(
            "CREATE TABLE bench_floor (entry_id TEXT PRIMARY KEY, obligation_id TEXT,"
            " resource_id TEXT, role TEXT, work_date DATE, hours NUMERIC)"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE stage (LIKE bench_floor) ON COMMIT DROP")
            with conn.cursor().copy("COPY stage FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute("INSERT INTO bench_floor SELECT * FROM stage ON CONFLICT DO NOTHING")
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_floor")
        conn.commit()
    return elapsed


def throughline(url: str, engagements: int, entries: list[c.TimeEntryInput]) -> float:
    """Seconds to ingest the entries (the seeding of contracts is not timed)."""
    database = Database(url)
    database.upgrade()
    bus = bus_on(database, engagements)
    seed_engagements(bus, engagements)
    started = time.perf_counter()
    for i in range(0, len(entries), BATCH):
        result = bus.handle(c.RecordTimeEntries(tuple(entries[i : i + BATCH])), CTX)
        assert not result.rejected, result.rejected[:3]
    elapsed = time.perf_counter() - started
    again = bus.handle(c.RecordTimeEntries(tuple(entries[:BATCH])), CTX)
    assert len(again.duplicates) == min(BATCH, len(entries))  # idempotent: no second effect
    database.dispose()
    return elapsed


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _narrow(count: int, seconds: float) -> dict[str, object]:
    """The narrow floor's rate, as context beside the ratio."""
    return {"narrow_floor": round(count / seconds)}


def _fresh_sqlite_url(tmp: str) -> str:
    return f"sqlite:///{Path(tmp) / 'throughline.db'}"


def main() -> None:
    args = arguments(__doc__ or "")
    count = 5_000 if args.quick else 100_000
    engagements = 50
    entries = list(time_entries(engagements, count))
    repeats = 1 if args.quick else args.repeats
    measurements = []

    def run_sqlite() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            return throughline(_fresh_sqlite_url(tmp), engagements, entries)

    ours = _median([run_sqlite() for _ in range(repeats)])
    floor = _median([sqlite_floor(entries) for _ in range(repeats)])
    narrow = _median([narrow_sqlite_floor(entries) for _ in range(repeats)])
    measurements.append(
        Measurement("ingest_time_entries_sqlite", count, ours, floor, _narrow(count, narrow))
    )
    pg_url = os.environ.get("THROUGHLINE_TEST_POSTGRES_URL")
    if pg_url:

        def run_pg() -> float:
            from tests.bench.pg import fresh_database

            with fresh_database(pg_url) as url:
                return throughline(url, engagements, entries)

        ours = _median([run_pg() for _ in range(repeats)])
        floor = _median([postgres_floor(pg_url, entries) for _ in range(repeats)])
        narrow = _median([narrow_postgres_floor(pg_url, entries) for _ in range(repeats)])
        measurements.append(
            Measurement(
                "ingest_time_entries_postgresql", count, ours, floor, _narrow(count, narrow)
            )
        )
    else:
        print("ingest_time_entries_postgresql skipped: THROUGHLINE_TEST_POSTGRES_URL not set")
    report(measurements, "ingest")


if __name__ == "__main__":
    main()
