"""Who is asking, and under which correlation id: carried into audit, outbox and logs."""

from __future__ import annotations

import attrs


@attrs.frozen
class RequestContext:
    """The principal behind a command and the correlation id of the conversation it belongs to."""

    actor: str
    correlation_id: str
    roles: frozenset[str] = frozenset()
    #: The W3C trace context of the request, when it is traced: stored on the outbox rows its
    #: units of work write, so the relay's delivery continues the same trace (ADR 0020).
    traceparent: str | None = attrs.field(default=None, kw_only=True)
    tracestate: str | None = attrs.field(default=None, kw_only=True)

    def as_system(self, job: str) -> RequestContext:
        """The same conversation continued by a background job."""
        return RequestContext(
            job,
            self.correlation_id,
            frozenset({"system"}),
            traceparent=self.traceparent,
            tracestate=self.tracestate,
        )
