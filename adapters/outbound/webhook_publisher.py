"""The `EventPublisher` for outbound webhooks: each event, as a structured CloudEvent, POSTed
to every subscriber whose event-type filter matches, signed with Standard Webhooks.

Headers: `webhook-id` (the event id, the same on every retry), `webhook-timestamp` (Unix
seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>` made by the
`standardwebhooks` package with the subscriber's `whsec_` secret). A 2xx answer is delivered;
any other status, a timeout or a network error is a failure of the whole event, which the
relay retries on its schedule, so a subscriber that answered may receive it again (same id).

A subscriber that timed out, could not be reached or answered 5xx/429 is skipped for
`cooldown` (its events fail at once): one dead endpoint does not hold a batch for a timeout
per event, so a batch finishes well inside the reaper's stale-claim window.

Every attempt at a subscriber is one log line, `outbox.delivery`, with the event id, the
subscriber's name, the CloudEvents type, the outcome (delivered, failed or skipped) and how
long it took. Nothing here logs or raises with a secret, a signature or a URL (URLs may carry
credentials): subscribers are named by their `name`.

Tracing: each webhook request carries the W3C `traceparent` (and `tracestate`) that the
`DeliveryTrace` gives for the event. Without a tracer that is the trace context stored on the
outbox row (`StoredTraceContext`); `entrypoints.composition.tracing.TracedDelivery` makes the
delivery a span of that trace and sends the span's own context. A row without one gets no header.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import attrs
import httpx
from standardwebhooks import Webhook

from adapters.outbound.cloudevents_envelope import (
    CONTENT_TYPE,
    DEFAULT_SOURCE,
    cloudevent_type,
    structured_json,
)
from application.errors import DownstreamUnavailableError
from application.ports import Clock
from application.records import OutboxEvent

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_COOLDOWN = timedelta(seconds=30)
USER_AGENT = "throughline-relay"


@attrs.frozen
class Subscriber:
    """One webhook endpoint and the CloudEvents types it wants (glob patterns such as
    `com.throughline.invoice.*`; `*` for everything)."""

    name: str
    url: str
    secret: str = attrs.field(repr=False)
    event_types: tuple[str, ...] = ("*",)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def wants(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.event_types)


def stored_trace_headers(event: OutboxEvent) -> dict[str, str]:
    """The trace context stored on the outbox row as W3C headers (none when not traced)."""
    if not event.traceparent:
        return {}
    headers = {"traceparent": event.traceparent}
    if event.tracestate:
        headers["tracestate"] = event.tracestate
    return headers


class DeliveryTrace(Protocol):
    """Where the delivery of one event sits in its trace: a context manager around the
    delivery that gives the trace headers each of its webhook requests carries."""

    def delivering(
        self, event: OutboxEvent, event_type: str
    ) -> AbstractContextManager[Mapping[str, str]]: ...


class StoredTraceContext:
    """No tracer here: the writing request's trace context is passed on unchanged."""

    @contextmanager
    def delivering(self, event: OutboxEvent, event_type: str) -> Iterator[Mapping[str, str]]:
        yield stored_trace_headers(event)


class WebhookPublisher:
    """POSTs signed CloudEvents to the subscribers; raises `DownstreamUnavailableError` when
    any subscriber that wanted the event did not take it."""

    def __init__(
        self,
        subscribers: Iterable[Subscriber],
        clock: Clock,
        *,
        source: str = DEFAULT_SOURCE,
        client: httpx.Client | None = None,
        cooldown: timedelta = DEFAULT_COOLDOWN,
        trace: DeliveryTrace | None = None,
    ) -> None:
        self.subscribers = tuple(subscribers)
        self._signers = {s.name: Webhook(s.secret) for s in self.subscribers}
        self._clock, self._source, self._cooldown = clock, source, cooldown
        self._trace: DeliveryTrace = trace or StoredTraceContext()
        self._client = client or httpx.Client(follow_redirects=False)
        self._down_until: dict[str, datetime] = {}

    def publish(self, event: OutboxEvent) -> None:
        event_type = cloudevent_type(event.aggregate_type, event.event_type)
        wanted_by = [s for s in self.subscribers if s.wants(event_type)]
        if not wanted_by:
            return
        body = structured_json(event, self._source).decode("utf-8")
        with self._trace.delivering(event, event_type) as trace_headers:
            problems = [
                f"{subscriber.name}: {problem}"
                for subscriber in wanted_by
                if (problem := self._deliver(subscriber, event, event_type, body, trace_headers))
                is not None
            ]
            if problems:
                raise DownstreamUnavailableError("webhook delivery failed: " + "; ".join(problems))

    def _deliver(
        self,
        subscriber: Subscriber,
        event: OutboxEvent,
        event_type: str,
        body: str,
        trace_headers: Mapping[str, str],
    ) -> str | None:
        """None when the subscriber took the message, else what went wrong (no secrets)."""
        attempt = _Attempt(event, subscriber.name, event_type)
        now = self._clock.now().astimezone(UTC)
        down_until = self._down_until.get(subscriber.name)
        if down_until is not None and now < down_until:
            problem = f"skipped, unavailable until {down_until:%H:%M:%S} UTC"
            attempt.logged("skipped", problem=problem)
            return problem
        headers = {
            **trace_headers,
            "content-type": CONTENT_TYPE,
            "user-agent": USER_AGENT,
            "webhook-id": event.event_id,
            "webhook-timestamp": str(math.floor(now.timestamp())),
            "webhook-signature": self._signers[subscriber.name].sign(event.event_id, now, body),
        }
        try:
            response = self._client.post(
                subscriber.url,
                content=body.encode("utf-8"),
                headers=headers,
                timeout=httpx.Timeout(subscriber.timeout_seconds),
            )
        except httpx.HTTPError as error:
            problem = type(error).__name__
            attempt.logged("failed", problem=problem, **self._cool_down(subscriber, now))
            return problem
        if response.is_success:
            self._down_until.pop(subscriber.name, None)
            attempt.logged("delivered", status=response.status_code)
            return None
        problem = f"HTTP {response.status_code}"
        unavailable = response.status_code >= 500 or response.status_code == 429
        cooling = self._cool_down(subscriber, now) if unavailable else {}
        attempt.logged("failed", status=response.status_code, problem=problem, **cooling)
        return problem

    def _cool_down(self, subscriber: Subscriber, now: datetime) -> dict[str, Any]:
        """The subscriber is skipped for the cooldown; what the log line says about it."""
        self._down_until[subscriber.name] = now + self._cooldown
        return {"skipped_for_s": self._cooldown.total_seconds()}

    def close(self) -> None:
        self._client.close()


class _Attempt:
    """One attempt at one subscriber, timed from its making to its log line."""

    def __init__(self, event: OutboxEvent, subscriber: str, event_type: str) -> None:
        self.fields = {
            "event_id": event.event_id,
            "subscriber": subscriber,
            "event_type": event_type,
            # the request that made the change: its log lines and this one share it
            "correlation_id": event.correlation_id,
        }
        self.started = time.perf_counter()

    def logged(self, outcome: str, **details: Any) -> None:
        duration_ms = round((time.perf_counter() - self.started) * 1000, 1)
        log.log(
            logging.WARNING if outcome == "failed" else logging.INFO,
            "outbox.delivery",
            extra={**self.fields, "outcome": outcome, "duration_ms": duration_ms, **details},
        )
