"""Where the time of `POST /time-entries` goes, on the seeded world of `bench_http`.

Step timings (always): the API app is built exactly as a server worker builds it
(`create_from_env`) and each step of one request is timed on its own, sequentially, in this
process: the whole request through the ASGI app (no socket, no server), the same app's
`GET /health` and a bare Litestar hello-world for the framework's share, the thread hand-off of
a sync handler, authentication, body decoding, the command through the bus with the
idempotency claim in its transaction, and the idempotency completion. CPU milliseconds of this
process per request (CPU time, not wall time, so other processes on a busy machine disturb it
less); what the whole request costs beyond the sum of the steps is routing, middleware,
guards and the route's own code.

`--py-spy` (needs `pip install py-spy`; not a project dependency) also samples a real server
while one connection posts one entry per request (so no request waits for another's write
lock), counting only the thread holding the GIL, groups the samples by step and keeps the
collapsed stacks in var/bench/http_post_profile.txt (speedscope and flamegraph.pl read them).

    python -m tests.bench.profile_http [--requests 500] [--py-spy] [--seconds 12]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import msgspec

from entrypoints.http import runtime
from tests.bench import bench_http as bench
from tests.bench.harness import RESULTS
from tests.bench.loadgen import HOST

RATE_HZ = 500
_FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

Frame = tuple[str, str, int]  # function, file, line


def parse(line: str) -> tuple[list[Frame], int] | None:
    stack, _, count = line.rstrip().rpartition(" ")
    if not count.isdigit() or not stack:
        return None
    frames = []
    for raw in stack.split(";"):
        m = _FRAME.match(raw)
        if m:
            frames.append((m["fn"], m["file"], int(m["line"] or 0)))
        else:
            frames.append((raw, "", 0))
    return frames, int(count)


def _run_line() -> int:
    """The line of `runtime.execute` that runs the command (claim before, complete after)."""
    source, start = inspect.getsourcelines(runtime.execute)
    return start + next(n for n, text in enumerate(source) if "run(ctx)" in text)


def _has(frames: list[Frame], *names: str) -> bool:
    return any(any(name in fn for name in names) for fn, _, _ in frames)


def step(frames: list[Frame], run_line: int) -> str:
    """The step of the request a sampled stack belongs to."""
    if not frames or frames[0][0] not in ("_run_module_as_main", "Thread._bootstrap"):
        return "unattributed (py-spy read an incomplete stack)"
    execute = [f for f in frames if f[0] == "execute" and f[1].endswith("runtime.py")]
    if execute:
        line = execute[0][2]
        if line < run_line:
            return "idempotency: claim, own transaction"
        if line > run_line:
            return "idempotency: complete, own transaction (+ encode)"
        under = frames[frames.index(execute[0]) :]
        command_steps: list[tuple[str, tuple[str, ...]]] = [
            ("command: audit trail", ("audit",)),
            ("command: validation against the contract", ("_Scope", "_TimeRules", "_check")),
            ("command: duplicate check", ("existing_time_entry_ids",)),
            ("command: insert the entry", ("add_time_entries",)),
            ("command: BEGIN IMMEDIATE / COMMIT", ("UnitOfWork.__enter__", "UnitOfWork.commit",
                                                   "UnitOfWork.__exit__")),
        ]  # fmt: skip
        for label, names in command_steps:
            if _has(under, *names):
                return label
        return "command: bus, report, other"
    if _has(frames, "_WorkItem.run") and _has(frames, "record_time_entries"):
        return "route: build the command"
    rules: list[tuple[str, Callable[[list[Frame]], bool]]] = [
        ("auth: API key to principal", lambda f: _has(f, "authenticate", "_credentials")),
        (
            "body read, decode, validation",
            lambda f: _has(f, "parse_values_from_connection_kwargs", "KwargsModel.to_kwargs"),
        ),
        ("thread hand-off", lambda f: _has(f, "sync_to_thread", "_WorkItem", "_worker")),
        ("response", lambda f: _has(f, "to_response", "ASGIResponse")),
        (
            "middleware: correlation, rate limit, metrics",
            lambda f: (
                (f[-1][1] in ("middleware.py", "metrics.py", "correlation.py", "uuid.py"))
                or f[-1][1].endswith(
                    ("http/middleware.py", "http/metrics.py", "http/correlation.py")
                )
                or "prometheus_client" in f[-1][1]
            ),
        ),
        ("server: uvicorn + h11", lambda f: "uvicorn" in f[-1][1] or "h11" in f[-1][1]),
    ]
    for label, matches in rules:
        if matches(frames):
            return label
    return "framework + event loop (Litestar, asyncio)"


def summarise(collapsed: Path, requests: float) -> list[tuple[str, float, float]]:
    """(step, ms per request, share) per step, largest first."""
    run_line = _run_line()
    steps: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        parsed = parse(line)
        if parsed is not None:
            frames, count = parsed
            steps[step(frames, run_line)] += count
    total = sum(steps.values())
    return [(label, n / RATE_HZ / requests * 1000, n / total) for label, n in steps.most_common()]


# -- step timings -----------------------------------------------------------------------------


def _scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (HOST, 50000),
        "server": (HOST, 8000),
        "state": {},
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    """One request straight into the ASGI app; its status."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = [0]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # pragma: no cover - the app never reads past the body
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    await app(scope, receive, send)
    return status[0]


def _per_call_ms(run: Callable[[int], object], n: int) -> float:
    for i in range(min(20, n)):
        run(-1 - i)  # warm-up
    started = time.process_time()
    for i in range(n):
        run(i)
    return (time.process_time() - started) / n * 1000


async def _per_request_ms(app: Any, request: Callable[[int], tuple[Any, bytes]], n: int) -> float:
    async def one(i: int) -> None:
        scope, body = request(i)
        status = await _call(app, scope, body)
        if status != 200:
            raise SystemExit(f"{scope['method']} {scope['path']} answered {status}")

    for i in range(min(20, n)):
        await one(-1 - i)
    started = time.process_time()
    for i in range(n):
        await one(i)
    return (time.process_time() - started) / n * 1000


def step_timings(workdir: Path, n: int) -> list[tuple[str, float]]:
    """(step, ms per request) for the steps of `POST /time-entries`, one request at a time."""
    database, keys = workdir / "steps.db", workdir / "keys.json"
    bench.seed(database)
    bench.write_keys(keys)
    os.environ.update(bench.api_env(database, keys))
    from application import commands as c
    from application import idempotency
    from application.context import RequestContext
    from domain.ids import EngagementId, ObligationId, ResourceId, Role, TimeEntryId
    from entrypoints.http.routes.delivery import TimeEntriesBody
    from entrypoints.http.serve import authenticator_from_env, create_from_env
    from tests.bench.hello import create_app as hello_app

    app = create_from_env()
    services = app.state["services"]
    spec = bench.post_spec("s")
    seq = itertools.count()

    def post(_: int) -> tuple[dict[str, Any], bytes]:
        k = next(seq)
        body = spec.bodies[k % len(spec.bodies)].replace("{seq}", str(k)).encode()
        headers = {h: v.replace("{seq}", str(k)) for h, v in spec.headers.items()}
        headers |= {"content-type": "application/json", "content-length": str(len(body))}
        return _scope("POST", spec.path, headers), body

    async def asgi() -> list[tuple[str, float]]:
        hello = _without_its_logging(hello_app)
        # One request per body of the bench first: the steady state, with the engagements,
        # contracts and rate cards kept (ADR 0070), is what the list shows.
        await _count_statements(app, post, len(spec.bodies) + 1)
        return [
            ("whole POST, in-process (ASGI app, no server)", await _per_request_ms(app, post, n)),
            (
                "  for scale: GET /health, same app (no auth, async)",
                await _per_request_ms(app, lambda _: (_scope("GET", "/health", {}), b""), n),
            ),
            (
                "  for scale: hello-world, bare Litestar",
                await _per_request_ms(hello, lambda _: (_scope("GET", "/", {}), b""), n),
            ),
            ("thread hand-off of a sync handler", await _hand_off_ms(n)),
        ]

    rows = asyncio.run(asgi())
    authenticator = authenticator_from_env(os.environ)
    headers = {"x-api-key": bench.INTEGRATION_KEY}
    raw = spec.bodies[0].replace("{seq}", "1").encode()
    rows += [
        ("auth: API key to principal",
         _per_call_ms(lambda _: authenticator.authenticate(headers), n)),
        ("body: decode and validate (msgspec)",
         _per_call_ms(lambda _: msgspec.json.decode(raw, type=TimeEntriesBody), n)),
    ]  # fmt: skip
    bus, ctx = services.bus, RequestContext("bench.integration", "profile")
    claimed: list[str] = []

    def command(i: int) -> None:
        # The key is claimed by the command's own unit of work, in its transaction, and the
        # answer stored in it before it commits (ADR 0018, as POST /time-entries does).
        key = f"profile-{i}"
        claim = idempotency.Claim(
            ctx.actor, key, "0" * 64, services.clock.now(), answer_in_transaction=True
        )
        entry = c.TimeEntryInput(
            TimeEntryId(f"PROFILE-{i}"), EngagementId("E-00000"), ObligationId("OB-00000"),
            ResourceId(f"R-P{i}"), Role("consultant"), date(2026, 2, 3), Decimal("7.5"),
        )  # fmt: skip
        claiming = attrs.evolve(ctx, idempotency=claim)
        if not bus.handle(c.RecordTimeEntries((entry,)), claiming).accepted:
            raise SystemExit("the profile's time entry was not accepted")
        if not claim.answer(200, "{}"):
            raise SystemExit("the command's commit did not wait for the answer")
        claimed.append(key)

    def complete(i: int) -> None:
        # What a route that stores its answer after the command's commit pays for it.
        with bus.deps.uow(ctx) as uow:
            idempotency.complete(uow, ctx.actor, claimed[i], 200, "{}")
            uow.commit()

    def empty(_: int) -> None:
        with bus.deps.uow(ctx) as uow:
            uow.commit()

    rows.append(("command: RecordTimeEntries (1 entry), key and answer", _per_call_ms(command, n)))
    rows.append(("  for scale: an answer in its own transaction", _per_call_ms(complete, n)))
    rows.append(("  for scale: empty write transaction", _per_call_ms(empty, n)))
    return rows


def _without_its_logging(build: Callable[[], Any]) -> Any:
    """An app built with the root logger's handlers put back as they were: Litestar's default
    logging configuration (the bare hello-world's) adds its own handler to the root logger,
    which in this process would turn our request log off its short way (ADR 0061) and charge
    every request of our app for a record and a queue; in the bench each app has a process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    app = build()
    root.handlers[:] = handlers
    root.setLevel(level)
    return app


async def _count_statements(
    app: Any, request: Callable[[int], tuple[Any, bytes]], runs: int = 20
) -> None:
    """Statements and commits per request, counted on every engine; the last one's listed.
    The listener sends them through SQLAlchemy, which counts them; the timed requests, with
    nothing listening, run them on SQLite's driver (ADR 0068, statements on the driver)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

    statements: list[str] = []
    commits = [0]

    def executed(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split())[:96])

    def committed(_: Any) -> None:
        commits[0] += 1

    sa.event.listen(Engine, "before_cursor_execute", executed)
    sa.event.listen(Engine, "commit", committed)
    try:
        for i in range(runs):
            if i == runs - 1:
                statements.clear()
            scope, body = request(i)
            await _call(app, scope, body)
        last = list(statements)
    finally:
        sa.event.remove(Engine, "before_cursor_execute", executed)
        sa.event.remove(Engine, "commit", committed)
    print(f"{scope['method']} {scope['path']}: {len(last)} statements, "
          f"{commits[0] / runs:.1f} commits per request; the last request's:")  # fmt: skip
    for statement in last:
        print(f"  {statement}")


async def _hand_off_ms(n: int) -> float:
    import anyio.to_thread

    started = time.process_time()
    for _ in range(n):
        await anyio.to_thread.run_sync(_nothing)
    return (time.process_time() - started) / n * 1000


def _nothing() -> None:
    return None


def print_steps(rows: list[tuple[str, float]]) -> None:
    whole = rows[0][1]
    parts = sum(ms for label, ms in rows[1:] if not label.startswith(" "))
    print("POST /time-entries, one request at a time, CPU ms per request:")
    for label, ms in rows:
        share = "" if label.startswith(" ") else f"{ms / whole:6.1%}"
        print(f"  {label:<54} {ms:7.3f}  {share}")
    rest = whole - parts
    label = "rest: routing, middleware, guard, route code"
    print(f"  {label:<54} {rest:7.3f}  {rest / whole:6.1%}")


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500, help="per timed step")
    parser.add_argument("--py-spy", action="store_true", help="also sample a real server")
    parser.add_argument("--seconds", type=int, default=12, help="of py-spy sampling")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-http-") as tmp:
        print_steps(step_timings(Path(tmp), args.requests))
    if args.py_spy:
        sample(args.seconds)


def sample(seconds: int) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("profile_http needs py-spy: pip install py-spy")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = (RESULTS / "http_post_profile.txt").resolve()
    bench.CONCURRENCY = 1
    with tempfile.TemporaryDirectory(prefix="profile-http-") as tmp:
        workdir = Path(tmp)
        database, keys = workdir / "seeded.db", workdir / "keys.json"
        bench.seed(database)
        bench.write_keys(keys)
        env = bench.api_env(database, keys)
        with bench.server(bench.API_FACTORY, "/health", workdir, env) as srv:
            command = [
                spy, "record", "--pid", str(srv.process.pid), "--gil", "--nonblocking",
                "--rate", str(RATE_HZ), "--duration", str(seconds), "--format", "raw",
                "--output", str(out),
            ]  # fmt: skip
            sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                durations = bench.Durations(0.5, seconds + 1.0, 1)
                result = bench.load(bench.post_spec("p"), srv, durations, "profile")
                sampler.wait(60)
            finally:
                bench.stop(sampler)  # type: ignore[arg-type]
    if sampler.returncode != 0 or not out.exists():
        problem = sampler.stderr.read().decode() if sampler.stderr else ""
        raise SystemExit(f"py-spy failed: {problem}")
    requests = result["per_s"] * seconds
    print(f"POST /time-entries, one connection: {result['per_s']:,.0f}/s, "
          f"p50 {result['p50_ms']} ms; Python time (GIL held) per request by step:")  # fmt: skip
    rows = summarise(out, requests)
    for label, ms, share in rows:
        print(f"  {label:<52} {ms:6.2f} ms  {share:6.1%}")
    print(f"  {'total':<52} {sum(ms for _, ms, _ in rows):6.2f} ms")
    print(f"collapsed stacks: {out}")


if __name__ == "__main__":
    main()
