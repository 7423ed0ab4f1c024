"""The operations gauges on real SQLite and PostgreSQL: exact numbers for one seeded situation
(the same the in-memory fake gives, tests/unit/application/test_operations.py), a fixed
handful of aggregate queries per scrape whatever the outbox holds, and billing-run records
written in the run's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from adapters.memory import FakeClock
from adapters.sqlalchemy import operations as sql_operations
from adapters.sqlalchemy.database import Database
from application import commands as c
from application.context import RequestContext
from application.operations import OutboxCount, read_operations
from application.records import DeliveryState, OutboxEvent
from application.unit_of_work import UnitOfWork
from entrypoints.http.metrics import OperationsCollector
from tests.integration.support import SqlApp, only_on
from tests.support.operations_world import (
    LAST_RUN,
    NOW,
    OPEN_EXCEPTIONS,
    SUBSCRIBERS,
    Gauges,
    by_label,
    check_the_seeded_gauges,
    gauge_values,
    seed,
)
from tests.unit.application.conftest import set_up_tm_contract
from tests.unit.application.test_billing_and_closure import MARCH
from tests.unit.application.test_billing_run_record import (
    a_billed_month_is_recorded_with_its_size_and_duration,
)

#: outbox counts, oldest waiting event, open exceptions, idempotency claims, last billing run
QUERIES_PER_SCRAPE = 5


def writer(database: Database) -> Callable[[RequestContext], UnitOfWork]:
    return lambda ctx: database.unit_of_work(ctx, lambda: NOW)


def reader(database: Database) -> Callable[[RequestContext], UnitOfWork]:
    return lambda ctx: database.unit_of_work(ctx, lambda: NOW, read_only=True)


def scrape(database: Database, subscribers: Any = SUBSCRIBERS) -> dict[str, Any]:
    return gauge_values(
        OperationsCollector(reader(database), FakeClock(NOW), subscribers).collect()
    )


def by_subscriber(values: Gauges) -> dict[tuple[str, str], float]:
    return by_label(values, "throughline_outbox_events", "subscriber", "state")


def test_each_subscriber_sees_the_undelivered_events_its_filter_wants_by_state(
    database: Database,
) -> None:
    seed(writer(database))
    values = scrape(database)
    check_the_seeded_gauges(values)
    assert values["throughline_operations_metrics_up"] == {(): 1.0}


def test_open_exceptions_by_type_claims_in_progress_and_the_last_billing_run(
    database: Database,
) -> None:
    seed(writer(database))
    values = scrape(database)
    assert by_label(values, "throughline_integration_exceptions_open", "type") == OPEN_EXCEPTIONS
    assert values["throughline_idempotency_keys_in_progress"] == {(): 1.0}
    assert values["throughline_billing_run_last_duration_seconds"] == {(): 4.321}
    assert values["throughline_billing_run_last_invoices"] == {(): 7.0}
    assert values["throughline_billing_run_last_adjustments"] == {(): 2.0}
    assert values["throughline_billing_run_last_finished_timestamp_seconds"] == {
        (): (NOW - timedelta(hours=1)).timestamp()
    }


def test_the_queries_group_in_sql_and_give_back_exact_records(database: Database) -> None:
    seed(writer(database))
    with reader(database)(RequestContext("t", "t")) as uow:
        snapshot = read_operations(uow.operations)
    assert snapshot.outbox == (
        OutboxCount("Engagement", "EngagementActivated", DeliveryState.DEAD, 1),
        OutboxCount("Engagement", "EngagementActivated", DeliveryState.IN_FLIGHT, 1),
        OutboxCount("Invoice", "InvoiceIssued", DeliveryState.PENDING, 2),
        OutboxCount("Invoice", "PaymentRecorded", DeliveryState.FAILED, 1),
        OutboxCount("TimeEntry", "ItemApproved", DeliveryState.PENDING, 1),
    )
    assert snapshot.oldest_waiting_event_at == NOW - timedelta(minutes=50)
    assert snapshot.last_billing_run == LAST_RUN


def test_with_no_subscribers_every_undelivered_event_counts_under_none(
    database: Database,
) -> None:
    seed(writer(database))
    counted = by_subscriber(scrape(database, subscribers=()))
    assert counted == {
        ("none", "pending"): 3.0,
        ("none", "failed"): 1.0,
        ("none", "in_flight"): 1.0,
        ("none", "dead"): 1.0,
    }


def test_an_empty_database_reports_zeros_and_no_billing_run(database: Database) -> None:
    values = scrape(database)
    assert set(by_subscriber(values).values()) == {0.0}
    assert values["throughline_outbox_oldest_undelivered_age_seconds"] == {(): 0.0}
    assert set(values["throughline_integration_exceptions_open"].values()) == {0.0}
    assert values["throughline_idempotency_keys_in_progress"] == {(): 0.0}
    assert "throughline_billing_run_last_duration_seconds" not in values  # absent, not zero


def test_a_scrape_costs_the_same_few_queries_however_long_the_outbox_is(
    database: Database,
) -> None:
    seed(writer(database))
    with writer(database)(RequestContext("t", "t")) as uow:
        uow.outbox.add(
            [
                OutboxEvent(f"BULK-{n}", "InvoiceIssued", "Invoice", f"INV-B{n}", {}, "c", NOW)
                for n in range(500)
            ]
        )
        uow.commit()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        values = scrape(database)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert len(statements) == QUERIES_PER_SCRAPE
    assert by_subscriber(values)[("erp", "pending")] == 502.0


@only_on("sqlite")
def test_the_outbox_and_queue_questions_are_answered_from_indexes(database: Database) -> None:
    statements = {
        "outbox": sql_operations._outbox_counts(),
        "oldest": sql_operations._oldest_waiting(),
        "exceptions": sql_operations._open_exceptions(),
        "idempotency": sql_operations._in_progress(),
    }
    with database.engine.connect() as connection:
        for name, statement in statements.items():
            compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "INDEX" in details, (name, details)


def test_a_committed_billing_run_is_recorded_with_its_size_and_duration(app: SqlApp) -> None:
    a_billed_month_is_recorded_with_its_size_and_duration(app, 0.75)


def test_a_billing_run_whose_commit_fails_leaves_no_run_record(app: SqlApp) -> None:
    set_up_tm_contract(app)

    def fail(_: Any) -> None:
        raise RuntimeError("the disk is full")

    event.listen(app.database.engine, "commit", fail)
    try:
        with pytest.raises(RuntimeError, match="disk is full"):
            app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    finally:
        event.remove(app.database.engine, "commit", fail)
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        assert uow.operations.last_billing_run() is None
