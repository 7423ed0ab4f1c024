"""One operational situation, written through the unit-of-work ports, and the gauges it must
give: the in-memory fake and both SQL databases are held to the same numbers.

At NOW the outbox holds, per CloudEvents type:

    invoice.issued           2 pending (30 and 10 min old), 1 delivered (10 h old)
    invoice.payment_recorded 1 failed, awaiting its retry (50 min old: the oldest waiting)
    engagement.activated     1 in flight (20 min old), 1 dead (5 h old: dead does not wait)
    time_entry.approved      1 pending (40 min old)

Subscriber `erp` wants `com.throughline.invoice.*`; `crm` wants engagement events and issued
invoices; nobody wants time entries. The exception queue has two open validation exceptions,
a downstream outage awaiting its retry and another one resolved, and a dead master-data
exception. One idempotency key is in progress, one completed. Two billing runs were committed;
the March one last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import Metric

from adapters.outbound.webhook_publisher import Subscriber
from application.context import RequestContext
from application.operations import BillingRunRecord
from application.records import (
    DeliveryState,
    ExceptionKind,
    ExceptionState,
    IdempotencyRecord,
    IdempotencyStatus,
    IntegrationException,
    OutboxEvent,
)
from application.unit_of_work import UnitOfWork

#: Samples by metric name, then by their labels (sorted name-value pairs).
Gauges = dict[str, dict[tuple[tuple[str, str], ...], float]]

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # unused: `wants` only reads the filter
SUBSCRIBERS = (
    Subscriber("erp", "https://erp.example.com/hooks", SECRET, ("com.throughline.invoice.*",)),
    Subscriber(
        "crm",
        "https://crm.example.com/hooks",
        SECRET,
        ("com.throughline.engagement.*", "com.throughline.invoice.issued"),
    ),
)
LAST_RUN = BillingRunRecord(
    period="2026-03",
    invoices=7,
    adjustments=2,
    duration=timedelta(seconds=4, microseconds=321_000),
    finished_at=NOW - timedelta(hours=1),
    actor="billing-clerk",
    correlation_id="corr-run-2",
)

#: (subscriber, state) → events, as `throughline_outbox_events` reports them.
OUTBOX_BY_SUBSCRIBER = {
    ("erp", "pending"): 2.0,
    ("erp", "failed"): 1.0,
    ("erp", "in_flight"): 0.0,
    ("erp", "dead"): 0.0,
    ("crm", "pending"): 2.0,
    ("crm", "failed"): 0.0,
    ("crm", "in_flight"): 1.0,
    ("crm", "dead"): 1.0,
    ("none", "pending"): 1.0,
    ("none", "failed"): 0.0,
    ("none", "in_flight"): 0.0,
    ("none", "dead"): 0.0,
}
OLDEST_WAITING_SECONDS = 50 * 60.0
OPEN_EXCEPTIONS = {
    "validation": 2.0,
    "master_data": 1.0,
    "downstream_unavailable": 1.0,
    "conflict": 0.0,
}

UnitOfWorkFactory = Callable[[RequestContext], UnitOfWork]
CTX = RequestContext("operations-test", "corr-seed")


def _event(
    n: int, aggregate: str, event_type: str, state: DeliveryState, minutes_old: float
) -> OutboxEvent:
    event = OutboxEvent(
        f"EVT-{n:03d}",
        event_type,
        aggregate,
        f"{aggregate[:3].upper()}-{n}",
        {"n": n},
        "corr-seed",
        NOW - timedelta(minutes=minutes_old),
        state=state,
    )
    if state is DeliveryState.FAILED:
        event.attempts, event.next_attempt_at = 1, NOW + timedelta(minutes=4)
        event.last_error = "erp: 503"
    if state is DeliveryState.IN_FLIGHT:
        event.claimed_by, event.claimed_at = "relay-1", NOW - timedelta(seconds=3)
    if state is DeliveryState.DEAD:
        event.attempts, event.last_error = 5, "crm: 410"
    return event


def outbox() -> list[OutboxEvent]:
    return [
        _event(1, "Invoice", "InvoiceIssued", DeliveryState.PENDING, 30),
        _event(2, "Invoice", "InvoiceIssued", DeliveryState.PENDING, 10),
        _event(3, "Invoice", "InvoiceIssued", DeliveryState.DELIVERED, 600),
        _event(4, "Invoice", "PaymentRecorded", DeliveryState.FAILED, 50),
        _event(5, "Engagement", "EngagementActivated", DeliveryState.IN_FLIGHT, 20),
        _event(6, "Engagement", "EngagementActivated", DeliveryState.DEAD, 300),
        _event(7, "TimeEntry", "ItemApproved", DeliveryState.PENDING, 40),
    ]


def _exception(n: int, kind: ExceptionKind, state: ExceptionState) -> IntegrationException:
    return IntegrationException(
        f"EXC-{n:03d}",
        kind,
        "invoice_handover",
        f"invoice:INV-{n}",
        kind.value,
        "seeded",
        {},
        "corr-seed",
        NOW - timedelta(hours=n),
        state=state,
    )


def exceptions() -> list[IntegrationException]:
    return [
        _exception(1, ExceptionKind.VALIDATION, ExceptionState.OPEN),
        _exception(2, ExceptionKind.VALIDATION, ExceptionState.OPEN),
        _exception(3, ExceptionKind.DOWNSTREAM_UNAVAILABLE, ExceptionState.RETRY_SCHEDULED),
        _exception(4, ExceptionKind.DOWNSTREAM_UNAVAILABLE, ExceptionState.RESOLVED),
        _exception(5, ExceptionKind.MASTER_DATA, ExceptionState.DEAD),
    ]


def seed(uow: UnitOfWorkFactory) -> None:
    """Write the situation above, in one transaction."""
    with uow(CTX) as work:
        work.outbox.add(outbox())
        for item in exceptions():
            work.exceptions.add(item)
        for key, status in (("k-running", IdempotencyStatus.IN_PROGRESS),
                            ("k-done", IdempotencyStatus.COMPLETED)):  # fmt: skip
            work.idempotency.save(
                IdempotencyRecord("finance", key, "f" * 64, status, NOW - timedelta(minutes=1))
            )
        work.billing_runs.add(
            BillingRunRecord(
                "2026-02", 3, 0, timedelta(seconds=1.5), NOW - timedelta(days=30), "clerk", "c1"
            )
        )
        work.billing_runs.add(LAST_RUN)
        work.commit()


def gauge_values(families: Iterable[Metric]) -> Gauges:
    """Samples by metric name, then by their labels (sorted name-value pairs)."""
    values: Gauges = {}
    for family in families:
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            values.setdefault(sample.name, {})[labels] = sample.value
    return values


def by_label(values: Gauges, name: str, *labels: str) -> dict[Any, float]:
    """One gauge's samples by the value of `labels` (one label: the value alone)."""
    keyed = {tuple(dict(k)[label] for label in labels): v for k, v in values[name].items()}
    return {k[0]: v for k, v in keyed.items()} if len(labels) == 1 else keyed


def check_the_seeded_gauges(values: Gauges) -> None:
    """What `seed` gives, whichever store holds it: undelivered events by subscriber and state,
    the oldest waiting one, open exceptions by type, one key in progress, the last run's size."""
    outbox = by_label(values, "throughline_outbox_events", "subscriber", "state")
    assert outbox == OUTBOX_BY_SUBSCRIBER
    oldest = values["throughline_outbox_oldest_undelivered_age_seconds"]
    assert oldest == {(): OLDEST_WAITING_SECONDS}
    assert by_label(values, "throughline_integration_exceptions_open", "type") == OPEN_EXCEPTIONS
    assert values["throughline_idempotency_keys_in_progress"] == {(): 1.0}
    assert values["throughline_billing_run_last_invoices"] == {(): 7.0}
