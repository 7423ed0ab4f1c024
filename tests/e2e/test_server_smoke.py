"""One real server process on loopback: `throughline serve` over a fresh SQLite file with API
keys from a file, spoken to over real HTTP, then stopped."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import Served, start_server

FINANCE_KEY = "smoke-finance-key-0123456789"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    keys = tmp_path / "api-keys.json"
    keys.write_text(
        json.dumps([{"principal": "smoke.finance", "roles": ["finance"], "key": FINANCE_KEY}]),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "THROUGHLINE_API_KEYS": str(keys),
    }
    served = start_server(tmp_path, env, "--no-relay")
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=10)


def test_a_real_server_answers_over_http_and_stops_cleanly(
    server: Served,
) -> None:
    base, process, log = server.base, server.process, server.output
    finance = {"X-API-Key": FINANCE_KEY}
    with httpx.Client(base_url=base, timeout=10.0) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "ok"}

        refused = client.get("/rate-cards")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")

        listed = client.get("/rate-cards", headers=finance)
        assert listed.status_code == 200
        assert listed.json() == {"items": [], "next_cursor": None}

        body = {"rate_card_id": "RC-SMOKE", "name": "Smoke rates", "currency": "EUR"}
        headers = {**finance, "Idempotency-Key": "smoke-1", "X-Correlation-ID": "smoke-corr-1"}
        created = client.post("/rate-cards", json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["rate_card_id"] == "RC-SMOKE"
        assert created.headers["x-correlation-id"] == "smoke-corr-1"
        replayed = client.post("/rate-cards", json=body, headers=headers)
        assert (replayed.status_code, replayed.json()) == (201, created.json())
        assert replayed.headers["idempotent-replayed"] == "true"
        items = client.get("/rate-cards", headers=finance).json()["items"]
        assert [item["rate_card_id"] for item in items] == ["RC-SMOKE"]

        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert (
            'throughline_http_requests_total{method="POST",route="/rate-cards",status="201"} 2.0'
            in metrics.text
        )
        assert 'route="/rate-cards",status="401"' in metrics.text

    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert FINANCE_KEY not in log.read_text()  # no credential is ever logged
