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
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
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
    _die_with_parent,
    _tail,
    _wait_ready,
    child_env,
    free_port,
    stop,
    write_keys,
)
from tests.bench.cpu import TICKS, CpuClock, descendants, process_ticks
from tests.bench.harness import Measurement, report
from tests.bench.loadmix import Mix
from tests.bench.pg_waits import WaitSampler
from tests.bench.world import CTX, ROLES, bus_on, model_of, obligation, seed_engagements
from tests.bench.world import time_entries as january_entries

POSTGRES_VARIABLE = "THROUGHLINE_TEST_POSTGRES_URL"
THROUGHLINE = str(Path(sys.executable).with_name("throughline"))
WORKERS = 4
RELAYS = 2
SUBSCRIBERS = ("ledger", "crm")
CONCURRENCY = 16
PER_ENGAGEMENT = 40
PERIOD = "2026-01"
TARGET = 1.5
DRAIN_TIMEOUT = 180.0
#: Four workers importing the application at once on two busy cores take their time.
STARTUP_TIMEOUT = 180.0
SECRET = "whsec_" + base64.b64encode(b"bench-workers-sink-secret-0123456789").decode()


@attrs.frozen
class Durations:
    warmup: float
    measure: float
    repeats: int


@attrs.frozen
class World:
    engagements: int
    template: str
    #: The outbox sequence the seeded events end at: the runs' own events come after it.
    seeded_events: int


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
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("UPDATE outbox SET state = 'delivered'")
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT coalesce(max(sequence), 0) FROM outbox").fetchone()
    assert row is not None
    return int(row[0])


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


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


def write_subscribers(path: Path, sink_port: int) -> None:
    subscribers = [
        {"name": name, "url": f"http://127.0.0.1:{sink_port}/{name}", "secret": SECRET}
        for name in SUBSCRIBERS
    ]
    path.write_text(json.dumps({"subscribers": subscribers}), encoding="utf-8")


# -- processes --------------------------------------------------------------------------------


@attrs.frozen
class Stack:
    api: subprocess.Popen[bytes]
    port: int
    relays: tuple[subprocess.Popen[bytes], ...]
    sink: subprocess.Popen[bytes]
    sink_port: int
    api_log: Path


def _start(command: list[str], env: dict[str, str], log: Path, workdir: Path
           ) -> subprocess.Popen[bytes]:  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


@contextmanager
def stack(url: str, workers: int, workdir: Path, keys: Path) -> Iterator[Stack]:
    """The sink, the API with `workers` workers and the relays; all stopped on the way out."""
    env = child_env(
        {
            "THROUGHLINE_DATABASE_URL": url,
            "THROUGHLINE_API_KEYS": str(keys),
            "THROUGHLINE_RATE_LIMIT": str(10**9),
            "THROUGHLINE_LOG_LEVEL": "warning",
        }
    )
    with ExitStack() as started:
        sink_port = free_port()
        sink = _start(
            [sys.executable, "-m", "tests.bench.sink", "--port", str(sink_port)],
            child_env(), workdir / f"sink-{workers}.log", workdir,
        )  # fmt: skip
        started.callback(stop, sink)
        subscribers = workdir / "subscribers.json"
        write_subscribers(subscribers, sink_port)
        port = free_port()
        api_command = [
            THROUGHLINE, "serve", "--workers", str(workers), "--no-relay",
            "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        api_log = workdir / f"api-{workers}.log"
        api = _start(api_command, env, api_log, workdir)
        started.callback(stop, api)
        _wait_ready(api, port, "/health", api_log, STARTUP_TIMEOUT)
        relays = []
        for n in range(RELAYS):
            command = [
                THROUGHLINE, "relay", "--subscribers", str(subscribers),
                "--interval", "0.5", "--worker-id", f"bench-relay-{n}",
            ]  # fmt: skip
            relay = _start(command, env, workdir / f"relay-{workers}-{n}.log", workdir)
            started.callback(stop, relay)
            relays.append(relay)
        for n, relay in enumerate(relays):
            _wait_for_line(relay, workdir / f"relay-{workers}-{n}.log", "delivering to")
        _settle(api.pid)
        yield Stack(api, port, tuple(relays), sink, sink_port, api_log)


def _wait_for_line(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    """Until the process has written `text` to its log (it is set up and running)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None:
            raise BenchError(f"a relay exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise BenchError(f"a relay did not start within {STARTUP_TIMEOUT:.0f}s")
        time.sleep(0.1)


def _settle(pid: int, window: float = 0.5, quiet: float = 0.05) -> None:
    """Until the process and its children (the workers still importing the application after
    the first answered) use under `quiet` CPU seconds in `window` seconds."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    before = sum(process_ticks(p) for p in descendants(pid))
    while time.monotonic() < deadline:
        time.sleep(window)
        now = sum(process_ticks(p) for p in descendants(pid))
        if (now - before) / TICKS < quiet:
            return
        before = now
    raise BenchError(f"the API's workers were still busy {STARTUP_TIMEOUT:.0f}s after starting")


def cpu_clock(s: Stack, database: str) -> CpuClock:
    """The process groups whose CPU the line reports."""

    def backends() -> list[int]:
        with psycopg.connect(_plain(database), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        return [int(pid) for (pid,) in rows]

    return CpuClock(
        {
            "api": lambda: descendants(s.api.pid),
            "relays": lambda: [r.pid for r in s.relays],
            "postgresql": backends,
            "sink": lambda: [s.sink.pid],
        }
    )


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


# -- after the load: drained, then checked ----------------------------------------------------


def drain(database: str, world: World) -> float:
    """Seconds until every event of the run is delivered (the relays keep running)."""
    started = time.monotonic()
    with psycopg.connect(_plain(database), autocommit=True) as conn:
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
    import httpx

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
    with psycopg.connect(_plain(database), autocommit=True) as conn:
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
