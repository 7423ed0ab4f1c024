"""Billing run: N engagements x 40 approved entries, mixed T&M / retainer / fixed fee /
milestone, committed as draft invoices with provenance, on SQLite; a re-run bills nothing.

Floor (same run, same rows): a set-based reference in raw sqlite3 — one SQL aggregate per
engagement, invoice and invoice-line rows written with executemany, one transaction.
"""

from __future__ import annotations

import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from adapters.sqlalchemy.database import Database
from application import commands as c
from domain.ids import MilestoneId
from domain.period import Period
from tests.bench.harness import Measurement, arguments, report
from tests.bench.world import CTX, bus_on, model_of, seed_engagements, time_entries

JANUARY = Period.month(2026, 1)
PER_ENGAGEMENT = 40
RATES = {"consultant": 120.0, "senior": 165.5, "manager": 210.0}


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
    return database, bus


def floor(engagements: int) -> float:
    """Seconds for one aggregate query per engagement and set-wise invoice and line writes
    (loading the rows is not timed, as seeding is not timed for Throughline)."""
    rows = [
        (e.entry_id, e.obligation_id, e.role, float(e.hours))
        for e in time_entries(engagements, engagements * PER_ENGAGEMENT)
    ]
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


def main() -> None:
    args = arguments(__doc__ or "")
    engagements = 100 if args.quick else 5_000
    repeats = 1 if args.quick else args.repeats
    times, invoices = [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            database, bus = seeded(f"sqlite:///{Path(tmp) / 'tl.db'}", engagements)
            started = time.perf_counter()
            result = bus.handle(c.RunBilling(JANUARY, dry_run=False), CTX)  # type: ignore[attr-defined]
            times.append(time.perf_counter() - started)
            invoices = len(result.invoice_ids)
            again = bus.handle(c.RunBilling(JANUARY), CTX)  # type: ignore[attr-defined]
            assert not again.proposal.invoices, "a re-run must bill nothing"
            database.dispose()
    ours = sorted(times)[len(times) // 2]
    floors = sorted(floor(engagements) for _ in range(repeats))
    reference = floors[len(floors) // 2]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    measurement = Measurement(
        "billing_run_sqlite_invoices",
        invoices,
        ours,
        reference,
        {"entries": engagements * PER_ENGAGEMENT, "peak_rss_mb": round(peak_mb)},
    )
    report([measurement], "billing")


if __name__ == "__main__":
    main()
