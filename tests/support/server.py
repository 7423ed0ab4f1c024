"""A real `throughline serve` for end-to-end tests: started on a free loopback port from the
installed command, ready once `/health` answers, always stopped (SIGTERM, then kill)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs
import httpx
import pytest

THROUGHLINE = Path(sys.executable).with_name("throughline")
#: How long a server may take to answer /health: a guard against a server that never starts, not
#: a speed target. Two workers each import the whole app; on a machine with a load of 20 the CLI
#: alone took 17 s and the workers had not answered after 90 s.
STARTUP_SECONDS = 240.0
STOP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@attrs.frozen
class Served:
    """A running server: its base URL, its process, where its standard output went and where
    its standard error went (the same file unless asked apart)."""

    base: str
    process: subprocess.Popen[bytes]
    output: Path
    errors: Path


def start_server(
    cwd: Path, env: Mapping[str, str], *args: str, separate_errors: bool = False
) -> Served:
    """`throughline serve --port <free> *args` in `cwd`, ready when this returns."""
    port = free_port()
    output = cwd / "server.out"
    errors = cwd / "server.err" if separate_errors else output
    with output.open("wb") as out, errors.open("ab") as err:
        process = subprocess.Popen(
            [str(THROUGHLINE), "serve", "--port", str(port), *args],
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=err if separate_errors else subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", process, output, errors)
    try:
        wait_until_healthy(served.base, process, errors)
    except BaseException:
        stop_server(process)
        raise
    return served


def stop_server(process: subprocess.Popen[bytes], timeout: float = STOP_SECONDS) -> int | None:
    """SIGTERM, then kill when it has not ended within `timeout`; its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


@contextmanager
def served(
    cwd: Path, env: Mapping[str, str], *args: str, separate_errors: bool = False
) -> Iterator[Served]:
    server = start_server(cwd, env, *args, separate_errors=separate_errors)
    try:
        yield server
    finally:
        stop_server(server.process)


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer /health within {STARTUP_SECONDS} s: {log.read_text()}")
