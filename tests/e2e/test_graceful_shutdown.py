"""SIGTERM to a real `throughline serve` under load: the requests it accepted are stored, the
relay's batch in hand is delivered or handed back, and the process ends within its bound.

The server runs with the in-process relay delivering to a slow subscriber (each delivery takes
a while), so at the signal the relay holds a claimed batch it has not finished; writers keep
posting from several threads before, during and after the signal.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.http_sink import Sink
from tests.support.server import start_server

SALES_KEY = "shutdown-sales-key-0123456789"
SHUTDOWN_TIMEOUT = 5
WRITERS = 6
SINK_DELAY = 0.2  # a batch of 100 takes 20 s: far longer than the shutdown bound
SUBSCRIBER_SECRET = "whsec_" + "c2h1dGRvd24tdGVzdC1zZWNyZXQtMDEyMzQ1Njc4OQ=="


def write_config(tmp_path: Path, sink: Sink) -> dict[str, str]:
    keys = tmp_path / "api-keys.json"
    keys.write_text(
        json.dumps([{"principal": "sd.sales", "roles": ["sales_ops"], "key": SALES_KEY}]),
        encoding="utf-8",
    )
    subscribers = tmp_path / "subscribers.json"
    subscribers.write_text(
        json.dumps(
            {"subscribers": [{"name": "slow", "url": sink.url("/in"), "secret": SUBSCRIBER_SECRET}]}
        ),
        encoding="utf-8",
    )
    return {
        **os.environ,
        "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "THROUGHLINE_API_KEYS": str(keys),
        "THROUGHLINE_SUBSCRIBERS": str(subscribers),
        "THROUGHLINE_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT),
    }


class Writers:
    """Threads proposing engagements (each an outbox event) until told to stop or the server
    goes away; each answer is kept by engagement id."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers: dict[str, int] = {}
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(WRITERS)]

    def _write(self, writer: int) -> None:
        with httpx.Client(base_url=self.base, timeout=30.0) as client:
            n = 0
            while not self.stop.is_set():
                deal = f"E-{writer}-{n}"
                n += 1
                body = {"engagement_id": deal, "customer_id": "C-1", "contract_id": f"K-{deal}"}
                headers = {"X-API-Key": SALES_KEY, "Idempotency-Key": f"key-{deal}"}
                try:
                    status = client.post("/engagements", json=body, headers=headers).status_code
                except httpx.TransportError:
                    return  # the server stopped listening: nothing more is accepted
                with self._lock:
                    self.answers[deal] = status

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def accepted(self) -> set[str]:
        with self._lock:
            return {deal for deal, status in self.answers.items() if status == 201}


def outbox_states(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    return dict(rows)


def stored_engagements(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("SELECT id FROM engagements")}


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"not reached within {seconds} s")


def test_sigterm_under_load_keeps_every_accepted_request_and_leaves_no_claim(
    tmp_path: Path,
) -> None:
    sink = Sink(delay=SINK_DELAY)
    database = tmp_path / "t.db"
    try:
        server = start_server(tmp_path, write_config(tmp_path, sink))
        process, log = server.process, server.output
        try:
            with Writers(server.base) as writers:
                # the relay is busy with a batch when the signal comes
                wait_for(lambda: len(writers.accepted()) >= 150 and len(sink.received) >= 5, 60)
                process.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                code = process.wait(timeout=4 * SHUTDOWN_TIMEOUT + 10)
                took = time.monotonic() - signalled
            accepted = writers.accepted()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    finally:
        sink.close()

    output = log.read_text()
    assert code in (0, -signal.SIGTERM), output
    assert took < 2 * SHUTDOWN_TIMEOUT + 5, f"stopping took {took:.1f} s"
    assert accepted, "no request was accepted before the signal"
    assert accepted <= stored_engagements(database)  # every 201 answered is stored

    states = outbox_states(database)
    assert "in_flight" not in states, f"claims left for the reaper: {states}"
    assert set(states) <= {"delivered", "pending"}, states
    delivered_ids = {
        json.loads(received.body)["id"] for received in sink.at("/in") if received.body
    }
    with sqlite3.connect(database) as db:
        marked = {r[0] for r in db.execute("SELECT event_id FROM outbox WHERE state='delivered'")}
    assert marked <= delivered_ids  # nothing is marked delivered that the subscriber lacks
    assert states.get("pending", 0) > 0, "the relay had caught up: the test proved nothing"
