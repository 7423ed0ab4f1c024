"""The outbox relay on real databases: the suite of `tests/unit/application/test_outbox_relay.py`
again on SQLite and PostgreSQL, then what only a database shows: concurrent workers never
claim one event twice (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time),
keep per-aggregate order between them, and a claim skips rows another worker has locked
instead of waiting for them."""

from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from adapters.memory import FakeEventPublisher
from adapters.sqlalchemy import tables as t
from application.records import DeliveryState, OutboxEvent
from application.relay import RelayReport, relay_once
from tests.integration.support import SqlApp, only_on
from tests.integration.test_concurrency import in_threads
from tests.unit.application.test_outbox_relay import *  # noqa: F403
from tests.unit.application.test_outbox_relay import by_aggregate, seed

WORKERS = 4


class SharedSink(FakeEventPublisher):
    """One subscriber that several relay threads publish to."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def publish(self, event: OutboxEvent) -> None:
        with self._lock:
            super().publish(event)


def seed_many(app: SqlApp, events: int, aggregates: int) -> list[tuple[str, str]]:
    rows = [(f"E{n:05d}", f"INV-{n % aggregates:04d}") for n in range(events)]
    seed(app, *rows)
    return rows


def test_concurrent_workers_deliver_each_event_once_in_order_per_aggregate(app: SqlApp) -> None:
    seeded = seed_many(app, events=600, aggregates=150)
    sink = SharedSink()
    start = threading.Barrier(WORKERS, timeout=30)
    reports: list[RelayReport] = []

    def worker(name: str) -> None:
        start.wait()
        while True:
            report = relay_once(app.bus.deps.uow, app.clock, sink, worker=name, limit=25)
            reports.append(report)
            if report.claimed == 0 and _all_delivered(app):
                return

    assert in_threads(*(lambda n=n: worker(f"w{n}") for n in range(WORKERS))) == [None] * WORKERS
    assert Counter(sink.ids) == Counter(event_id for event_id, _ in seeded)  # each exactly once
    expected: dict[tuple[str, str], list[str]] = {}
    for event_id, aggregate in seeded:
        expected.setdefault(("Invoice", aggregate), []).append(event_id)
    assert by_aggregate(sink.received) == expected  # commit order within every aggregate
    assert sum(r.claimed for r in reports) == sum(r.delivered for r in reports) == len(seeded)


def _all_delivered(app: SqlApp) -> bool:
    with app.database.engine.connect() as connection:
        undelivered = connection.execute(
            sa.select(sa.func.count())
            .select_from(t.outbox)
            .where(t.outbox.c.state != DeliveryState.DELIVERED.value)
        ).scalar_one()
    return int(undelivered) == 0


@only_on("postgresql")
def test_postgresql_a_claim_skips_the_rows_another_worker_holds_instead_of_waiting(
    app: SqlApp,
) -> None:
    seed_many(app, events=20, aggregates=20)
    first = app.bus.deps.uow(app.as_("w1"))
    second = app.bus.deps.uow(app.as_("w2"))
    with first, second:
        # fail, rather than hang, if the second claim ever waited for the first's row locks
        second.connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")  # type: ignore[attr-defined]
        mine = first.outbox.claim("w1", app.clock.now(), 8)  # locked, not yet committed
        theirs = second.outbox.claim("w2", app.clock.now(), 8)
        second.commit()
        first.commit()
    assert [e.event_id for e in mine] == [f"E{n:05d}" for n in range(8)]
    assert [e.event_id for e in theirs] == [f"E{n:05d}" for n in range(8, 16)]
    claimed_by = {e.event_id: e.claimed_by for e in app.data.outbox}
    assert Counter(claimed_by.values()) == {"w1": 8, "w2": 8, None: 4}


@only_on("postgresql")
def test_postgresql_a_locked_head_still_holds_back_its_aggregate(app: SqlApp) -> None:
    """Skipping a locked row must not let a later event of its aggregate overtake it."""
    seed(app, ("A1", "INV-A"), ("A2", "INV-A"), ("B1", "INV-B"))
    first = app.bus.deps.uow(app.as_("w1"))
    second = app.bus.deps.uow(app.as_("w2"))
    with first, second:
        second.connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")  # type: ignore[attr-defined]
        assert [e.event_id for e in first.outbox.claim("w1", app.clock.now(), 1)] == ["A1"]
        assert [e.event_id for e in second.outbox.claim("w2", app.clock.now(), 10)] == ["B1"]
        second.commit()
        first.commit()


def test_the_claim_is_one_statement_however_large_the_batch(app: SqlApp) -> None:
    """Set-based: a batch of 100 is claimed and marked with one statement each."""
    seed_many(app, events=100, aggregates=100)
    statements: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "WITH")):
            statements.append(statement)

    sa.event.listen(app.database.engine, "before_cursor_execute", record)
    try:
        report = relay_once(app.bus.deps.uow, app.clock, FakeEventPublisher(), worker="w1")
    finally:
        sa.event.remove(app.database.engine, "before_cursor_execute", record)
    assert report == RelayReport(claimed=100, delivered=100)
    assert len(statements) == 2  # one claim, one mark-delivered
