"""The outbox relay as a process: the loop, an in-process thread for the embedded server,
the subscribers file and the relay's settings (ADR 0016).

    THROUGHLINE_SUBSCRIBERS   the subscribers file (JSON, format below)
    THROUGHLINE_EVENT_SOURCE  the CloudEvents `source` [default: urn:throughline:local]

The subscribers file:

    {"subscribers": [
        {"name": "erp", "url": "https://erp.example.com/hooks/throughline",
         "secret": "whsec_...", "event_types": ["com.throughline.invoice.*"],
         "timeout_seconds": 5}
    ]}

`event_types` (glob patterns over CloudEvents types) defaults to everything; `timeout_seconds`
to 5. Unknown keys are refused, so a misspelt filter cannot silently subscribe to everything.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from adapters.outbound.cloudevents_envelope import DEFAULT_SOURCE, valid_source
from adapters.outbound.webhook_publisher import (
    DEFAULT_TIMEOUT_SECONDS,
    Subscriber,
    WebhookPublisher,
)
from application.journal import AGGREGATE_TYPE as JOURNAL_AGGREGATE
from application.journal import ErpPostingPublisher, acknowledger
from application.messagebus import Dependencies, UnitOfWorkFactory
from application.ports import Clock, EventPublisher
from application.records import OutboxEvent
from application.relay import (
    DEFAULT_BATCH,
    DEFAULT_STALE_AFTER,
    RelayReport,
    reap_stale,
    relay_context,
    relay_once,
)
from entrypoints.composition.settings import Settings
from entrypoints.composition.tracing import TracedDelivery

log = logging.getLogger(__name__)

SUBSCRIBERS_VARIABLE = "THROUGHLINE_SUBSCRIBERS"
EVENT_SOURCE_VARIABLE = "THROUGHLINE_EVENT_SOURCE"

#: How often the loop hands stale claims back (by the relay's clock).
DEFAULT_REAP_EVERY = timedelta(seconds=30)

#: Standard Webhooks asks for secrets of 24 to 64 random bytes.
MIN_SECRET_BYTES = 24

_SUBSCRIBER_FIELDS = {"name", "url", "secret", "event_types", "timeout_seconds"}


class SubscriberFileError(ValueError):
    """The subscribers file cannot be used; the message names the file and the field."""

    def __init__(self, path: Path, field: str, problem: str) -> None:
        super().__init__(f"{path}: {field}: {problem}" if field else f"{path}: {problem}")
        self.path, self.field, self.problem = path, field, problem


def load_subscribers(path: Path) -> tuple[Subscriber, ...]:
    """The subscribers a file lists, checked field by field (never echoing a secret)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SubscriberFileError(path, "", f"cannot be read ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SubscriberFileError(path, "", f"is not JSON ({error})") from None
    if not isinstance(document, dict) or set(document) != {"subscribers"}:
        raise SubscriberFileError(path, "", 'expected an object {"subscribers": [...]}')
    entries = document["subscribers"]
    if not isinstance(entries, list):
        raise SubscriberFileError(path, "subscribers", "must be a list")
    subscribers = [_subscriber(path, f"subscribers[{n}]", e) for n, e in enumerate(entries)]
    seen: set[str] = set()
    for n, subscriber in enumerate(subscribers):
        if subscriber.name in seen:
            raise SubscriberFileError(
                path, f"subscribers[{n}].name", f"{subscriber.name!r} is used twice"
            )
        seen.add(subscriber.name)
    return tuple(subscribers)


def _subscriber(path: Path, where: str, entry: object) -> Subscriber:
    if not isinstance(entry, dict):
        raise SubscriberFileError(path, where, "must be an object")
    unknown = sorted(set(entry) - _SUBSCRIBER_FIELDS)
    if unknown:
        raise SubscriberFileError(path, f"{where}.{unknown[0]}", "is not a known field")
    name = _text(path, where, entry, "name")
    url = _text(path, where, entry, "url")
    if not url.startswith(("http://", "https://")):
        raise SubscriberFileError(path, f"{where}.url", "must be an http:// or https:// URL")
    secret = _text(path, where, entry, "secret")
    if not _usable_secret(secret):  # the value itself is never repeated
        raise SubscriberFileError(
            path,
            f"{where}.secret",
            f"is not a Standard Webhooks secret (whsec_ and {MIN_SECRET_BYTES}+ bytes in base64)",
        )
    patterns = entry.get("event_types", ["*"])
    if (
        not isinstance(patterns, list)
        or not patterns
        or not all(isinstance(p, str) and p.strip() for p in patterns)
    ):
        raise SubscriberFileError(
            path, f"{where}.event_types", "must be a non-empty list of type patterns"
        )
    timeout = entry.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        raise SubscriberFileError(
            path, f"{where}.timeout_seconds", "must be a number of seconds, above 0 and at most 60"
        )
    return Subscriber(name, url, secret, tuple(p.strip() for p in patterns), float(timeout))


def _usable_secret(secret: str) -> bool:
    """`whsec_` and strict base64 of enough random bytes (the package itself would accept
    almost any text: its base64 decoding skips what it cannot read)."""
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        Webhook(secret)
    except (ValueError, EmptyWebhookSecretError):
        return False
    return len(key) >= MIN_SECRET_BYTES


def _text(path: Path, where: str, entry: Mapping[str, Any], field: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise SubscriberFileError(path, f"{where}.{field}", "is required (a non-empty string)")
    return value.strip()


@attrs.frozen
class RelaySettings:
    """Where the subscribers are listed and what the events' `source` is."""

    subscribers: Path | None = None
    source: str = DEFAULT_SOURCE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RelaySettings:
        env = os.environ if environ is None else environ
        path = env.get(SUBSCRIBERS_VARIABLE, "").strip()
        source = env.get(EVENT_SOURCE_VARIABLE, "").strip() or DEFAULT_SOURCE
        if not valid_source(source):
            raise ValueError(f"{EVENT_SOURCE_VARIABLE} must be a URI reference without spaces")
        return cls(Path(path) if path else None, source)

    @classmethod
    def of(cls, settings: Settings) -> RelaySettings:
        """The relay's part of the process's settings (already checked)."""
        return cls(settings.subscribers, settings.event_source)


def webhook_publisher(settings: RelaySettings, clock: Clock) -> WebhookPublisher | None:
    """The webhook publisher for the configured subscribers; None when no file is named."""
    if settings.subscribers is None:
        return None
    subscribers = load_subscribers(settings.subscribers)
    return WebhookPublisher(subscribers, clock, source=settings.source, trace=TracedDelivery())


def default_worker_id() -> str:
    """Unique per process: host, pid and a random suffix (a restarted process is new)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def with_erp_postings(publisher: EventPublisher, deps: Dependencies, worker: str) -> EventPublisher:
    """Where the deployment posts journal entries (it has charts of accounts, ADR 0034), the
    relay hands each `journal_entry.posted` to the ERP general ledger before the subscribers
    and records the ERP's document number."""
    if deps.charts is None:
        return publisher
    record = acknowledger(deps.uow, deps.clock, relay_context(worker))
    return ErpPostingPublisher(publisher, deps.general_ledger, record)


class _NoSubscriber:
    """No webhook subscriber is configured: an event the ERP took needs nobody else."""

    def publish(self, event: OutboxEvent) -> None:
        return None


def erp_only_publisher(deps: Dependencies, worker: str) -> EventPublisher | None:
    """Where the deployment posts journal entries but names no webhook subscribers, the relay
    still hands each `journal_entry.posted` to the ERP general ledger (claiming only
    `JOURNAL_AGGREGATE` events, so every other event waits for a subscriber); None where
    there is no chart of accounts either."""
    if deps.charts is None:
        return None
    return with_erp_postings(_NoSubscriber(), deps, worker)


def run_relay(
    uow: UnitOfWorkFactory,
    clock: Clock,
    publisher: EventPublisher,
    *,
    worker_id: str,
    batch: int = DEFAULT_BATCH,
    interval: float = 1.0,
    once: bool = False,
    stop_event: threading.Event | None = None,
    reap_every: timedelta = DEFAULT_REAP_EVERY,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    on_pass: Callable[[RelayReport], None] | None = None,
    aggregate_type: str | None = None,
) -> RelayReport:
    """Claim, publish and record until stopped; the totals. With `aggregate_type`, only that
    aggregate's events are claimed (the others stay pending).

    Stale claims are reaped first and then every `reap_every` (by `clock`). A full batch is
    followed at once by the next; otherwise the loop waits `interval` seconds or until
    `stop_event` is set. With `once`, it delivers everything due now and returns (errors
    propagate); without, a failing pass is logged and tried again after `interval`.
    """
    stop = stop_event or threading.Event()
    totals = RelayReport()
    last_reap: datetime | None = None
    while not stop.is_set():
        try:
            now = clock.now()
            if last_reap is None or now - last_reap >= reap_every:
                reaped = reap_stale(uow, clock, worker=worker_id, stale_after=stale_after)
                if reaped:
                    log.warning("relay %s: %d stale claims back to pending", worker_id, reaped)
                last_reap = now
            report = relay_once(
                uow,
                clock,
                publisher,
                worker=worker_id,
                limit=batch,
                should_stop=(lambda: False) if once else stop.is_set,
                aggregate_type=aggregate_type,
            )
        except Exception:
            if once:
                raise
            log.exception("relay %s: pass failed; trying again in %.1f s", worker_id, interval)
            stop.wait(interval)
            continue
        totals += report
        if on_pass is not None:
            on_pass(report)
        if once and report.claimed == 0:
            break
        if not once and report.claimed < batch:
            stop.wait(interval)
    return totals


@attrs.define
class RelayHandle:
    """A relay loop running in a daemon thread (none when there was nobody to deliver to)."""

    worker_id: str
    thread: threading.Thread | None
    stop_event: threading.Event

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand, then end the loop (waits up to `timeout` seconds)."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)


def start_in_process_relay(
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    publisher: EventPublisher | None = None,
    *,
    worker_id: str | None = None,
    batch: int = DEFAULT_BATCH,
    interval: float = 1.0,
    reap_every: timedelta = DEFAULT_REAP_EVERY,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> RelayHandle:
    """Run the relay loop beside the embedded server; `stop()` it on shutdown.

    What is not given comes from the container (its database and clock) and the environment
    (the webhook subscribers of `THROUGHLINE_SUBSCRIBERS`). With no subscribers configured
    nothing starts: the events stay pending for the first subscriber to be configured.
    """
    worker = worker_id or default_worker_id()
    stop_event = threading.Event()
    owned: WebhookPublisher | None = None  # made here, so closed here
    aggregate_type: str | None = None  # every aggregate's events, unless only the ERP's
    if uow is None or clock is None or publisher is None:
        from entrypoints.composition.container import provide_dependencies

        deps = provide_dependencies()
        uow = deps.uow if uow is None else uow
        clock = deps.clock if clock is None else clock
        if publisher is None:
            from entrypoints.composition.container import provide_settings

            settings = RelaySettings.of(provide_settings())
            publisher = owned = webhook_publisher(settings, clock)
        if publisher is None:
            publisher, aggregate_type = erp_only_publisher(deps, worker), JOURNAL_AGGREGATE
            if publisher is None:
                log.info("outbox relay not started: %s names no subscribers", SUBSCRIBERS_VARIABLE)
                return RelayHandle(worker, None, stop_event)
            log.info(
                "outbox relay posts journal entries to the ERP only: %s names no subscribers, "
                "so other events stay pending",
                SUBSCRIBERS_VARIABLE,
            )
        else:
            publisher = with_erp_postings(publisher, deps, worker)
    relay_uow, relay_clock, relay_publisher = uow, clock, publisher

    def loop() -> None:
        try:
            run_relay(
                relay_uow,
                relay_clock,
                relay_publisher,
                worker_id=worker,
                batch=batch,
                interval=interval,
                stop_event=stop_event,
                reap_every=reap_every,
                stale_after=stale_after,
                aggregate_type=aggregate_type,
            )
        finally:
            if owned is not None:
                owned.close()

    thread = threading.Thread(target=loop, name=f"outbox-relay {worker}", daemon=True)
    thread.start()
    return RelayHandle(worker, thread, stop_event)
