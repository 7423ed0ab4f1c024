"""The operations gauges on the in-memory fake (the same numbers the SQL databases give for the
same situation: tests/integration/test_operations_sql.py), the subscriber attribution, and a
scrape that still answers when the database does not."""

from __future__ import annotations

from datetime import timedelta

from adapters.memory import FakeClock, InMemoryStore, InMemoryUnitOfWork
from application.context import RequestContext
from application.operations import OperationsSnapshot, OutboxCount
from application.records import DeliveryState, ExceptionKind
from application.unit_of_work import UnitOfWork
from entrypoints.http.metrics import Metrics, OperationsCollector, outbox_by_subscriber
from tests.support.operations_world import (
    NOW,
    SUBSCRIBERS,
    check_the_seeded_gauges,
    gauge_values,
    seed,
)


def memory_reader(store: InMemoryStore) -> OperationsCollector:
    return OperationsCollector(
        lambda ctx: InMemoryUnitOfWork(store, ctx, lambda: NOW), FakeClock(NOW), SUBSCRIBERS
    )


def test_the_fake_gives_the_numbers_the_databases_give() -> None:
    store = InMemoryStore()
    seed(lambda ctx: InMemoryUnitOfWork(store, ctx, lambda: NOW))
    check_the_seeded_gauges(gauge_values(memory_reader(store).collect()))


def test_an_event_two_subscribers_want_counts_once_for_each_and_unwanted_ones_under_none() -> None:
    counts = [
        OutboxCount("Invoice", "InvoiceIssued", DeliveryState.PENDING, 4),  # erp and crm
        OutboxCount("Invoice", "InvoiceVoided", DeliveryState.DEAD, 1),  # erp only
        OutboxCount("Milestone", "MilestoneAccepted", DeliveryState.FAILED, 2),  # nobody
    ]
    totals = outbox_by_subscriber(counts, SUBSCRIBERS)
    assert totals[("erp", DeliveryState.PENDING)] == 4
    assert totals[("crm", DeliveryState.PENDING)] == 4
    assert totals[("erp", DeliveryState.DEAD)] == 1
    assert totals[("crm", DeliveryState.DEAD)] == 0
    assert totals[("none", DeliveryState.FAILED)] == 2
    assert sum(totals.values()) == 4 + 4 + 1 + 2
    assert len(totals) == 3 * 4  # every subscriber × state, zero included


class _Unreachable:
    """A database that refuses every connection."""

    def __call__(self, ctx: RequestContext) -> UnitOfWork:
        raise ConnectionRefusedError("the database is down")


def test_a_scrape_still_answers_the_request_counts_when_the_database_does_not() -> None:
    metrics = Metrics(OperationsCollector(_Unreachable(), FakeClock(NOW)))
    metrics.requests.labels("GET", "/health", "200").inc()
    text = metrics.exposition().decode()
    assert "throughline_operations_metrics_up 0.0" in text
    assert 'throughline_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert "throughline_outbox_events" not in text


def test_the_oldest_waiting_age_is_zero_when_nothing_waits_and_never_negative() -> None:
    zero = dict.fromkeys(ExceptionKind, 0)
    empty = OperationsSnapshot((), None, zero, 0, None)
    assert empty.oldest_waiting_age(NOW) == timedelta(0)
    ahead = OperationsSnapshot((), NOW + timedelta(seconds=3), zero, 0, None)  # another clock
    assert ahead.oldest_waiting_age(NOW) == timedelta(0)
