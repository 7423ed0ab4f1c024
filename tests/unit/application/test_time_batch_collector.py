"""A batch of time is admitted with the cyclic collector paused (ADR 0055), whichever way it
arrives, and the collector is on again once the batch is answered."""

from __future__ import annotations

import gc
from datetime import date
from typing import Any

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from application import commands as c
from application.context import RequestContext
from tests.unit.application.conftest import (
    in_memory_app,
    set_up_tm_contract,
    start_clock,
    time_entry,
    wire,
)


def test_a_batch_of_time_is_admitted_with_the_collector_paused_and_it_runs_again_after() -> None:
    store, clock = InMemoryStore(), start_clock()
    collecting: list[bool] = []

    def unit_of_work(ctx: RequestContext, read_only: bool = False) -> Any:
        collecting.append(gc.isenabled())
        return InMemoryUnitOfWork(store, ctx, clock.now)

    app = wire(store, unit_of_work, clock)
    set_up_tm_contract(app)
    collecting.clear()
    report = app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    assert report.accepted == ("t1",)
    assert collecting == [False]
    assert gc.isenabled()


def test_a_refused_batch_leaves_the_collector_on() -> None:
    app = in_memory_app()
    set_up_tm_contract(app)
    report = app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "25"),)))
    assert [r.reason_code for r in report.rejected] == ["invalid_quantity"]
    assert gc.isenabled()
