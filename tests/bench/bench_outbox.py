"""The outbox relay on SQLite: claim, decode, publish to a local sink, mark delivered.

Throughline: the relay loop (`entrypoints.workers.relay.run_relay`, batches of 100) through the unit
of work and `SqlAlchemyOutbox`, publishing to an in-process sink that accepts every event, so
the relay machinery is measured rather than HTTP.
Floor (same run, same rows): raw `sqlite3` on a copy of the same database file: in batches
of 100, `UPDATE ... RETURNING` claims the due events that head their aggregate (the same
ordering rule), `json.loads` decodes each payload, one `UPDATE` marks the batch delivered.

Seeded: N events over N/10 aggregates, interleaved as concurrent commits would write them.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.clock import SystemClock
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.records import DeliveryState, OutboxEvent
from application.unit_of_work import UnitOfWork
from entrypoints.workers.relay import run_relay
from tests.bench.harness import Measurement, arguments, report

BATCH = 100
EVENT_TYPES = (
    ("Invoice", "InvoiceDrafted"),
    ("Invoice", "InvoiceApproved"),
    ("Invoice", "InvoiceIssued"),
    ("Invoice", "PaymentRecorded"),
    ("Engagement", "EngagementActivated"),
    ("TimeEntry", "ItemApproved"),
)


def events(count: int, seed: int = 11) -> Iterator[OutboxEvent]:
    """`count` outbox events over `count // 10` aggregates, in a seeded interleaving."""
    rng = random.Random(seed)
    aggregates = max(1, count // 10)
    start = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
    for n in range(count):
        aggregate_type, event_type = EVENT_TYPES[rng.randrange(len(EVENT_TYPES))]
        aggregate_id = f"AGG-{rng.randrange(aggregates):06d}"
        yield OutboxEvent(
            f"evt-{n:08d}",
            event_type,
            aggregate_type,
            aggregate_id,
            {
                "id": aggregate_id,
                "customer_id": f"CUST-{rng.randrange(500):05d}",
                "amount": f"{rng.randrange(100, 10_000_000) / 100:.2f}",
                "currency": "EUR",
                "at": (start + timedelta(seconds=n)).isoformat(),
            },
            f"corr-{n // 7:08d}",
            start + timedelta(seconds=n),
        )


class LocalSink:
    """An `EventPublisher` that accepts everything: what it received, per aggregate."""

    def __init__(self) -> None:
        self.received = 0
        self.last: dict[tuple[str, str], str] = {}
        self.out_of_order = 0

    def publish(self, event: OutboxEvent) -> None:
        self.received += 1
        key = (event.aggregate_type, event.aggregate_id)
        previous = self.last.get(key)
        if previous is not None and previous > event.event_id:  # ids are zero-padded, ordered
            self.out_of_order += 1
        self.last[key] = event.event_id


def seeded_template(directory: Path, count: int) -> Path:
    """A migrated SQLite file holding the pending events (checkpointed, ready to copy)."""
    path = directory / "template.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    ctx = RequestContext("bench", "bench-seed")
    rows = list(events(count))
    with database.unit_of_work(ctx, SystemClock().now) as uow:
        for i in range(0, len(rows), 10_000):
            uow.outbox.add(rows[i : i + 10_000])
        uow.commit()
    database.dispose()
    return path


def fresh_copy(template: Path, directory: Path, name: str) -> Path:
    target = directory / name
    shutil.copyfile(template, target)
    return target


def throughline(path: Path, count: int) -> float:
    """Seconds for the relay loop to deliver every event (opening the database not timed)."""
    database = Database(f"sqlite:///{path}")
    clock = SystemClock()
    sink = LocalSink()

    def uow(ctx: RequestContext, *, read_only: bool = False) -> UnitOfWork:
        return database.unit_of_work(ctx, clock.now, read_only=read_only)

    with database.unit_of_work(RequestContext("bench", "warm-up"), clock.now) as warm:
        warm.outbox.pending(1)  # the first connection and its pragmas
    started = time.perf_counter()
    totals = run_relay(uow, clock, sink, worker_id="bench", batch=BATCH, once=True)
    elapsed = time.perf_counter() - started
    assert (totals.delivered, sink.received, sink.out_of_order) == (count, count, 0), totals
    with database.unit_of_work(RequestContext("bench", "check"), clock.now, read_only=True) as u:
        assert u.outbox.in_state(DeliveryState.PENDING, 1) == []
    database.dispose()
    return elapsed


FLOOR_CLAIM = """
UPDATE outbox SET state = 'in_flight', claimed_by = ?, claimed_at = ?
WHERE sequence IN (
    SELECT c.sequence FROM outbox AS c
    WHERE c.state = 'pending' AND c.next_attempt_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM outbox AS e
        WHERE e.aggregate_type = c.aggregate_type AND e.aggregate_id = c.aggregate_id
          AND e.sequence < c.sequence AND e.state != 'delivered')
    ORDER BY c.sequence LIMIT ?)
RETURNING sequence, event_id, event_type, aggregate_type, aggregate_id, payload,
          correlation_id, occurred_at
"""


def floor(path: Path, count: int) -> float:
    """Seconds for the raw claim-decode-mark loop over the same rows."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    delivered = 0
    started = time.perf_counter()
    while True:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(FLOOR_CLAIM, ("floor", now, BATCH)).fetchall()
        db.execute("COMMIT")
        if not rows:
            break
        decoded = [(row[0], row[1], json.loads(row[5])) for row in rows]
        db.execute("BEGIN IMMEDIATE")
        marks = ",".join("?" * len(decoded))
        db.execute(
            f"UPDATE outbox SET state = 'delivered' WHERE sequence IN ({marks})",
            [sequence for sequence, _, _ in decoded],
        )
        db.execute("COMMIT")
        delivered += len(decoded)
    elapsed = time.perf_counter() - started
    db.close()
    assert delivered == count, delivered
    return elapsed


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    args = arguments(__doc__ or "")
    count = 5_000 if args.quick else 100_000
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        template = seeded_template(directory, count)
        ours: list[float] = []
        base: list[float] = []
        for n in range(repeats):  # alternated, so a noisy neighbour hits both alike
            ours.append(throughline(fresh_copy(template, directory, f"t{n}.db"), count))
            base.append(floor(fresh_copy(template, directory, f"f{n}.db"), count))
    extra = {"batch": BATCH}
    relay = Measurement("outbox_relay_sqlite", count, _median(ours), _median(base), extra)
    report([relay], "outbox")


if __name__ == "__main__":
    main()
