"""Billing run: N engagements x 40 approved entries, mixed T&M / retainer / fixed fee /
milestone, committed as draft invoices with provenance, on SQLite; a re-run bills nothing.

Also: the re-run with nothing left to bill (a dry run after the full run) against the full run
of the same size, and how both grow from N/4 to N engagements.

Floor (same run, same rows): a set-based reference in raw sqlite3 — one SQL aggregate per
engagement, invoice and invoice-line rows written with executemany, one transaction.

Ceiling (same run, a context row, not a floor and not a target): `ceiling`, the least any
exact run with provenance does in Python on the floor's reads (Decimal hours and amounts, one
half-up rounding and one JSON snapshot per invoice, a ledger row per entry); the gap from the
floor to it is what Python and Decimal cost, the gap from it to Throughline what terms, caps,
tax, events, audit and the unit of work cost.

Each size is seeded in this process, then measured in a fresh process on a copy of the seeded
database (`measure_child`): the committed run, then the re-run, each timed in wall and CPU time,
and the run's own memory (peak RSS after the run less RSS before it; target: at most 500 MB over
200k entries). No size inherits the heap, caches or garbage of the seeding or of the size before
it, so N/4 and N are measured alike and their growth is the run's own (ADR 0060).
"""

from __future__ import annotations

import gc
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import attrs

from adapters.sqlalchemy.database import Database
from application import commands as c
from domain.ids import MilestoneId
from domain.money import EXACT, dsum
from domain.period import Period
from tests.bench.harness import Measurement, arguments, report
from tests.bench.world import CTX, bus_on, model_of, seed_engagements, time_entries

JANUARY = Period.month(2026, 1)
PER_ENGAGEMENT = 40
RATES = {"consultant": 120.0, "senior": 165.5, "manager": 210.0}
#: A re-run with nothing left to bill costs at most this share of the full run ...
RERUN_TARGET = 0.2
#: ... and four times the engagements take at most this many times as long (no quadratic step).
GROWTH_TARGET = 4.6
#: The run's own memory over 200k entries, in MB.
RSS_TARGET_MB = 500


def seeded(url: str, engagements: int) -> tuple[Database, object]:
    database = Database(url)
    database.upgrade()
    bus = bus_on(database, engagements)
    seed_engagements(bus, engagements)
    entries = list(time_entries(engagements, engagements * PER_ENGAGEMENT))
    for i in range(0, len(entries), 5_000):
        bus.handle(c.RecordTimeEntries(tuple(entries[i : i + 5_000])), CTX)
    for n in range(engagements):
        if model_of(n) == "milestones":
            bus.handle(c.CompleteMilestone(MilestoneId(f"M{n}-1"), "signed", JANUARY.end), CTX)
            bus.handle(c.AcceptMilestone(MilestoneId(f"M{n}-1"), JANUARY.end), CTX)
    _checkpoint(database)
    # What the seeding left (cyclic garbage the paused collector moved to the oldest generation
    # unwalked, ADR 0054) is freed before the next size is seeded; the runs themselves are
    # measured in a fresh process, which inherits none of it (ADR 0060).
    gc.collect()
    return database, bus


def _checkpoint(database: Database) -> None:
    """Copy what the seeding left in the write-ahead log into the database file (as
    `bench_import` and `bench_http` do after theirs, and as the server's checkpoint thread
    does): the timed run starts from an empty log, so whether its commit also copies the
    seeding's pages back does not depend on where the seeding's last checkpoint fell."""
    path = database.url.database
    if database.dialect == "sqlite" and path:
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()


def _reference_rows(engagements: int) -> list[tuple[str, str, str, str]]:
    """The entries the floor and the ceiling bill: (id, obligation, role, hours as text)."""
    return [
        (e.entry_id, e.obligation_id, e.role, str(e.hours))
        for e in time_entries(engagements, engagements * PER_ENGAGEMENT)
    ]


def floor(engagements: int) -> float:
    """Seconds for one aggregate query per engagement and set-wise invoice and line writes
    (loading the rows is not timed, as seeding is not timed for Throughline)."""
    rows = [(i, o, r, float(h)) for i, o, r, h in _reference_rows(engagements)]
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db")
        db.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, obligation TEXT, role TEXT, h REAL)")
        db.execute("CREATE INDEX entries_obligation ON entries (obligation)")
        db.execute("CREATE TABLE rates (role TEXT PRIMARY KEY, rate REAL)")
        db.execute("CREATE TABLE invoices (id TEXT PRIMARY KEY, obligation TEXT, net REAL)")
        db.execute("CREATE TABLE lines (invoice TEXT, entry TEXT, hours REAL, amount REAL)")
        with db:
            db.executemany("INSERT INTO entries VALUES (?,?,?,?)", rows)
            db.executemany("INSERT INTO rates VALUES (?,?)", list(RATES.items()))
        started = time.perf_counter()
        with db:
            invoices, lines = [], []
            for n in range(engagements):
                obligation = f"OB-{n:05d}"
                found = db.execute(
                    "SELECT e.id, e.h, e.h * r.rate FROM entries e JOIN rates r USING (role)"
                    " WHERE e.obligation = ?",
                    (obligation,),
                ).fetchall()
                invoice = f"INV-{n:05d}"
                invoices.append((invoice, obligation, sum(a for _, _, a in found)))
                lines.extend((invoice, entry, hours, amount) for entry, hours, amount in found)
            db.executemany("INSERT INTO invoices VALUES (?,?,?)", invoices)
            db.executemany("INSERT INTO lines VALUES (?,?,?,?)", lines)
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


CENT = Decimal("0.01")


def ceiling(engagements: int) -> float:
    """Seconds for the least any exact run with provenance does in Python, on the floor's
    reads: each entry's hours and rate as Decimals and their exact product, each invoice's net
    summed exactly and rounded half-up once, one JSON snapshot per invoice naming every entry
    it bills, and the invoice, allocation and ledger rows written with executemany. No
    contract, terms, caps, tax, events or audit: a context row, not a floor and not a target
    (what it costs over the floor no implementation on Python and Decimal avoids)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "ceiling.db")
        db.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, obligation TEXT, role TEXT, h TEXT)")
        db.execute("CREATE INDEX entries_obligation ON entries (obligation)")
        db.execute("CREATE TABLE rates (role TEXT PRIMARY KEY, rate TEXT)")
        db.execute(
            "CREATE TABLE invoices (id TEXT PRIMARY KEY, obligation TEXT, net TEXT, body TEXT)"
        )
        db.execute("CREATE TABLE ledger (invoice TEXT, entry TEXT, hours TEXT, amount TEXT)")
        with db:
            db.executemany("INSERT INTO entries VALUES (?,?,?,?)", _reference_rows(engagements))
            db.executemany(
                "INSERT INTO rates VALUES (?,?)",
                [(r, str(Decimal(str(v)))) for r, v in RATES.items()],
            )
        started = time.perf_counter()
        with db:
            invoices, ledger = [], []
            for n in range(engagements):
                obligation, invoice = f"OB-{n:05d}", f"INV-{n:05d}"
                allocations = []
                for entry, hours, rate in db.execute(
                    "SELECT e.id, e.h, r.rate FROM entries e JOIN rates r USING (role)"
                    " WHERE e.obligation = ?",
                    (obligation,),
                ):
                    quantity = Decimal(hours)
                    allocations.append((entry, quantity, EXACT.multiply(quantity, Decimal(rate))))
                net = dsum(a for _, _, a in allocations).quantize(CENT, ROUND_HALF_UP)
                body = json.dumps(
                    {
                        "invoice_id": invoice,
                        "net": str(net),
                        "allocations": [
                            {"source": e, "quantity": str(q), "amount": str(a)}
                            for e, q, a in allocations
                        ],
                    }
                )
                invoices.append((invoice, obligation, str(net), body))
                ledger.extend((invoice, e, str(q), str(a)) for e, q, a in allocations)
            db.executemany("INSERT INTO invoices VALUES (?,?,?,?)", invoices)
            db.executemany("INSERT INTO ledger VALUES (?,?,?,?)", ledger)
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


@attrs.frozen
class Runs:
    """Medians over the repeats at one size, each measured in a fresh process: the full run,
    then the re-run that bills nothing."""

    engagements: int
    invoices: int
    run_seconds: float
    rerun_seconds: float
    #: The same, in this process's CPU time: what the run itself costs on a shared machine,
    #: where wall time waits for other work (the growth is judged on both).
    run_cpu_seconds: float = 0.0
    rerun_cpu_seconds: float = 0.0
    #: Peak RSS of the committed run less RSS before it (MB).
    run_rss_mb: float = 0.0


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def timed_runs(engagements: int, repeats: int) -> Runs:
    """Seed, then in a fresh process commit the period's run and preview it again (a dry run
    with nothing left to bill, as a billing specialist re-runs it); only the two runs are
    timed, and each repeat seeds and measures anew."""
    measured = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            database, _ = seeded(f"sqlite:///{Path(tmp) / 'tl.db'}", engagements)
            database.dispose()
            measured.append(run_measured(Path(tmp) / "tl.db", engagements))
    return Runs(
        engagements,
        int(measured[0]["invoices"]),
        median([x["run_s"] for x in measured]),
        median([x["rerun_s"] for x in measured]),
        median([x["run_cpu_s"] for x in measured]),
        median([x["rerun_cpu_s"] for x in measured]),
        median([x["run_rss_mb"] for x in measured]),
    )


def memory_only(engagements: int) -> float:
    """The committed run's own memory (`measure_child`) on a database seeded for it alone: the
    size between the timed ones, so the memory row shows how it grows as entries double."""
    with tempfile.TemporaryDirectory() as tmp:
        database, _ = seeded(f"sqlite:///{Path(tmp) / 'tl.db'}", engagements)
        database.dispose()
        return run_measured(Path(tmp) / "tl.db", engagements)["run_rss_mb"]


def run_measured(seeded_file: Path, engagements: int) -> dict[str, float]:
    """`measure_child`'s figures, from a fresh process on a copy of the seeded database."""
    copy = seeded_file.with_name("measured.db")
    source, target = sqlite3.connect(seeded_file), sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    child = [sys.executable, "-m", "tests.bench.bench_billing", "--measure-of", str(copy)]
    found = subprocess.run([*child, str(engagements)], capture_output=True, text=True, check=True)
    copy.unlink()
    measured: dict[str, float] = json.loads(found.stdout.splitlines()[-1])
    return measured


def measure_child(path: str, engagements: int) -> None:
    """In a fresh process: the committed run (wall and CPU seconds, peak RSS after it less RSS
    before it), then the re-run that bills nothing (wall and CPU seconds), as JSON."""
    database = Database(f"sqlite:///{path}")
    bus = bus_on(database, engagements)
    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    result = bus.handle(c.RunBilling(JANUARY, dry_run=False), CTX)  # type: ignore[attr-defined]
    run_s, run_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    rss = round(_peak_mb() - before, 1)
    started, cpu = time.perf_counter(), time.process_time()
    again = bus.handle(c.RunBilling(JANUARY), CTX)  # type: ignore[attr-defined]
    rerun_s, rerun_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    assert again.proposal.is_empty, "a re-run must bill nothing"
    measured = {
        "invoices": len(result.invoice_ids),
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "rerun_s": rerun_s,
        "rerun_cpu_s": rerun_cpu_s,
        "run_rss_mb": rss,
    }
    print(json.dumps(measured), flush=True)
    database.dispose()


def _rss_mb() -> float:
    """The resident set now (Linux: /proc), else the peak so far."""
    return _status_mb("VmRSS") or _peak_mb()


def _peak_mb() -> float:
    """This process's peak resident set (Linux: /proc's VmHWM, else getrusage). Not
    `ru_maxrss` on Linux: it keeps the high-water mark of the process before its exec, a copy
    of the parent, so a child spawned by a bench that seeded 200k entries reported the bench's
    RSS, not its own."""
    return _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float | None:
    """A size from /proc/self/status in MB (None where there is no /proc)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return None


def rerun_measurement(small: Runs, large: Runs) -> Measurement:
    """The re-run with nothing left to bill against the full run of the same size as its
    floor (ratio = full run / re-run: 5 or more is a re-run within 0.2 of the run), with how
    both grow from N/4 to N engagements."""
    grown = f"{small.engagements}_to_{large.engagements}"
    return Measurement(
        "billing_rerun_nothing_to_bill",
        large.engagements,
        large.rerun_seconds,
        large.run_seconds,
        {
            "rerun_s": round(large.rerun_seconds, 3),
            "full_run_s": round(large.run_seconds, 3),
            "rerun_over_full": round(large.rerun_seconds / large.run_seconds, 2),
            "target": f"<={RERUN_TARGET}",
            f"growth_run_{grown}": round(large.run_seconds / small.run_seconds, 2),
            f"growth_rerun_{grown}": round(large.rerun_seconds / small.rerun_seconds, 2),
            "full_run_cpu_s": round(large.run_cpu_seconds, 3),
            "rerun_cpu_s": round(large.rerun_cpu_seconds, 3),
            f"growth_run_cpu_{grown}": round(large.run_cpu_seconds / small.run_cpu_seconds, 2),
            f"growth_rerun_cpu_{grown}": round(
                large.rerun_cpu_seconds / small.rerun_cpu_seconds, 2
            ),
            "growth_target": f"<={GROWTH_TARGET}",
        },
    )


def main() -> None:
    if sys.argv[1:2] == ["--measure-of"]:
        measure_child(sys.argv[2], int(sys.argv[3]))
        return
    args = arguments(__doc__ or "")
    engagements = 100 if args.quick else 5_000
    repeats = 1 if args.quick else args.repeats
    small = timed_runs(engagements // 4, repeats)
    large = timed_runs(engagements, repeats)
    middle_rss_mb = memory_only(engagements // 2)
    reference = median([floor(engagements) for _ in range(repeats)])
    least = median([ceiling(engagements) for _ in range(repeats)])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    measurement = Measurement(
        "billing_run_sqlite_invoices",
        large.invoices,
        large.run_seconds,
        reference,
        {
            "entries": engagements * PER_ENGAGEMENT,
            # The ceiling (`ceiling`): a context row, the least Python work of an exact run.
            "ceiling_per_s": round(large.invoices / least),
            "ceiling_ratio": round(reference / least, 2),
            "throughline_over_ceiling": round(least / large.run_seconds, 2),
            "peak_rss_mb": round(peak_mb),
            f"run_rss_mb_{small.engagements * PER_ENGAGEMENT}": round(small.run_rss_mb, 1),
            f"run_rss_mb_{engagements // 2 * PER_ENGAGEMENT}": round(middle_rss_mb, 1),
            f"run_rss_mb_{large.engagements * PER_ENGAGEMENT}": round(large.run_rss_mb, 1),
            # Flat memory grows 1.0 times each time the entries double.
            f"run_rss_growth_{small.engagements}_to_{engagements // 2}": round(
                middle_rss_mb / small.run_rss_mb, 2
            ),
            f"run_rss_growth_{engagements // 2}_to_{large.engagements}": round(
                large.run_rss_mb / middle_rss_mb, 2
            ),
            "run_rss_target_mb": f"<={RSS_TARGET_MB}",
        },
    )
    report([measurement, rerun_measurement(small, large)], "billing")


if __name__ == "__main__":
    main()
