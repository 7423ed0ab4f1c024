"""Prometheus metrics of the API (ADR 0022; the list is in docs/observability.md).

Two kinds, in one exposition at `/metrics`:

- **Requests**, counted with the request log's line (`entrypoints.http.access_log`) in the
  worker that answered: requests by method, route template and status, and their latency.
  With several workers (`throughline serve --workers N`) each process writes its counts to
  files in a directory the serve command prepared (`entrypoints.http.metrics_dir`), and
  `/metrics` adds up every process's files, so the totals are the same whichever worker
  answers the scrape.
- **Operations gauges**, read from the database at scrape time by `OperationsCollector` (one
  read-only unit of work, a handful of aggregate queries): the outbox per subscriber and
  delivery state, the age of the oldest waiting event, open exceptions by type, idempotency
  claims in progress, and the last committed billing run. The database is shared, so these
  too are the same whichever worker answers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
from litestar.exceptions import HTTPException
from litestar.types import Scope
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

from adapters.outbound.cloudevents_envelope import cloudevent_type
from adapters.outbound.webhook_publisher import Subscriber
from application.context import RequestContext
from application.operations import (
    UNDELIVERED_STATES,
    OperationsSnapshot,
    OutboxCount,
    read_operations,
)
from application.ports import Clock
from application.records import DeliveryState
from entrypoints.composition.database import Reader
from entrypoints.composition.settings import Settings
from entrypoints.http.metrics_dir import MULTIPROCESS_VARIABLE
from entrypoints.http.problems import Problem

log = logging.getLogger(__name__)

#: The subscriber label of events no configured subscriber wants (all of them, when none is).
NO_SUBSCRIBER = "none"
#: Who reads the database for a scrape (never written anywhere: the unit of work only reads).
SCRAPE_CONTEXT = RequestContext("metrics-scrape", "metrics-scrape")


# Requests -------------------------------------------------------------------------------------


class Metrics:
    """The metrics of one app: requests by route template, method and status, and latency;
    the operations gauges when given a collector; and where the worker processes of a server
    share their counts (`multiprocess_dir`; None: this process counts alone)."""

    def __init__(
        self,
        operations: OperationsCollector | None = None,
        *,
        multiprocess_dir: Path | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "throughline_http_requests",
            "HTTP requests answered",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "throughline_http_request_seconds",
            "Time to answer an HTTP request",
            ("method", "route"),
            registry=self.registry,
        )
        self.operations = operations
        self.multiprocess_dir = multiprocess_dir
        if operations is not None:
            self.registry.register(operations)
        # The labelled series already counted into, by their labels: `labels()` takes a lock
        # and builds its key on every call, for the same few routes (nothing removes a series).
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and observe how long it took."""
        key = (method, route, str(status))
        counted = self._counted.get(key)
        if counted is None:
            counted = self._counted[key] = self.requests.labels(*key)
        counted.inc()
        timed = self._timed.get(key[:2])
        if timed is None:
            timed = self._timed[key[:2]] = self.latency.labels(method, route)
        timed.observe(seconds)

    def exposition(self) -> bytes:
        """The text exposition format: every worker's counts (or this process's alone), then
        the operations gauges read now."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        if self.operations is not None:
            registry.register(self.operations)
        return generate_latest(registry)

    def worker_stopped(self) -> None:
        """An exiting worker's live gauges stop counting (its counters stay in the totals)."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


def _status_of(error: Exception) -> int:
    if isinstance(error, Problem):
        return error.type.status
    if isinstance(error, HTTPException):
        return error.status_code
    return 500


def _route_template(scope: Scope) -> str:
    """The path template (never the concrete path: ids would explode the label space)."""
    handler: Any = scope.get("route_handler")
    paths = getattr(handler, "paths", None)
    if paths:
        return str(sorted(paths)[0])
    return "unmatched"


# Operations gauges ----------------------------------------------------------------------------


class OperationsCollector:
    """The operations gauges, read from the database at every scrape (a prometheus_client
    custom collector). When the database does not answer, only
    `throughline_operations_metrics_up 0` is reported, and the request metrics still are."""

    def __init__(self, read: Reader, clock: Clock, subscribers: Sequence[Subscriber] = ()) -> None:
        self._read, self._clock = read, clock
        self._subscribers = tuple(subscribers)

    def describe(self) -> Iterable[Metric]:
        """The families this collector answers (for the registry's duplicate check; reads
        nothing)."""
        return [_up(None), *_families(None)]

    def collect(self) -> Iterable[Metric]:
        try:
            with self._read(SCRAPE_CONTEXT) as uow:
                snapshot = read_operations(uow.operations)
        except Exception:
            log.exception("metrics: the operations gauges could not be read")
            return [_up(0)]
        reading = _Reading(snapshot, self._clock.now(), self._subscribers)
        # no billing-run samples before the first run: absent, not a misleading zero
        return [_up(1), *(family for family in _families(reading) if family.samples)]


@attrs.frozen
class _Reading:
    """One scrape's snapshot, when it was taken, and the subscribers to attribute it to."""

    snapshot: OperationsSnapshot
    now: datetime
    subscribers: tuple[Subscriber, ...]


def _up(value: int | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "throughline_operations_metrics_up",
        "1 when the database answered this scrape's operations queries, else 0",
        value=value,
    )


def _families(reading: _Reading | None) -> Iterator[GaugeMetricFamily]:
    """Every operations gauge; without a reading, the families alone (no samples)."""
    outbox = GaugeMetricFamily(
        "throughline_outbox_events",
        "Undelivered outbox events each subscriber wants, by delivery state (pending, failed: "
        "awaiting a retry, in_flight, dead); subscriber 'none': wanted by no subscriber",
        labels=("subscriber", "state"),
    )
    oldest = GaugeMetricFamily(
        "throughline_outbox_oldest_undelivered_age_seconds",
        "Seconds since the oldest event neither delivered nor dead occurred; 0 when none waits",
    )
    exceptions = GaugeMetricFamily(
        "throughline_integration_exceptions_open",
        "Exceptions on the typed exception queue not resolved (open, retry scheduled or dead)",
        labels=("type",),
    )
    in_progress = GaugeMetricFamily(
        "throughline_idempotency_keys_in_progress",
        "Idempotency keys claimed by a request that has not finished (or whose process died)",
    )
    run_duration = GaugeMetricFamily(
        "throughline_billing_run_last_duration_seconds",
        "How long the last committed billing run took, up to its commit",
    )
    run_invoices = GaugeMetricFamily(
        "throughline_billing_run_last_invoices",
        "Invoices the last committed billing run drafted",
    )
    run_adjustments = GaugeMetricFamily(
        "throughline_billing_run_last_adjustments",
        "Debit and credit adjustment memos the last committed billing run drafted",
    )
    run_finished = GaugeMetricFamily(
        "throughline_billing_run_last_finished_timestamp_seconds",
        "When the last committed billing run finished (Unix time)",
    )
    if reading is not None:
        snapshot = reading.snapshot
        for (subscriber, state), events in outbox_by_subscriber(
            snapshot.outbox, reading.subscribers
        ).items():
            outbox.add_metric([subscriber, state.value], events)
        oldest.add_metric([], snapshot.oldest_waiting_age(reading.now).total_seconds())
        for kind, count in snapshot.open_exceptions.items():
            exceptions.add_metric([kind.value], count)
        in_progress.add_metric([], snapshot.idempotency_keys_in_progress)
        run = snapshot.last_billing_run
        if run is not None:
            run_duration.add_metric([], run.duration.total_seconds())
            run_invoices.add_metric([], run.invoices)
            run_adjustments.add_metric([], run.adjustments)
            run_finished.add_metric([], run.finished_at.timestamp())
    yield outbox
    yield oldest
    yield exceptions
    yield in_progress
    yield run_duration
    yield run_invoices
    yield run_adjustments
    yield run_finished


def outbox_by_subscriber(
    counts: Iterable[OutboxCount], subscribers: Sequence[Subscriber]
) -> dict[tuple[str, DeliveryState], int]:
    """Undelivered events per (subscriber, delivery state). An outbox row is one event for
    every subscriber whose filter wants its CloudEvents type, so a group counts once under each
    of them; a group nobody wants counts under `none`. Every pair is present, zero included,
    so a series does not vanish when its queue empties."""
    names = [s.name for s in subscribers] + [NO_SUBSCRIBER]
    totals = {(name, state): 0 for name in names for state in UNDELIVERED_STATES}
    for count in counts:
        event_type = cloudevent_type(count.aggregate_type, count.event_type)
        wanted_by = [s.name for s in subscribers if s.wants(event_type)] or [NO_SUBSCRIBER]
        for name in wanted_by:
            totals[(name, count.state)] += count.events
    return totals


# A server's metrics ---------------------------------------------------------------------------


def worker_subscribers(settings: Settings) -> tuple[Subscriber, ...]:
    """The subscribers the settings' file lists (none when no file is named); a file that
    cannot be used raises `SubscriberFileError`, naming the file and the field."""
    from entrypoints.workers.relay import load_subscribers

    return load_subscribers(settings.subscribers) if settings.subscribers else ()


def server_metrics(
    read: Reader,
    clock: Clock,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
) -> Metrics:
    """The metrics of one server worker: the subscribers loaded once, here, and the directory
    the serve command shares between the workers (when it named one)."""
    env = os.environ if environ is None else environ
    shared = env.get(MULTIPROCESS_VARIABLE, "").strip()
    collector = OperationsCollector(read, clock, worker_subscribers(settings))
    return Metrics(collector, multiprocess_dir=Path(shared) if shared else None)
