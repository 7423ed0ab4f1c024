"""Several workers on PostgreSQL: 4 API workers and 2 relays under a mixed load, against the
same load on 1 API worker.

Throughline: `throughline serve --workers 4 --no-relay` and two `throughline relay` processes
delivering to two webhook subscribers (`tests.bench.sink`, a local process that counts what it
receives by event id), on a throwaway PostgreSQL database seeded with engagements of every
billing model and a month of approved time. `tests.bench.loadmix`, in its own process, sends a
bounded mixed load for a fixed time: time entries with Idempotency-Keys (one POST in ten a
repeat of an earlier one, which must be replayed), billing runs committing January contract
by contract (two in a row for the same contract, so runs race for it across workers), and
finance reads (dashboard, invoice list).
Floor (same run, same load, same relays): `throughline serve --workers 1 --no-relay`.

Then, for every run, once the relays have drained the outbox:
- every entry accepted is stored, once, with its idempotency key completed, and nothing else;
- every event the run wrote is delivered, once to each subscriber, and nothing else arrived;
- no source quantity is billed twice and no obligation has two invoices for the period.
Any violation fails the bench. The line reports the throughput of 4 workers over 1 (target
1.5 on 2 cores shared with PostgreSQL and the load generator) and where the CPU went during the
load (API workers, relays, PostgreSQL's backends of the bench database, the load generator,
the sink, and everything else on the machine).

Needs `THROUGHLINE_TEST_POSTGRES_URL` (as `.ci/run` sets it); without it the bench says so and
reports nothing. Full mode: 3 runs of each (alternated), medians; `--quick`: one short run of
each, which checks the correctness conditions (its speed means nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import psycopg

from adapters.sqlalchemy.database import Database
from application import commands as c
from tests.bench.bench_http import (
    FINANCE_KEY,
    INTEGRATION_KEY,
    BenchError,
    _tail,
    child_env,
    write_keys,
)
from tests.bench.cpu import CpuClock
from tests.bench.harness import Measurement, report
from tests.bench.loadmix import Mix
from tests.bench.pg_waits import WaitSampler
from tests.bench.workers_checks import World, check, drain, received
from tests.bench.workers_stack import RELAYS, SUBSCRIBERS, Stack, cpu_clock, libpq_url, stack
from tests.bench.world import CTX, ROLES, bus_on, model_of, obligation, seed_engagements
from tests.bench.world import time_entries as january_entries

POSTGRES_VARIABLE = "THROUGHLINE_TEST_POSTGRES_URL"
WORKERS = 4
CONCURRENCY = 16
PER_ENGAGEMENT = 40
PERIOD = "2026-01"
TARGET = 1.5


@attrs.frozen
class Durations:
    warmup: float
    measure: float
    repeats: int


# -- the seeded world -------------------------------------------------------------------------


def seed(url: str, engagements: int) -> int:
    """The engagements and January's approved time, through the application bus; the events
    this wrote are marked delivered (the runs deliver only their own). The last sequence."""
    database = Database(url)
    database.upgrade()
    bus = bus_on(database, engagements)
    seed_engagements(bus, engagements)
    entries = tuple(january_entries(engagements, engagements * PER_ENGAGEMENT))
    outcome = bus.handle(c.RecordTimeEntries(entries), CTX)
    assert not outcome.rejected, outcome.rejected[:3]
    database.dispose()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("UPDATE outbox SET state = 'delivered'")
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT coalesce(max(sequence), 0) FROM outbox").fetchone()
    assert row is not None
    return int(row[0])


def mix(run: str, engagements: int) -> Mix:
    tm = [n for n in range(engagements) if model_of(n) == "tm"]
    return Mix(
        run=run,
        integration_key=INTEGRATION_KEY,
        finance_key=FINANCE_KEY,
        targets=tuple((f"E-{n:05d}", str(obligation(n))) for n in tm),
        contracts=tuple(f"C-{n:05d}" for n in range(engagements)),
        period=PERIOD,
        roles=tuple(str(r) for r in ROLES),
        first_work_date=date(2026, 2, 2).isoformat(),
    )


# -- the load ----------------------------------------------------------------------------------


def load(s: Stack, database: str, the_mix: Mix, d: Durations) -> dict[str, Any]:
    """Run the load generator in its own process; the CPU each group used meanwhile."""
    command = [
        sys.executable, "-m", "tests.bench.loadmix", "--port", str(s.port),
        "--mix", the_mix.to_json(), "--concurrency", str(CONCURRENCY),
        "--duration", str(d.measure), "--warmup", str(d.warmup),
    ]  # fmt: skip
    generator = subprocess.Popen(
        command, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    clock = cpu_clock(s, database)
    before = clock.read()
    with WaitSampler(database) as sampler:
        try:
            out, err = generator.communicate(timeout=d.warmup + d.measure + 60)
        except subprocess.TimeoutExpired:
            generator.kill()
            raise BenchError("the load generator did not stop by itself") from None
    after = clock.read()
    if generator.returncode != 0:
        raise BenchError(f"the load generator failed:\n{err[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    if result["errors"] or not result["requests"]:
        raise BenchError(
            f"{result['errors']} error(s) in {result['sent']} requests, e.g.\n"
            + "\n".join(result["error_samples"])
            + f"\napi log:\n{_tail(s.api_log)}"
        )
    split = CpuClock.split(before, after)
    # the generator has exited by now: it reports its own CPU time, which /proc counted as other
    split["loadgen"] = result["cpu_seconds"]
    split["other"] = round(max(split["other"] - split["loadgen"], 0.0), 2)
    result["cpu_seconds"] = split
    result["postgresql_connections"] = sampler.shares()
    return result


# -- runs and the line ------------------------------------------------------------------------


def one_run(url: str, world: World, workers: int, n: int, workdir: Path, keys: Path,
            d: Durations) -> dict[str, Any]:  # fmt: skip
    """A fresh copy of the seeded database, the stack with `workers` API workers, the load,
    the drain and the checks."""
    from tests.bench.pg import fresh_database

    run = f"w{workers}r{n}"
    with fresh_database(url, template=world.template) as database:
        with stack(database, workers, workdir, keys) as s:
            result = load(s, database, mix(run, world.engagements), d)
            result["drain_seconds"] = round(drain(database, world), 2)
            by_subscriber = received(s)
        result["checked"] = check(database, world, result, run, by_subscriber)
    for big in ("accepted_entry_ids", "invoice_ids"):
        del result[big]
    print(
        f"  {workers} worker(s), run {n}: {result['per_s']:,.0f} req/s "
        f"cpu={result['cpu_seconds']} checked={result['checked']} "
        f"postgresql={result['postgresql_connections']}",
        file=sys.stderr,
        flush=True,
    )
    return result


#: What the one-line summary shows besides the rates (the JSON keeps every extra).
LINE_EXTRAS = ("target", "projected_idle_ratio", "machine_share_4", "cpu_share_4")


@attrs.frozen
class WorkersMeasurement(Measurement):
    def line(self) -> str:
        shown = {k: self.extra[k] for k in LINE_EXTRAS if k in self.extra}
        return Measurement(
            self.workload, self.units, self.throughline_seconds, self.floor_seconds, shown
        ).line()


def _cpu_share(runs: list[dict[str, Any]]) -> str:
    """The median CPU seconds per group as shares of the CPU the groups and the rest used."""
    groups = ("api", "relays", "postgresql", "loadgen", "sink", "other")
    med = {g: statistics.median(r["cpu_seconds"][g] for r in runs) for g in groups}
    busy = sum(med.values()) or 1.0
    return ",".join(f"{g}:{100 * med[g] / busy:.0f}%" for g in groups)


OWN_GROUPS = ("api", "relays", "postgresql", "loadgen", "sink")


def cpu_per_request(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Median CPU milliseconds per request sent, per group of the bench's own processes."""
    return {
        g: round(statistics.median(1000 * r["cpu_seconds"][g] / r["sent"] for r in runs), 3)
        for g in OWN_GROUPS
    }


def projected_ratio(four: dict[str, float], one: dict[str, float], cores: int) -> float:
    """What the measured CPU per request gives on `cores` cores with nothing else running: one
    worker runs Python on one core at most (the GIL), four share every core with PostgreSQL,
    the relays and the load generator. A model, not a measurement."""
    one_rate = min(1000 / one["api"], 1000 * cores / sum(one.values()))
    four_rate = 1000 * min(WORKERS, cores) / sum(four.values())
    return round(four_rate / one_rate, 2)


def machine_share(runs: list[dict[str, Any]]) -> float:
    """The median share of the machine's CPU the bench's own processes used."""
    return round(
        statistics.median(
            sum(r["cpu_seconds"][g] for g in OWN_GROUPS) / r["cpu_seconds"]["wall_cpu"]
            for r in runs
        ),
        2,
    )


def summary(four: list[dict[str, Any]], one: list[dict[str, Any]], world: World
            ) -> WorkersMeasurement:  # fmt: skip
    rate = statistics.median(r["per_s"] for r in four)
    floor_rate = statistics.median(r["per_s"] for r in one)
    units = round(rate * four[0]["seconds"])
    per_request_4, per_request_1 = cpu_per_request(four), cpu_per_request(one)
    cores = os.cpu_count() or 1
    return WorkersMeasurement(
        "workers_postgresql_4_vs_1",
        units,
        units / rate,
        units / floor_rate,
        {
            "target": TARGET,
            "cpu_share_4": _cpu_share(four),
            "cpu_share_1": _cpu_share(one),
            "machine_share_4": machine_share(four),
            "machine_share_1": machine_share(one),
            "projected_idle_ratio": projected_ratio(per_request_4, per_request_1, cores),
            "cpu_ms_per_request_4": per_request_4,
            "cpu_ms_per_request_1": per_request_1,
            "workers": WORKERS,
            "relays": RELAYS,
            "subscribers": len(SUBSCRIBERS),
            "concurrency": CONCURRENCY,
            "engagements": world.engagements,
            "cores": os.cpu_count(),
            "per_run_per_s": [r["per_s"] for r in four],
            "floor_per_run_per_s": [r["per_s"] for r in one],
            "runs_4": four,
            "runs_1": one,
        },
    )


def measure(url: str, engagements: int, d: Durations) -> None:
    from tests.bench.pg import fresh_database

    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        workdir = Path(tmp)
        keys = workdir / "keys.json"
        write_keys(keys)
        with fresh_database(url) as template:
            seeded = seed(template, engagements)
            world = World(engagements, template.rpartition("/")[2], seeded)
            four: list[dict[str, Any]] = []
            one: list[dict[str, Any]] = []
            for n in range(d.repeats):  # alternated, so a noisy neighbour hits both alike
                one.append(one_run(url, world, 1, n, workdir, keys, d))
                four.append(one_run(url, world, WORKERS, n, workdir, keys, d))
    report([summary(four, one, world)], "workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI-sized run: checks correctness")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per load")
    args = parser.parse_args()
    url = os.environ.get(POSTGRES_VARIABLE, "").strip()
    if not url:
        print(f"bench_workers: no PostgreSQL ({POSTGRES_VARIABLE} is not set)", file=sys.stderr)
        report([], "workers")
        return
    try:
        if args.quick:
            measure(url, 20, Durations(warmup=0.5, measure=2.0, repeats=1))
        else:
            measure(url, 200, Durations(warmup=2.0, measure=args.seconds, repeats=args.repeats))
    except BenchError as error:
        print(f"bench_workers failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
