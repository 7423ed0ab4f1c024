"""The ceiling of `bench_http`: what any Python implementation on this stack can reach.

Not a floor and not a target: a context row. A minimal Litestar app, served exactly like the
API and the hello-world floor (`uvicorn --factory tests.bench.ceiling:create_app`, same worker
count), that does the least a real endpoint must:

- `POST /time-entries` decodes the same body into a strict msgspec struct (unknown fields
  refused), then one `INSERT ... ON CONFLICT (entry_id) DO NOTHING` and a commit into SQLite
  configured as Throughline's (WAL, `synchronous=NORMAL`, `BEGIN IMMEDIATE`), and answers
  each entry accepted;
- `GET /dashboard` runs one small aggregate query (invoices by state with their gross) over
  the seeded database and answers it as JSON.

No authentication, idempotency record, contract validation, audit chain, outbox, middleware
or thread hand-off: the difference between this row and Throughline's is what those cost;
the difference between this row and hello-world is what a commit and a query cost through
Python, which no change to Throughline can remove.
"""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal

import msgspec
from litestar import Litestar, get, post

DATABASE_VARIABLE = "CEILING_DATABASE"
TABLE = "ceiling_entries"


class EntryIn(msgspec.Struct, forbid_unknown_fields=True):
    entry_id: str
    engagement_id: str
    obligation_id: str
    resource_id: str
    role: str
    work_date: str
    hours: str


class EntriesIn(msgspec.Struct, forbid_unknown_fields=True):
    entries: list[EntryIn]


_connection: list[sqlite3.Connection] = []


def connection() -> sqlite3.Connection:
    """One connection per worker, opened on first use, configured as Throughline's."""
    if not _connection:
        db = sqlite3.connect(os.environ[DATABASE_VARIABLE], isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        _connection.append(db)
    return _connection[0]


def prepare(path: str) -> None:
    """The ceiling's own table in the seeded database (the bench calls it before serving)."""
    db = sqlite3.connect(path)
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (entry_id TEXT PRIMARY KEY, engagement_id TEXT, "
        "obligation_id TEXT, resource_id TEXT, role TEXT, work_date TEXT, hours TEXT)"
    )
    db.commit()
    db.close()


def stored(path: str) -> int:
    db = sqlite3.connect(path)
    try:
        (count,) = db.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
    finally:
        db.close()
    return int(count)


@post("/time-entries", status_code=200)
async def record(data: EntriesIn) -> dict[str, object]:
    """Litestar decodes and validates the body into the struct, as it does for the API."""
    rows = [
        (e.entry_id, e.engagement_id, e.obligation_id, e.resource_id, e.role, e.work_date,
         str(Decimal(e.hours)))
        for e in data.entries
    ]  # fmt: skip
    db = connection()
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO NOTHING",
            rows,
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return {"entries": [{"entry_id": row[0], "status": "accepted"} for row in rows]}


@get("/dashboard")
async def dashboard() -> dict[str, object]:
    rows = connection().execute(
        "SELECT state, count(*), coalesce(sum(gross), 0) FROM invoices GROUP BY state"
    )
    by_state = {}
    gross = {}
    for state, count, total in rows:
        by_state[state] = count
        gross[state] = str(total)
    return {"invoices_by_state": by_state, "gross_by_state": gross}


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar([record, dashboard, health])
