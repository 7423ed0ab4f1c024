"""`/metrics` of a real `throughline serve --workers 2`: every scrape reports every request the
server answered, whichever worker answers the scrape, and the operations gauges read from the
database, including a billing run committed by another process (`throughline bill`)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.support.server import THROUGHLINE, served

WORKERS = 2
#: Requests sent before the first counted scrape; more are sent (up to the cap) until both
#: workers have answered some.
AT_LEAST, AT_MOST = 30, 600
SCRAPES = 6
WAIT_SECONDS = 30.0
#: (method, path, status); the path is its own route template. (A path no route matches is
#: refused by the router before any middleware, so it is not counted.)
REQUESTS = (
    ("GET", "/ready", "200"),
    ("GET", "/rate-cards", "401"),  # no credential
    ("POST", "/rate-cards", "401"),
)
HTTP_REQUESTS = "throughline_http_requests_total"


@attrs.frozen
class Server:
    base: str
    process: subprocess.Popen[bytes]
    metrics_dir: Path
    env: dict[str, str]
    workdir: Path


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Server]:
    metrics_dir = tmp_path / "metrics"
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "THROUGHLINE_METRICS_DIR": str(metrics_dir),
        "THROUGHLINE_ACTOR": "metrics-test",
    }
    with served(tmp_path, env, "--workers", str(WORKERS), "--no-relay") as server:
        yield Server(server.base, server.process, metrics_dir, env, tmp_path)


def counted_by_each_worker(metrics_dir: Path) -> dict[str, int]:
    """Per worker process (prometheus_client's `counter_<pid>.db`), the requests it counted,
    leaving out health probes and scrapes."""
    counted = {}
    for path in metrics_dir.glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)], accumulate=False)
        counted[path.stem.removeprefix("counter_")] = int(
            sum(
                sample.value
                for family in families
                for sample in family.samples
                if sample.name == HTTP_REQUESTS
                and sample.labels["route"] not in ("/health", "/metrics")
            )
        )
    return counted


def both_workers_answered(metrics_dir: Path) -> bool:
    return sum(1 for n in counted_by_each_worker(metrics_dir).values() if n > 0) >= WORKERS


def parse(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return samples


@attrs.define
class Scraper:
    """Scrapes over a fresh connection each time (so any worker may answer), counting them."""

    client: httpx.Client
    done: int = 0

    def __call__(self) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        answer = self.client.get("/metrics")
        assert answer.status_code == 200, answer.text
        self.done += 1
        return parse(answer.text)


def requests_by_route(
    scraped: dict[str, dict[tuple[tuple[str, str], ...], float]],
) -> Counter[tuple[str, str, str]]:
    """(method, route, status) → requests, leaving out the startup health probes and the
    scrapes themselves."""
    counted: Counter[tuple[str, str, str]] = Counter()
    for labels, value in scraped.get(HTTP_REQUESTS, {}).items():
        label = dict(labels)
        if label["route"] not in ("/health", "/metrics"):
            counted[(label["method"], label["route"], label["status"])] += int(value)
    return counted


def scrapes_counted(scraped: dict[str, dict[tuple[tuple[str, str], ...], float]]) -> int:
    return int(
        sum(v for k, v in scraped.get(HTTP_REQUESTS, {}).items() if dict(k)["route"] == "/metrics")
    )


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Until the condition holds (each try is a scrape: no sleeping), at most WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
    pytest.fail(f"{what} within {WAIT_SECONDS} s")


def test_every_scrape_counts_every_workers_requests_and_reads_the_database(
    two_workers: Server,
) -> None:
    server = two_workers
    sent: Counter[tuple[str, str, str]] = Counter()
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection: any worker may take it
    with httpx.Client(base_url=server.base, timeout=10.0, limits=fresh) as client:
        deadline = time.monotonic() + WAIT_SECONDS
        while sum(sent.values()) < AT_LEAST or not both_workers_answered(server.metrics_dir):
            if sum(sent.values()) >= AT_MOST or time.monotonic() >= deadline:
                pytest.fail(f"the workers counted {counted_by_each_worker(server.metrics_dir)}")
            method, path, status = REQUESTS[sum(sent.values()) % len(REQUESTS)]
            assert str(client.request(method, path).status_code) == status
            sent[(method, path, status)] += 1

        billed = subprocess.run(
            [str(THROUGHLINE), "bill", "--period", "2026-03"],
            cwd=server.workdir,
            env=server.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert billed.returncode == 0, billed.stdout + billed.stderr

        scrape = Scraper(client)
        # a worker counts a request just after answering it: wait for the last ones to land
        wait_for(lambda: requests_by_route(scrape()) == sent, "the requests were not all counted")
        seen: list[int] = []
        for _ in range(SCRAPES):
            before = scrape.done
            scraped = scrape()
            assert requests_by_route(scraped) == sent  # exact, whichever worker answered
            seen.append(scrapes_counted(scraped))
            assert seen[-1] <= before  # a scrape never counts itself or one still to come
        assert seen == sorted(seen)  # and never forgets one another worker counted
        # the total is the sum of what each worker counted, not whichever answered
        each = counted_by_each_worker(server.metrics_dir)
        assert sum(each.values()) == sum(sent.values())
        assert len([n for n in each.values() if n > 0]) == WORKERS
        wait_for(
            lambda: scrapes_counted(scrape()) == scrape.done - 1, "the scrapes were not counted"
        )

        gauges = scrape()
        assert gauges["throughline_operations_metrics_up"] == {(): 1.0}
        outbox = gauges["throughline_outbox_events"]
        assert {dict(k)["subscriber"] for k in outbox} == {"none"}  # no subscribers configured
        assert {dict(k)["state"] for k in outbox} == {"pending", "failed", "in_flight", "dead"}
        assert "throughline_outbox_oldest_undelivered_age_seconds" in gauges
        assert set(gauges["throughline_integration_exceptions_open"].values()) == {0.0}
        assert gauges["throughline_idempotency_keys_in_progress"] == {(): 0.0}
        assert gauges["throughline_billing_run_last_invoices"] == {(): 0.0}  # nothing to bill
        assert gauges["throughline_billing_run_last_duration_seconds"][()] > 0.0
        assert gauges["throughline_billing_run_last_finished_timestamp_seconds"][()] > 0.0

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
