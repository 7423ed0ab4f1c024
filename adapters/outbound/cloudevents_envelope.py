"""Outbox events as CloudEvents 1.0, structured JSON mode (ADR 0016).

    id               the outbox event id (the same on every delivery: receivers dedupe by it)
    source           the deployment, a URI reference (`urn:throughline:<deployment>` by default)
    type             com.throughline.<aggregate>.<action>, e.g. com.throughline.invoice.issued
    time             when the change was committed
    subject          the aggregate's id
    datacontenttype  application/json; `data` is the event's payload
    correlationid    extension: the correlation id of the request that made the change
    traceparent      Distributed Tracing extension: the W3C trace context of that request,
    tracestate       when it was traced (absent otherwise), so receivers can join its trace

Built and written with `cloudevents.core` (the 2.x API), so what goes out is what the
package's own validation and JSON format accept.
"""

from __future__ import annotations

import re
from datetime import UTC

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from application.records import OutboxEvent

TYPE_PREFIX = "com.throughline"
DEFAULT_SOURCE = "urn:throughline:local"
#: The HTTP Content-Type of a structured-mode CloudEvent in JSON.
CONTENT_TYPE = f"{JSONFormat.CONTENT_TYPE}; charset=utf-8"
DATA_CONTENT_TYPE = "application/json"
CORRELATION_EXTENSION = "correlationid"
TRACEPARENT_EXTENSION = "traceparent"
TRACESTATE_EXTENSION = "tracestate"

#: What the domain's event names call an aggregate when it is not the class name: time
#: entries and expenses are both "items" (`ItemApproved`), a period is an accounting period.
SHORT_NAMES: dict[str, str] = {
    "TimeEntry": "Item",
    "ExpenseItem": "Item",
    "AccountingPeriod": "Period",
}

_WORD = re.compile(r"[A-Z][a-z0-9]*|[a-z0-9]+")
_FORMAT = JSONFormat()


def _words(name: str) -> list[str]:
    return _WORD.findall(name)


def _snake(words: list[str]) -> str:
    return "_".join(word.lower() for word in words)


def cloudevent_type(aggregate_type: str, event_type: str) -> str:
    """`com.throughline.<aggregate>.<action>`, both snake_case. The action is the event's
    class name without the leading words that name its aggregate:

    InvoiceIssued on Invoice → com.throughline.invoice.issued;
    PaymentRecorded on Invoice → com.throughline.invoice.payment_recorded;
    ItemApproved on TimeEntry → com.throughline.time_entry.approved;
    PeriodClosed on AccountingPeriod → com.throughline.accounting_period.closed.
    """
    aggregate = _words(aggregate_type)
    action = _words(event_type)
    short = SHORT_NAMES.get(aggregate_type)
    prefixes = [aggregate] if short is None else [aggregate, _words(short)]
    for prefix in prefixes:
        if len(action) > len(prefix) and action[: len(prefix)] == prefix:
            action = action[len(prefix) :]
            break
    return f"{TYPE_PREFIX}.{_snake(aggregate) or 'unknown'}.{_snake(action) or 'event'}"


def to_cloudevent(event: OutboxEvent, source: str = DEFAULT_SOURCE) -> CloudEvent:
    """The CloudEvent of one outbox event (validated by `cloudevents.core`)."""
    attributes: dict[str, object] = {
        "specversion": "1.0",
        "id": event.event_id,
        "source": source,
        "type": cloudevent_type(event.aggregate_type, event.event_type),
        "time": event.occurred_at.astimezone(UTC),
        "datacontenttype": DATA_CONTENT_TYPE,
        CORRELATION_EXTENSION: event.correlation_id,
    }
    if event.aggregate_id:  # CloudEvents forbids an empty subject
        attributes["subject"] = event.aggregate_id
    if event.traceparent:
        attributes[TRACEPARENT_EXTENSION] = event.traceparent
        if event.tracestate:
            attributes[TRACESTATE_EXTENSION] = event.tracestate
    return CloudEvent(attributes, dict(event.payload))


def structured_json(event: OutboxEvent, source: str = DEFAULT_SOURCE) -> bytes:
    """The event as a structured-mode CloudEvents JSON document (the HTTP body)."""
    return _FORMAT.write(to_cloudevent(event, source))


def parse_structured_json(body: bytes | str) -> BaseCloudEvent:
    """A structured-mode CloudEvents JSON document back as a CloudEvent (what a receiver
    using the same package does)."""
    return _FORMAT.read(None, body)


def valid_source(source: str) -> bool:
    """A usable `source`: a non-empty URI reference without spaces (`urn:...`, `https://...`
    or a path)."""
    return bool(source) and not any(ch.isspace() for ch in source)
