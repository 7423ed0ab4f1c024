"""HTTP: post one time entry (validated, idempotent, committed) and read the finance dashboard,
each against a Litestar hello-world JSON endpoint on the same server and worker count.

Throughline: `uvicorn --factory entrypoints.http.serve:create_from_env`, one worker, on a
seeded SQLite database (engagements of every billing model, a month of time billed, half the
invoices issued, some paid), API keys from a keys file, the rate limit out of the way and no
relay. `http_post_time_entry` sends `POST /time-entries` with one entry per request, each with
its own entry id and Idempotency-Key, and every answer must report it accepted;
`http_dashboard_read` sends `GET /dashboard` as finance.

Floor (same run): `tests.bench.hello` (`GET /` answering `{"hello": "world"}`) served by the
same uvicorn with the same worker count, loaded the same way.

Ceiling (same run, context rows, not floors): `tests.bench.ceiling`, a minimal Litestar app
served the same way whose POST decodes the same body into a strict struct and does one
`INSERT ... ON CONFLICT` and a commit into SQLite configured as ours, and whose dashboard is
one small aggregate query: the part of the gap to hello-world that no Python implementation
closes. Its ratio is against the same hello-world floor.

The load comes from `tests.bench.loadgen` in its own process on loopback: a fixed number of
keep-alive connections for a fixed time, stopping by itself. Any unexpected status, broken
connection or timeout fails the bench: a run with errors is not a number. After each POST run
a repeated request must be replayed from its Idempotency-Key, and the database must hold
exactly one new time entry and one completed idempotency key per request sent.

Each server runs on a fresh copy of the seeded database. Full mode: the median of 3 runs;
`--quick`: one short run that only checks everything completes. Where the POST's time goes:
`python -m tests.bench.profile_http`.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx

from adapters.sqlalchemy.database import Database
from application import commands as c
from application.context import RequestContext
from application.records import IdempotencyStatus
from domain.ids import InvoiceId, PaymentId
from domain.money import Money
from domain.period import Period
from tests.bench import ceiling
from tests.bench.harness import Measurement, report
from tests.bench.loadgen import HOST, Spec
from tests.bench.world import CTX, ROLES, bus_on, model_of, obligation, seed_engagements
from tests.bench.world import time_entries as january_entries

ROOT = Path(__file__).resolve().parents[2]
API_FACTORY = "entrypoints.http.serve:create_from_env"
FLOOR_FACTORY = "tests.bench.hello:create_app"
CEILING_FACTORY = "tests.bench.ceiling:create_app"
WORKERS = 1
#: Which server runs both apps (`--server`).
SERVER = "uvicorn"
SERVERS = ("uvicorn", "uvicorn-h11", "granian")
CONCURRENCY = 16
ENGAGEMENTS = 50
PER_ENGAGEMENT = 40
JANUARY = Period.month(2026, 1)
INTEGRATION_KEY = "bench-integration-0123456789"
FINANCE_KEY = "bench-finance-0123456789"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
TARGETS = {"http_post_time_entry": 0.35, "http_dashboard_read": 0.25}


#: What the one-line summary shows besides the rates (the JSON keeps every extra).
LINE_EXTRAS = ("p50_ms", "p99_ms", "floor_p99_ms", "target", "endpoint", "server")


@attrs.frozen
class HttpMeasurement(Measurement):
    def line(self) -> str:
        shown = {k: v for k, v in self.extra.items() if k in LINE_EXTRAS}
        return Measurement(
            self.workload, self.units, self.throughline_seconds, self.floor_seconds, shown
        ).line()


@attrs.frozen
class Durations:
    warmup: float
    measure: float
    repeats: int


# -- the seeded world -------------------------------------------------------------------------


def seed(path: Path) -> dict[str, int]:
    """A deterministic world in the SQLite file at `path`, through the application bus."""
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    bus = bus_on(database, ENGAGEMENTS)
    seed_engagements(bus, ENGAGEMENTS)
    entries = list(january_entries(ENGAGEMENTS, ENGAGEMENTS * PER_ENGAGEMENT))
    report_ = bus.handle(c.RecordTimeEntries(tuple(entries)), CTX)
    assert not report_.rejected, report_.rejected[:3]
    billed = bus.handle(c.RunBilling(JANUARY, dry_run=False), CTX)  # type: ignore[attr-defined]
    invoices = sorted(billed.invoice_ids)
    checker = RequestContext("bench-checker", "bench-correlation")
    issued = invoices[::2]
    for invoice_id in issued:
        bus.handle(c.ApproveInvoice(InvoiceId(invoice_id)), checker)
        bus.handle(c.IssueInvoice(InvoiceId(invoice_id), date(2026, 2, 2)), CTX)
    for n, invoice_id in enumerate(issued[::3]):
        payment = c.RecordPayment(
            InvoiceId(invoice_id), PaymentId(f"PAY-{n:04d}"), Money.of("100.00", "EUR"),
            date(2026, 2, 20),
        )  # fmt: skip
        bus.handle(payment, CTX)
    database.dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"engagements": ENGAGEMENTS, "time_entries": len(entries), "invoices": len(invoices)}


def write_keys(path: Path) -> None:
    """The API keys file (`THROUGHLINE_API_KEYS`): an integration client and a finance user."""
    keys = [
        {"principal": "bench.integration", "roles": ["integration"], "key": INTEGRATION_KEY},
        {"principal": "bench.finance", "roles": ["finance"], "key": FINANCE_KEY},
    ]
    path.write_text(json.dumps(keys), encoding="utf-8")


def stored(path: Path) -> tuple[int, int]:
    """(time entries, completed idempotency keys) in the database."""
    db = sqlite3.connect(path)
    try:
        (entries,) = db.execute("SELECT count(*) FROM time_entries").fetchone()
        (keys,) = db.execute(
            "SELECT count(*) FROM idempotency_keys WHERE status = ?",
            (IdempotencyStatus.COMPLETED.value,),
        ).fetchone()
    finally:
        db.close()
    return int(entries), int(keys)


# -- the requests -----------------------------------------------------------------------------


def post_spec(run: str) -> Spec:
    """One entry per request, spread over the T&M engagements, roles and days of February;
    `{seq}` makes the entry id and the Idempotency-Key unique."""
    tm = [n for n in range(ENGAGEMENTS) if model_of(n) == "tm"]
    bodies = []
    for k in range(len(tm) * 4):
        n = tm[k % len(tm)]
        entry = {
            "entry_id": f"H-{run}-{{seq}}",
            "engagement_id": f"E-{n:05d}",
            "obligation_id": obligation(n),
            # a person per request: a person's day holds at most 24 h (ADR 0025)
            "resource_id": f"R-{run}-{{seq}}",
            "role": ROLES[k % len(ROLES)],
            "work_date": (date(2026, 2, 2) + timedelta(days=k % 26)).isoformat(),
            "hours": ("7.5", "4", "1.25", "8")[k % 4],
        }
        bodies.append(json.dumps({"entries": [entry]}, separators=(",", ":")))
    return Spec(
        "POST",
        "/time-entries",
        {"X-API-Key": INTEGRATION_KEY, "Idempotency-Key": f"bench-{run}-{{seq}}"},
        tuple(bodies),
        expect=200,
        expect_in='"status":"accepted"',
    )


def replay_once(spec: Spec, srv: Server) -> None:
    """Request 0 again, same key and body: the stored answer is replayed, nothing recorded."""
    headers = {k: v.replace("{seq}", "0") for k, v in spec.headers.items()}
    body = spec.bodies[0].replace("{seq}", "0")
    headers["Content-Type"] = "application/json"
    url = f"http://{HOST}:{srv.port}{spec.path}"
    answer = httpx.post(url, content=body, headers=headers, timeout=10.0)
    if answer.status_code != spec.expect or answer.headers.get("idempotent-replayed") != "true":
        raise BenchError(f"a repeated POST was not replayed: {answer.status_code} {answer.text}")


def dashboard_spec() -> Spec:
    return Spec("GET", "/dashboard", {"X-API-Key": FINANCE_KEY}, expect_in='"invoices_by_state"')


def floor_spec() -> Spec:
    return Spec("GET", "/", expect_in='{"hello":"world"}')


# -- processes --------------------------------------------------------------------------------


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any THROUGHLINE_ setting, with the repository importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THROUGHLINE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def api_env(database: Path, keys: Path) -> dict[str, str]:
    """The API server's configuration: this database and keys file, the rate limit out of
    the way (10^9 a minute), no relay."""
    return child_env(
        {
            "THROUGHLINE_DATABASE_URL": f"sqlite:///{database}",
            "THROUGHLINE_API_KEYS": str(keys),
            "THROUGHLINE_RATE_LIMIT": str(10**9),
        }
    )


def _die_with_parent() -> None:
    """Linux: the kernel sends this child SIGTERM if the bench dies first (even by SIGKILL)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, wait, and kill if it does not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@attrs.frozen
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path


def server_command(factory: str, port: int) -> list[str]:
    """The command line of the chosen server (`--server`), the same for Throughline and the
    floor: uvicorn as `throughline serve` runs it (uvloop and httptools, installed with
    `uvicorn[standard]`), uvicorn on its pure-Python parts, or granian when it is installed."""
    if SERVER == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", HOST, "--port", str(port), "--workers", str(WORKERS),
            "--no-access-log", "--log-level", "warning", factory,
        ]  # fmt: skip
    pure = ["--loop", "asyncio", "--http", "h11"] if SERVER == "uvicorn-h11" else []
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory, *pure,
        "--host", HOST, "--port", str(port), "--workers", str(WORKERS),
        "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "3",
    ]  # fmt: skip


@contextmanager
def server(factory: str, probe: str, workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    """`uvicorn --factory` on a free loopback port, `WORKERS` worker(s), no access log; ready
    when `probe` answers 200, always stopped on the way out."""
    port = free_port()
    log = workdir / f"{factory.split(':')[0].rsplit('.', 1)[-1]}-{port}.log"
    command = server_command(factory, port)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    try:
        _wait_ready(process, port, probe, log)
        yield Server(process, port, log)
    finally:
        stop(process)


def _wait_ready(
    process: subprocess.Popen[bytes],
    port: int,
    probe: str,
    log: Path,
    timeout: float = STARTUP_TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"the server exited with {process.returncode}:\n{_tail(log)}")
            try:
                if client.get(probe).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise BenchError(f"the server did not answer {probe} within {timeout:.0f}s")


class BenchError(RuntimeError):
    """The bench could not produce a number (errors, a server that did not start)."""


def load(spec: Spec, srv: Server, durations: Durations, name: str) -> dict[str, Any]:
    """Run the load generator in its own process; any error fails the bench."""
    command = [
        sys.executable, "-m", "tests.bench.loadgen", "--port", str(srv.port),
        "--spec", spec.to_json(), "--concurrency", str(CONCURRENCY),
        "--duration", str(durations.measure), "--warmup", str(durations.warmup),
    ]  # fmt: skip
    timeout = durations.warmup + durations.measure + 60
    done = subprocess.run(
        command, env=child_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{name}: the load generator failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    if result["errors"] or not result["requests"]:
        raise BenchError(
            f"{name}: {result['errors']} error(s) in {result['sent']} requests, e.g.\n"
            + "\n".join(result["error_samples"])
            + f"\nserver log:\n{_tail(srv.log)}"
        )
    return result


# -- one run ----------------------------------------------------------------------------------


def one_run(n: int, template: Path, workdir: Path, keys: Path, d: Durations) -> dict[str, Any]:
    """The floor, the dashboard read and the POST, each on its own server (fresh database)."""
    results: dict[str, Any] = {}
    with server(FLOOR_FACTORY, "/", workdir, child_env()) as srv:
        results["floor"] = load(floor_spec(), srv, d, "hello-world floor")
    results.update(ceiling_run(n, template, workdir, d))
    database = workdir / f"run-{n}.db"
    shutil.copyfile(template, database)
    entries, keys_done = stored(database)
    with server(API_FACTORY, "/health", workdir, api_env(database, keys)) as srv:
        results["http_dashboard_read"] = load(dashboard_spec(), srv, d, "http_dashboard_read")
        spec = post_spec(f"r{n}")
        post = results["http_post_time_entry"] = load(spec, srv, d, "http_post_time_entry")
        replay_once(spec, srv)
    entries_after, keys_after = stored(database)
    added = (entries_after - entries, keys_after - keys_done)
    if added != (post["sent"], post["sent"]):
        raise BenchError(
            f"{post['sent']} entries were posted, but {added[0]} entries and {added[1]} "
            "completed idempotency keys were stored"
        )
    database.unlink()
    return results


def ceiling_run(n: int, template: Path, workdir: Path, d: Durations) -> dict[str, Any]:
    """The ceiling (`tests.bench.ceiling`) on its own copy of the seeded database: the same
    POST bodies and dashboard path, every entry sent stored once."""
    database = workdir / f"ceiling-{n}.db"
    shutil.copyfile(template, database)
    ceiling.prepare(str(database))
    env = child_env({ceiling.DATABASE_VARIABLE: str(database)})
    results: dict[str, Any] = {}
    with server(CEILING_FACTORY, "/health", workdir, env) as srv:
        results["http_ceiling_dashboard_read"] = load(
            dashboard_spec(), srv, d, "http_ceiling_dashboard_read"
        )
        post = load(post_spec(f"c{n}"), srv, d, "http_ceiling_post_time_entry")
        results["http_ceiling_post_time_entry"] = post
    if ceiling.stored(str(database)) != post["sent"]:
        raise BenchError(f"the ceiling stored {ceiling.stored(str(database))} of {post['sent']}")
    database.unlink()
    return results


def summary(
    name: str, runs: list[dict[str, Any]], endpoint: str, world: dict[str, int]
) -> HttpMeasurement:
    """Medians over the runs: rates, p50 and p99."""
    ours = [r[name] for r in runs]
    floors = [r["floor"] for r in runs]
    rate = statistics.median(r["per_s"] for r in ours)
    floor_rate = statistics.median(r["per_s"] for r in floors)
    units = round(rate * ours[0]["seconds"])

    def med(rs: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r[key] for r in rs), 2)

    return HttpMeasurement(
        name,
        units,
        units / rate,
        units / floor_rate,
        {
            "p50_ms": med(ours, "p50_ms"),
            "p99_ms": med(ours, "p99_ms"),
            "floor_p99_ms": med(floors, "p99_ms"),
            "target": TARGETS.get(name, "context"),
            "endpoint": endpoint,
            "runs": len(runs),
            "workers": WORKERS,
            "server": SERVER,
            "concurrency": CONCURRENCY,
            "per_run_per_s": [r["per_s"] for r in ours],
            "floor_per_run_per_s": [r["per_s"] for r in floors],
            **world,
        },
    )


def measure(d: Durations) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        workdir = Path(tmp)
        template = workdir / "seeded.db"
        world = seed(template)
        keys = workdir / "keys.json"
        write_keys(keys)
        runs = [one_run(n, template, workdir, keys, d) for n in range(d.repeats)]
    report(
        [
            summary("http_post_time_entry", runs, "/time-entries", world),
            summary("http_dashboard_read", runs, "/dashboard", world),
            # Context, not floors: a minimal app's POST (decode, one upsert, commit) and read
            # (one aggregate), served the same way: what any Python implementation can reach.
            summary("http_ceiling_post_time_entry", runs, "/time-entries (ceiling)", world),
            summary("http_ceiling_dashboard_read", runs, "/dashboard (ceiling)", world),
        ],
        "http",
    )


def main() -> None:
    global SERVER
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI-sized run: checks it completes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured time per load")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=SERVER,
        help="the ASGI server for both apps (granian only when installed by hand)",
    )
    args = parser.parse_args()
    SERVER = args.server
    try:
        if args.quick:
            measure(Durations(warmup=0.3, measure=1.5, repeats=1))
        else:
            measure(Durations(warmup=2.0, measure=args.seconds, repeats=args.repeats))
    except BenchError as error:
        print(f"bench_http failed: {error}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
