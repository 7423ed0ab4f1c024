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

Nothing here logs or raises with a secret, a signature or a URL (URLs may carry credentials):
subscribers are named by their `name`.
"""

from __future__ import annotations

import fnmatch
import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

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
    ) -> None:
        self.subscribers = tuple(subscribers)
        self._signers = {s.name: Webhook(s.secret) for s in self.subscribers}
        self._clock, self._source, self._cooldown = clock, source, cooldown
        self._client = client or httpx.Client(follow_redirects=False)
        self._down_until: dict[str, datetime] = {}

    def publish(self, event: OutboxEvent) -> None:
        wanted_by = [
            s
            for s in self.subscribers
            if s.wants(cloudevent_type(event.aggregate_type, event.event_type))
        ]
        if not wanted_by:
            return
        body = structured_json(event, self._source).decode("utf-8")
        problems = [
            f"{subscriber.name}: {problem}"
            for subscriber in wanted_by
            if (problem := self._deliver(subscriber, event.event_id, body)) is not None
        ]
        if problems:
            raise DownstreamUnavailableError("webhook delivery failed: " + "; ".join(problems))

    def _deliver(self, subscriber: Subscriber, message_id: str, body: str) -> str | None:
        """None when the subscriber took the message, else what went wrong (no secrets)."""
        now = self._clock.now().astimezone(UTC)
        down_until = self._down_until.get(subscriber.name)
        if down_until is not None and now < down_until:
            return f"skipped, unavailable until {down_until:%H:%M:%S} UTC"
        headers = {
            "content-type": CONTENT_TYPE,
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(math.floor(now.timestamp())),
            "webhook-signature": self._signers[subscriber.name].sign(message_id, now, body),
        }
        try:
            response = self._client.post(
                subscriber.url,
                content=body.encode("utf-8"),
                headers=headers,
                timeout=httpx.Timeout(subscriber.timeout_seconds),
            )
        except httpx.HTTPError as error:
            return self._unavailable(subscriber, now, type(error).__name__)
        if response.is_success:
            self._down_until.pop(subscriber.name, None)
            return None
        problem = f"HTTP {response.status_code}"
        if response.status_code >= 500 or response.status_code == 429:
            return self._unavailable(subscriber, now, problem)
        log.warning("webhook subscriber %s refused an event: %s", subscriber.name, problem)
        return problem

    def _unavailable(self, subscriber: Subscriber, now: datetime, problem: str) -> str:
        self._down_until[subscriber.name] = now + self._cooldown
        log.warning(
            "webhook subscriber %s unavailable (%s); skipping it for %s",
            subscriber.name,
            problem,
            self._cooldown,
        )
        return problem

    def close(self) -> None:
        self._client.close()
