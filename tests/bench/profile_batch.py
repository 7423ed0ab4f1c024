"""Where the CPU of one HTTP batch goes: `POST /time-entries` with 1,000 entries into the two
time-and-materials obligations of `bench_import`, holding 100,000 entries (`--stored`).

The API app is built as a server worker builds it (`create_from_env`) on a copy of the seeded
database and called in this process through ASGI (no socket, no server). Each batch is timed in
CPU (`time.process_time`, every thread of the process), and so is the command inside it (the
bus's `handle`); what the batch costs beyond its command is the edge: reading the body, building
the command, the fingerprint, the answer and its storage, the framework. The SQLite WAL
checkpoint thread runs beside the batches, as in a server (its startup hook starts it), and
the wall time per batch is printed too: a checkpoint a commit runs itself is waiting on the
disk as much as CPU. `--profile FILE` also keeps a cProfile of the timed batches (its timer is
CPU time too; the sync handler then runs inline on the event loop's thread, which is the
thread cProfile sees).

    python -m tests.bench.profile_batch [--batches 30] [--stored 100000] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import bench_http, bench_import
from tests.bench.profile_http import _call, _scope

BATCH = bench_import.BATCH
WARM_UP = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=30, help="timed batches")
    parser.add_argument("--stored", type=int, default=100_000, help="entries already held")
    parser.add_argument("--profile", type=Path, help="keep a cProfile of the timed batches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-batch-") as tmp:
        workdir = Path(tmp)
        database, keys = workdir / "seeded.db", workdir / "keys.json"
        bench_import.seed(database, args.stored)
        bench_http.write_keys(keys)
        os.environ.update(bench_http.api_env(database, keys))
        whole, command, walls = asyncio.run(_batches(args.batches, args.profile))
    print(f"POST /time-entries, {BATCH:,} entries a batch, {args.stored:,} stored, CPU ms per "
          f"batch (median of {args.batches}):")  # fmt: skip
    for label, spent in (("the whole batch", whole), ("the command", command)):
        print(f"  {label:<20} {statistics.median(spent) * 1000:7.2f}")
    edge = [w - c for w, c in zip(whole, command, strict=True)]
    print(f"  {'the edge':<20} {statistics.median(edge) * 1000:7.2f}")
    print(f"  {'wall, median':<20} {statistics.median(walls) * 1000:7.2f}")
    print(f"  {'wall, mean':<20} {statistics.fmean(walls) * 1000:7.2f}")


async def _batches(
    count: int, profile: Path | None
) -> tuple[list[float], list[float], list[float]]:
    from adapters.sqlalchemy.wal_checkpoint import wal_checkpointer_of
    from entrypoints.composition.container import provide_database
    from entrypoints.http.serve import create_from_env

    if profile is not None:
        import litestar.concurrency

        async def inline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        litestar.concurrency._run_sync_asyncio = inline  # type: ignore[assignment]
    app = create_from_env()
    checkpointer = wal_checkpointer_of(provide_database().engine)
    if checkpointer is not None:  # as the app's startup hook does in a server
        checkpointer.start()
    command = _timed_commands(app.state["services"].bus)
    entries = bench_import.new_rows(BATCH * (count + WARM_UP), "PROFILE")
    bodies = [
        json.dumps(bench_import._body(entries[i : i + BATCH])).encode()
        for i in range(0, len(entries), BATCH)
    ]
    profiler = cProfile.Profile(time.process_time) if profile is not None else None
    whole: list[float] = []
    walls: list[float] = []
    for n, body in enumerate(bodies):
        headers = {
            "x-api-key": bench_http.INTEGRATION_KEY,
            "idempotency-key": f"profile-batch-{n}",
            "content-type": "application/json",
            "content-length": str(len(body)),
        }
        scope = _scope("POST", "/time-entries", headers)
        timed = profiler is not None and n >= WARM_UP
        started, wall = time.process_time(), time.perf_counter()
        if timed:
            profiler.enable()  # type: ignore[union-attr]
        status = await _call(app, scope, body)
        if timed:
            profiler.disable()  # type: ignore[union-attr]
        if n >= WARM_UP:
            whole.append(time.process_time() - started)
            walls.append(time.perf_counter() - wall)
        if status != 200:
            raise SystemExit(f"POST /time-entries answered {status}")
    if checkpointer is not None:
        checkpointer.stop()
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    return whole, command[WARM_UP:], walls


def _timed_commands(bus: Any) -> list[float]:
    """The CPU of each command the bus handles from now on, in order."""
    spent: list[float] = []
    handle = bus.handle

    def timed(command: Any, ctx: Any) -> Any:
        started = time.process_time()
        try:
            return handle(command, ctx)
        finally:
            spent.append(time.process_time() - started)

    bus.handle = timed
    return spent


if __name__ == "__main__":
    main()
