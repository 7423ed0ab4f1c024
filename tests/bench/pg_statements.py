"""PostgreSQL's work per request of `bench_workers`' mix, by kind, one request at a time.

The API app is built as a server worker builds it (`create_from_env`) on a copy of the bench's
seeded database and called in-process through ASGI (no server, no socket), one request at a
time, so no request waits for another's lock. For each kind of the mix (a POST of one time
entry, its replay, a billing run of one contract and the same run again with nothing left to
bill, the dashboard and the invoice list) it reports, per request: the CPU of the database's
backends (from
/proc/<pid>/schedstat), the statements PostgreSQL ran (from `pg_stat_statements`, which the
cluster must load; `BEGIN` and `COMMIT` included) and the API process's own CPU. `--show
post` lists the statements of one kind, by calls.

Needs `THROUGHLINE_TEST_POSTGRES_URL` pointing at a cluster with `pg_stat_statements` in
`shared_preload_libraries`, created in the database `postgres`, readable by the role (member
of `pg_read_all_stats`). Use a cluster of its own: the statistics are the whole cluster's.

    python -m tests.bench.pg_statements [--requests 300] [--engagements 40] [--show post]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from tests.bench.bench_http import FINANCE_KEY, INTEGRATION_KEY, child_env, write_keys
from tests.bench.bench_workers import POSTGRES_VARIABLE, mix, seed
from tests.bench.cpu import PROC
from tests.bench.pg import fresh_database
from tests.bench.profile_http import _call, _scope
from tests.bench.workers_stack import libpq_url

Request = Callable[[int], tuple[dict[str, Any], bytes]]
KINDS = ("post", "replay", "billing", "billing_again", "dashboard", "invoices")


def _json(
    method: str, path: str, key: str, body: object, idem: str
) -> tuple[dict[str, Any], bytes]:
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "x-api-key": key,
        "idempotency-key": idem,
        "content-type": "application/json",
        "content-length": str(len(raw)),
    }
    return _scope(method, path, headers), raw


def requests(engagements: int) -> dict[str, Request]:
    """The mix's requests by kind, as `loadmix` builds them; `i` numbers them."""
    m = mix("s", engagements)

    def post(i: int) -> tuple[dict[str, Any], bytes]:
        engagement, obligation = m.targets[i % len(m.targets)]
        entry = {
            "entry_id": f"W-s-{i}", "engagement_id": engagement, "obligation_id": obligation,
            "resource_id": f"R-s-{i}", "role": m.roles[i % len(m.roles)],
            "work_date": f"{m.first_work_date[:-2]}{2 + i % 20:02d}",
            "hours": ("7.5", "4", "1.25", "8")[i % 4],
        }  # fmt: skip
        return _json("POST", "/time-entries", INTEGRATION_KEY, {"entries": [entry]}, f"w-s-{i}")

    def billing(contract: int, again: bool) -> tuple[dict[str, Any], bytes]:
        body = {"period": m.period, "contract_ids": [m.contracts[contract % len(m.contracts)]]}
        key = f"b-s-{contract}-{int(again)}"
        return _json("POST", "/billing-runs", FINANCE_KEY, body, key)

    def read(path: str) -> Request:
        return lambda _: (_scope("GET", path, {"x-api-key": FINANCE_KEY}), b"")

    return {
        "post": post,
        "replay": post,  # the same keys and bodies again: stored answers
        "billing": lambda i: billing(i, False),
        "billing_again": lambda i: billing(i, True),
        "dashboard": read("/dashboard"),
        "invoices": read("/invoices"),
    }


def on_cpu_ns(pid: int) -> int:
    """Nanoseconds a process ran on a CPU (the scheduler's own count, Linux `schedstat`: the
    clock ticks of /proc/<pid>/stat are too coarse for a fraction of a millisecond per
    request); 0 when it is gone."""
    try:
        return int((PROC / str(pid) / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class Statements:
    """`pg_stat_statements` of one database, read from the database `postgres`."""

    def __init__(self, url: str, database: str) -> None:
        admin = libpq_url(url).rpartition("/")[0] + "/postgres"
        self._conn = psycopg.connect(admin, autocommit=True)
        self._database = database

    def read(self) -> Counter[str]:
        """Calls by statement text, and (keyed "ms " + text) the milliseconds spent planning
        and executing them, as thousandths (a Counter subtracts only what grew)."""
        rows = self._conn.execute(
            "SELECT s.query, s.calls, s.total_exec_time + s.total_plan_time"
            " FROM pg_stat_statements s JOIN pg_database d"
            " ON d.oid = s.dbid WHERE d.datname = %s",
            [self._database],
        ).fetchall()
        counts: Counter[str] = Counter()
        for query, calls, ms in rows:
            text = " ".join(query.split())[:150]
            counts[text] += calls
            counts["ms " + text] += round(1000 * ms)
        return counts

    def backends(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self._database]
        ).fetchall()
        return [int(pid) for (pid,) in rows]


async def measure(app: Any, request: Request, n: int, start: int, stats: Statements
                  ) -> tuple[dict[str, float], Counter[str]]:  # fmt: skip
    async def one(i: int) -> None:
        scope, body = request(i)
        status = await _call(app, scope, body)
        if status not in (200, 201):
            raise SystemExit(f"{scope['method']} {scope['path']} answered {status}")

    before_statements = stats.read()
    pids = stats.backends()
    before_ns = {pid: on_cpu_ns(pid) for pid in pids}
    started = time.process_time()
    for i in range(start, start + n):
        await one(i)
    own = time.process_time() - started
    after_ns = {pid: on_cpu_ns(pid) for pid in stats.backends()}
    statements = stats.read() - before_statements
    calls = [k for k in statements if not k.startswith("ms ")]
    backend = sum(t - before_ns.get(pid, 0) for pid, t in after_ns.items()) / 1e9
    return (
        {
            "postgresql_ms": round(1000 * backend / n, 3),
            "api_ms": round(1000 * own / n, 3),
            "statements": round(sum(statements[k] for k in calls) / n, 2),
            "in_statements_ms": round(sum(statements["ms " + k] for k in calls) / n / 1000, 3),
        },
        statements,
    )


async def run(url: str, database: str, n: int, engagements: int, show: str | None,
              kinds: list[str]) -> None:  # fmt: skip
    from entrypoints.http.serve import create_from_env

    app = create_from_env()
    stats = Statements(url, database.rpartition("/")[2])
    make = requests(engagements)
    warm = 20
    results: dict[str, dict[str, float]] = {}
    for kind in kinds:
        # posts and their replays use the same numbers; billing runs go contract by contract
        # (each contract billed once, then once more with nothing left)
        billing = kind in ("billing", "billing_again")
        base, count = (0, min(n, engagements - warm)) if billing else (10_000, n)
        await measure(app, make[kind], warm, base, stats)  # warm-up: prepared statements
        results[kind], statements = await measure(app, make[kind], count, base + warm, stats)
        if kind == show:
            for query, calls in statements.most_common():
                if not query.startswith("ms "):
                    ms = statements["ms " + query] / 1000 / calls
                    print(f"{calls / count:6.2f} {ms:7.3f} ms  {query}")
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--engagements", type=int, default=120)
    parser.add_argument("--show", choices=KINDS)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated, in order")
    args = parser.parse_args()
    url = os.environ.get(POSTGRES_VARIABLE, "").strip()
    if not url:
        raise SystemExit(f"pg_statements needs {POSTGRES_VARIABLE}")
    with tempfile.TemporaryDirectory(prefix="pg-statements-") as tmp:
        keys = Path(tmp) / "keys.json"
        write_keys(keys)
        with fresh_database(url) as database:
            seed(database, args.engagements)
            os.environ.update(
                child_env(
                    {
                        "THROUGHLINE_DATABASE_URL": database,
                        "THROUGHLINE_API_KEYS": str(keys),
                        "THROUGHLINE_RATE_LIMIT": str(10**9),
                    }
                )
            )
            asyncio.run(
                run(
                    url, database, args.requests, args.engagements, args.show, args.kinds.split(",")
                )
            )


if __name__ == "__main__":
    main()
