"""The benchmarks run in CI-sized form so they never rot (their speed is not checked here:
performance is a ratio measured by `make bench`, never a timed test)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^(\w+)\s+throughline=[\d,]+/s\s+floor=[\d,]+/s\s+ratio=\d+\.\d+", re.M)


@pytest.mark.parametrize(
    ("script", "workloads"),
    [
        ("tests.bench.bench_ingest", {"ingest_time_entries_sqlite"}),
        (
            "tests.bench.bench_import",
            {
                "import_csv_sqlite",
                "import_csv_sqlite_4n",
                "http_batch_sqlite",
                "http_batch_sqlite_4n",
                "import_csv_capped_sqlite",
                "import_csv_capped_sqlite_4x_stored",
            },
        ),
        (
            "tests.bench.bench_billing",
            {"billing_run_sqlite_invoices", "billing_rerun_nothing_to_bill"},
        ),
        ("tests.bench.bench_outbox", {"outbox_relay_sqlite"}),
        ("tests.bench.bench_http", {"http_post_time_entry", "http_dashboard_read"}),
        # on PostgreSQL only (checked below): without it the bench reports nothing
        ("tests.bench.bench_workers", set()),
    ],
)
def test_each_benchmark_completes_and_reports_its_ratio(
    script: str, workloads: set[str], tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", script, "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        # bench_workers starts five API workers, four relays and two sinks in turn
        timeout=600 if script.endswith("workers") else 300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    reported = set(LINE.findall(done.stdout))
    assert workloads <= reported, done.stdout
    if os.environ.get("THROUGHLINE_TEST_POSTGRES_URL") and script.endswith("ingest"):
        assert "ingest_time_entries_postgresql" in reported
    if os.environ.get("THROUGHLINE_TEST_POSTGRES_URL") and script.endswith("workers"):
        # the run itself failed unless everything accepted was stored once, every event
        # delivered once per subscriber and nothing billed twice
        assert "workers_postgresql_4_vs_1" in reported
    results = json.loads(next((tmp_path / "var" / "bench").glob("*.json")).read_text())
    assert {r["workload"] for r in results} == reported
    assert all(r["ratio"] > 0 for r in results)
