"""The processes of `bench_workers`: the webhook sink, `throughline serve` with N workers and
the relays, started in that order and each waited for (so their start-up is not counted as
load), stopped in reverse; and the groups of processes whose CPU the bench reports."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import attrs
import psycopg

from tests.bench.bench_http import (
    BenchError,
    _die_with_parent,
    _tail,
    _wait_ready,
    child_env,
    free_port,
    stop,
)
from tests.bench.cpu import TICKS, CpuClock, descendants, process_ticks

THROUGHLINE = str(Path(sys.executable).with_name("throughline"))
RELAYS = 2
SUBSCRIBERS = ("ledger", "crm")
#: Four workers importing the application at once on two busy cores take their time.
STARTUP_TIMEOUT = 180.0
SECRET = "whsec_" + base64.b64encode(b"bench-workers-sink-secret-0123456789").decode()


def libpq_url(url: str) -> str:
    """The database URL as psycopg takes it (without SQLAlchemy's driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


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
        with psycopg.connect(libpq_url(database), autocommit=True) as conn:
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
