"""Ingest approved time entries idempotently, validated against contract rules.

Throughline: the RecordTimeEntries command in batches through the unit of work.
Floor (same run, same rows): SQLite — raw sqlite3 executemany with a UNIQUE key and
ON CONFLICT DO NOTHING in one transaction; PostgreSQL — COPY into a staging table, then
INSERT ... ON CONFLICT DO NOTHING, with psycopg 3.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from adapters.sqlalchemy.database import Database
from application import commands as c
from tests.bench.harness import Measurement, arguments, report
from tests.bench.world import CTX, bus_on, seed_engagements, time_entries

BATCH = 5_000


def _rows(entries: list[c.TimeEntryInput]) -> list[tuple[str, ...]]:
    return [
        (e.entry_id, e.obligation_id, e.resource_id, e.role, e.work_date.isoformat(), str(e.hours))
        for e in entries
    ]


def sqlite_floor(entries: list[c.TimeEntryInput]) -> float:
    """Seconds for the one-transaction executemany (creating the table is not timed)."""
    rows = _rows(entries)
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
    """Seconds for COPY into a staging table plus INSERT ... ON CONFLICT, one transaction."""
    import psycopg

    rows = _rows(entries)
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
    measurements.append(Measurement("ingest_time_entries_sqlite", count, ours, floor))
    pg_url = os.environ.get("THROUGHLINE_TEST_POSTGRES_URL")
    if pg_url:

        def run_pg() -> float:
            from tests.bench.pg import fresh_database

            with fresh_database(pg_url) as url:
                return throughline(url, engagements, entries)

        ours = _median([run_pg() for _ in range(repeats)])
        floor = _median([postgres_floor(pg_url, entries) for _ in range(repeats)])
        measurements.append(Measurement("ingest_time_entries_postgresql", count, ours, floor))
    else:
        print("ingest_time_entries_postgresql skipped: THROUGHLINE_TEST_POSTGRES_URL not set")
    report(measurements, "ingest")


if __name__ == "__main__":
    main()
