"""Who is asking, and under which correlation id: carried into audit, outbox and logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from application.idempotency import Claim


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
    #: The request's Idempotency-Key, claimed by the first unit of work that writes for it
    #: (ADR 0018); background jobs continuing the conversation claim nothing.
    idempotency: Claim | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)

    def as_system(self, job: str) -> RequestContext:
        """The same conversation continued by a background job."""
        return RequestContext(
            job,
            self.correlation_id,
            frozenset({"system"}),
            traceparent=self.traceparent,
            tracestate=self.tracestate,
        )


#: Who reads for a query port when nobody in particular asks (read-only units of work record
#: nothing).
READ_SIDE = RequestContext("read-side", "read-side")
