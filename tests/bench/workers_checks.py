"""What `bench_workers` checks after each run, once the relays have drained the outbox: every
entry accepted stored once with its idempotency key completed, every event of the run delivered
once to each subscriber, nothing billed twice."""

from __future__ import annotations

import time
from typing import Any

import attrs
import httpx
import psycopg

from tests.bench.bench_http import BenchError
from tests.bench.workers_stack import SUBSCRIBERS, Stack, libpq_url

DRAIN_TIMEOUT = 180.0


@attrs.frozen
class World:
    engagements: int
    template: str
    #: The outbox sequence the seeded events end at: the runs' own events come after it.
    seeded_events: int


def drain(database: str, world: World) -> float:
    """Seconds until every event of the run is delivered (the relays keep running)."""
    started = time.monotonic()
    with psycopg.connect(libpq_url(database), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM outbox WHERE sequence > %s AND state <> 'delivered'",
                (world.seeded_events,),
            ).fetchone()
            if row is not None and row[0] == 0:
                return time.monotonic() - started
            if time.monotonic() - started > DRAIN_TIMEOUT:
                states = conn.execute(
                    "SELECT state, count(*) FROM outbox WHERE sequence > %s GROUP BY state",
                    (world.seeded_events,),
                ).fetchall()
                raise BenchError(f"the outbox did not drain in {DRAIN_TIMEOUT:.0f}s: {states}")
            time.sleep(0.2)


def received(s: Stack) -> dict[str, dict[str, int]]:
    answer = httpx.get(f"http://127.0.0.1:{s.sink_port}/received", timeout=30.0)
    answer.raise_for_status()
    counts: dict[str, dict[str, int]] = answer.json()
    return counts


def check(database: str, world: World, result: dict[str, Any], run: str,
          by_subscriber: dict[str, dict[str, int]]) -> dict[str, int]:  # fmt: skip
    """Stored once, delivered once per subscriber, nothing billed twice; what was counted."""
    accepted = set(result["accepted_entry_ids"])
    if len(accepted) != len(result["accepted_entry_ids"]):
        raise BenchError("an entry id was accepted twice as new")
    with psycopg.connect(libpq_url(database), autocommit=True) as conn:
        stored = [
            r[0]
            for r in conn.execute(
                "SELECT entry_id FROM time_entries WHERE entry_id LIKE %s", (f"W-{run}-%",)
            )
        ]
        keys = conn.execute(
            "SELECT count(*) FROM idempotency_keys WHERE key LIKE %s AND status = 'completed'",
            (f"w-{run}-%",),
        ).fetchone()
        events = [
            r[0]
            for r in conn.execute(
                "SELECT event_id FROM outbox WHERE sequence > %s", (world.seeded_events,)
            )
        ]
        twice_billed = conn.execute(
            "SELECT source_kind, source_id, count(DISTINCT document_id) FROM ledger_entries "
            "WHERE NOT credit GROUP BY source_kind, source_id "
            "HAVING count(DISTINCT document_id) > 1 LIMIT 5"
        ).fetchall()
        two_invoices = conn.execute(
            "SELECT l.obligation_id, count(DISTINCT l.document_id) FROM ledger_entries AS l "
            "JOIN invoices AS i ON i.id = l.document_id WHERE NOT l.credit "
            "GROUP BY l.obligation_id HAVING count(DISTINCT l.document_id) > 1 LIMIT 5"
        ).fetchall()
        (invoices,) = conn.execute("SELECT count(*) FROM invoices").fetchone() or (0,)
    if len(stored) != len(set(stored)) or set(stored) != accepted:
        raise BenchError(
            f"{len(accepted)} entries accepted, {len(stored)} stored "
            f"({len(set(stored) - accepted)} not accepted, {len(accepted - set(stored))} missing)"
        )
    if keys is None or keys[0] != len(accepted):
        raise BenchError(f"{len(accepted)} entries accepted, {keys} idempotency keys completed")
    reported = result["invoice_ids"]
    if len(reported) != len(set(reported)):
        raise BenchError("two billing runs reported the same invoice")
    if twice_billed or two_invoices:
        raise BenchError(f"billed twice: {twice_billed}; two invoices: {two_invoices}")
    expected = set(events)
    for name in SUBSCRIBERS:
        got = by_subscriber.get(f"/{name}", {})
        again = [event for event, times in got.items() if times != 1]
        if set(got) != expected or again:
            raise BenchError(
                f"subscriber {name}: {len(expected)} events written, {len(got)} received "
                f"({len(expected - set(got))} missing, {len(set(got) - expected)} unknown, "
                f"{len(again)} more than once)"
            )
    return {
        "entries_accepted": len(accepted),
        "replays": result["replays"],
        "events_delivered": len(expected),
        "billing_runs": sum(result["billing_answers"].values()),
        "invoices": int(invoices),
    }
