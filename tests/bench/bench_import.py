"""Ingest as users run it, into obligations that already hold many entries: the CSV import
(`throughline import-time`) and the HTTP batch (`POST /time-entries`), at N and 4N rows.

Throughline, CSV: the file is written, then read and sent in batches exactly as `import-time`
does (`read_time_file` and `import_rows` over the bus on the database, the command's default
batch size; only the process start is left out). HTTP: `uvicorn --factory
entrypoints.http.serve:create_from_env` on the same seeded database, batches of 1,000 entries
(the most one request takes), one after another, each with its own Idempotency-Key; every
entry must come back accepted. The client's own work is off the clock: the request bodies are
written before it starts and the answers read after it stops.

Every run starts from a copy of one seeded SQLite database whose two time-and-materials
obligations already hold `stored` entries (100,000 in all; `--quick`: 4,000). The new rows are
February's, for people of their own, so no rule refuses them.

Floor (same run, same rows): as in `bench_ingest`, raw sqlite3 executemany of the rows our
`time_entries` table receives, into that table's shape (its keys and indexes, from the
migrations), ON CONFLICT DO NOTHING, one transaction; `narrow_floor` is the earlier six-column
floor, printed as context.

Growth: the time per row at 4N over the time per row at N (`growth=`); a path whose reads grow
with what the obligations hold shows it here. Full mode: the median of 3 runs; `--quick`: one
small run that only checks everything completes.

Capped: the same CSV import of N rows into one time-and-materials obligation whose cap blocks
overage (set far out of reach, so every row is accepted), holding S entries, then 4S
(`import_csv_capped_sqlite`, `…_4x_stored`): admission checks such a cap against the
obligation's billable total, so here `growth=` is the time per row as the stored entries grow.
The seeding batches go through admission too, so the obligation's running totals (ADR 0059)
are kept from its first batch on, as in use: the import reads them, not the entries.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from adapters.sqlalchemy.database import Database
from application import commands as c
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    ObligationId,
    RateCardId,
    ResourceId,
    TimeEntryId,
)
from domain.time_and_materials import NotToExceed, OveragePolicy, TimeAndMaterialsTerms
from entrypoints.cli.time_import import BATCH_SIZE, HEADER, read_time_file
from entrypoints.cli.time_import_run import import_rows
from tests.bench.bench_http import (
    API_FACTORY,
    INTEGRATION_KEY,
    api_env,
    server,
    write_keys,
)
from tests.bench.bench_ingest import narrow_sqlite_floor, sqlite_floor
from tests.bench.harness import Measurement, arguments, report
from tests.bench.world import (
    CTX,
    ENTITY,
    EUR,
    ROLES,
    bus_on,
    obligation,
    seed_engagements,
    time_entries,
)

#: Engagements 0 and 1 of the bench world: both time and materials.
ENGAGEMENTS = 2
#: Entries per HTTP request: the most one takes.
BATCH = 1_000
#: Growth of the time per row from N to 4N that still counts as flat.
FLAT = 1.3
#: The obligation whose cap blocks overage, and its engagement.
CAPPED = (EngagementId("E-CAPPED"), ObligationId("OB-CAPPED"))


def seed(path: Path, stored: int) -> None:
    """The bench world with `stored` January entries in its two T&M obligations."""
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    bus = bus_on(database, ENGAGEMENTS)
    seed_engagements(bus, ENGAGEMENTS)
    entries = list(time_entries(ENGAGEMENTS, stored))
    for i in range(0, len(entries), 5_000):
        done = bus.handle(c.RecordTimeEntries(tuple(entries[i : i + 5_000])), CTX)
        assert not done.rejected, done.rejected[:3]
    _checkpoint(database, path)


def seed_capped(path: Path, stored: int) -> None:
    """The rate card and one engagement whose T&M obligation has a cap that blocks overage
    (a billion hours: never reached), holding `stored` January entries."""
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    bus = bus_on(database, 1)
    seed_engagements(bus, 0)
    engagement, oid = CAPPED
    contract, customer = ContractId("C-CAPPED"), CustomerId("CUST-00000")
    cap = NotToExceed(hours=Decimal(10**9), policy=OveragePolicy.BLOCK)
    terms = TimeAndMaterialsTerms(oid, "Capped delivery", EUR, RateCardId("RC"), cap=cap)
    bus.handle(c.ProposeEngagement(engagement, customer, contract), CTX)
    bus.handle(c.RegisterContract(contract, customer, ENTITY, "EUR", "Capped deal"), CTX)
    bus.handle(c.DraftContractVersion(contract, date(2026, 1, 1), (terms,)), CTX)
    bus.handle(c.ApproveContractVersion(contract, 1), CTX)
    entries = new_rows(stored, "S", [CAPPED], date(2026, 1, 1))
    for i in range(0, len(entries), 5_000):
        done = bus.handle(c.RecordTimeEntries(tuple(entries[i : i + 5_000])), CTX)
        assert not done.rejected, done.rejected[:3]
    _checkpoint(database, path)


def _checkpoint(database: Database, path: Path) -> None:
    database.dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def new_rows(
    count: int,
    tag: str,
    into: list[tuple[EngagementId, ObligationId]] | None = None,
    first: date = date(2026, 2, 1),
) -> list[c.TimeEntryInput]:
    """`count` entries of 1.5 h over 28 days from `first`, people of their own (`P-tag-…`),
    one entry per person-day, ids unique to the tag; by default into the two T&M
    obligations of the bench world."""
    targets = into or [(EngagementId(f"E-{n:05d}"), obligation(n)) for n in range(ENGAGEMENTS)]
    people = 2_000
    return [
        c.TimeEntryInput(
            TimeEntryId(f"{tag}-{i:08d}"),
            *targets[i % len(targets)],
            ResourceId(f"P-{tag}-{i % people:05d}"),
            ROLES[i % len(ROLES)],
            first + timedelta(days=(i // people) % 28),
            Decimal("1.5"),
        )
        for i in range(count)
    ]


def _csv(entries: list[c.TimeEntryInput], path: Path) -> None:
    lines = [HEADER]
    lines += [
        f"{e.entry_id},{e.engagement_id},{e.obligation_id},{e.resource_id},{e.role},"
        f"{e.work_date.isoformat()},{e.hours},,true"
        for e in entries
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def csv_import(database: Path, workdir: Path, entries: list[c.TimeEntryInput]) -> float:
    """Seconds to read the CSV file and import it in batches, as `import-time` does."""
    file = workdir / "time.csv"
    _csv(entries, file)
    db = Database(f"sqlite:///{database}")
    bus = bus_on(db, ENGAGEMENTS)
    started = time.perf_counter()
    outcome = import_rows(bus, CTX, read_time_file(file), "bench", BATCH_SIZE)
    elapsed = time.perf_counter() - started
    db.dispose()
    if len(outcome.accepted) != len(entries):
        raise RuntimeError(f"import-time refused rows: {outcome.rejected[:3]}")
    return elapsed


def _body(batch: list[c.TimeEntryInput]) -> dict[str, object]:
    return {
        "entries": [
            {
                "entry_id": e.entry_id,
                "engagement_id": e.engagement_id,
                "obligation_id": e.obligation_id,
                "resource_id": e.resource_id,
                "role": e.role,
                "work_date": e.work_date.isoformat(),
                "hours": str(e.hours),
            }
            for e in batch
        ]
    }


def http_batches(database: Path, workdir: Path, entries: list[c.TimeEntryInput]) -> float:
    """Seconds to post the entries in batches of 1,000 to a running server, one at a time."""
    keys = workdir / "keys.json"
    write_keys(keys)
    with server(API_FACTORY, "/health", workdir, api_env(database, keys)) as srv:
        headers = {"X-API-Key": INTEGRATION_KEY}
        with httpx.Client(base_url=f"http://127.0.0.1:{srv.port}", timeout=120.0) as client:
            # Warm-up, not timed: an entry already stored, sent again, is a duplicate.
            headers["Idempotency-Key"] = "bench-import-warm-up"
            stored = list(time_entries(ENGAGEMENTS, 1))
            client.post("/time-entries", json=_body(stored), headers=headers).raise_for_status()
            # The client's own work stays off the clock, as a load generator's does: the
            # bodies are written before it starts, the answers read after it stops.
            batches = [entries[i : i + BATCH] for i in range(0, len(entries), BATCH)]
            bodies = [json.dumps(_body(batch)).encode() for batch in batches]
            headers["Content-Type"] = "application/json"
            answers = []
            started = time.perf_counter()
            for batch, body in zip(batches, bodies, strict=True):
                headers["Idempotency-Key"] = f"bench-import-{batch[0].entry_id}"
                answers.append(client.post("/time-entries", content=body, headers=headers))
            elapsed = time.perf_counter() - started
    for batch, answer in zip(batches, answers, strict=True):
        counts = answer.json().get("counts", {}) if answer.status_code == 200 else {}
        if counts.get("accepted") != len(batch):
            raise RuntimeError(f"POST /time-entries: {answer.status_code} {answer.text}")
    return elapsed


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def measure(
    path: Callable[[Path, Path, list[c.TimeEntryInput]], float],
    template: Path,
    entries: list[c.TimeEntryInput],
    repeats: int,
) -> float:
    """The median seconds of `repeats` runs, each on a fresh copy of the seeded database."""
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "throughline.db"
            shutil.copyfile(template, database)
            runs.append(path(database, Path(tmp), entries))
    return _median(runs)


def main() -> None:
    args = arguments(__doc__ or "")
    n, stored = (500, 4_000) if args.quick else (10_000, 100_000)
    repeats = 1 if args.quick else args.repeats
    measurements = []
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "seeded.db"
        seed(template, stored)
        measure(csv_import, template, new_rows(10, "WARM-UP"), 1)  # first use, not counted
        for name, path in (("import_csv_sqlite", csv_import), ("http_batch_sqlite", http_batches)):
            seconds = {}
            for size in (n, 4 * n):
                entries = new_rows(size, f"N{size}")
                seconds[size] = measure(path, template, entries, repeats)
                floor = _median([sqlite_floor(entries) for _ in range(repeats)])
                narrow = _median([narrow_sqlite_floor(entries) for _ in range(repeats)])
                extra: dict[str, object] = {"stored": stored, "narrow_floor": round(size / narrow)}
                if size == 4 * n:
                    growth = (seconds[size] / size) / (seconds[n] / n)
                    extra["growth"] = f"{growth:.2f}"
                    extra["flat"] = "yes" if growth <= FLAT else "no"
                label = name if size == n else f"{name}_4n"
                measurements.append(Measurement(label, size, seconds[size], floor, extra))
        measurements += capped(tmp, *((100, 500) if args.quick else (1_000, 10_000)), repeats)
    print("import_postgresql skipped: the import bench runs on SQLite only")
    report(measurements, "import")


def capped(tmp: str, n: int, stored: int, repeats: int) -> list[Measurement]:
    """N rows into a capped obligation holding S entries, then 4S."""
    entries = new_rows(n, "CAP", [CAPPED])
    floor = _median([sqlite_floor(entries) for _ in range(repeats)])
    narrow = round(n / _median([narrow_sqlite_floor(entries) for _ in range(repeats)]))
    found = []
    seconds = {}
    for held in (stored, 4 * stored):
        template = Path(tmp) / f"capped-{held}.db"
        seed_capped(template, held)
        seconds[held] = measure(csv_import, template, entries, repeats)
        extra: dict[str, object] = {"stored": held, "narrow_floor": narrow}
        if held != stored:
            growth = seconds[held] / seconds[stored]
            extra.update(growth=f"{growth:.2f}", flat="yes" if growth <= FLAT else "no")
        label = "import_csv_capped_sqlite" + ("_4x_stored" if held != stored else "")
        found.append(Measurement(label, n, seconds[held], floor, extra))
    return found


if __name__ == "__main__":
    main()
