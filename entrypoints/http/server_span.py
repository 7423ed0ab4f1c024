"""The server span of each HTTP request, when tracing is on (ADR 0020).

It continues the trace of an incoming W3C `traceparent` (and `tracestate`), or starts one, and
is named by the method and the route template (`POST /time-entries`). The command handling
(`entrypoints.composition.tracing.TracedBus`) and the SQL statements are its children; `context_of`
copies its trace context into the request context, hence onto the outbox rows the request
writes. Only a 5xx marks it failed: a refusal is the server doing its job.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.composition.tracing import mark_failed, started_span, tracing_active
from entrypoints.http.access_log import principal_id
from entrypoints.http.correlation import correlation_id_for, header
from entrypoints.http.metrics import _route_template, _status_of

TRACE_HEADERS = (b"traceparent", b"tracestate")


class ServerSpanMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not tracing_active():
            await self.app(scope, receive, send)
            return
        carrier = {name.decode(): value for name in TRACE_HEADERS if (value := header(scope, name))}
        method = scope["method"]
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        attributes = {
            "http.request.method": method,
            "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "throughline.correlation_id": correlation_id_for(scope),
        }
        with started_span(
            method, kind="server", carrier=carrier, attributes=attributes, errors_are_failures=False
        ) as span:
            try:
                await self.app(scope, receive, capture)
            except Exception as error:
                status = _status_of(error)
                raise
            finally:
                if span is not None:
                    route = _route_template(scope)
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    principal = principal_id(scope)
                    if principal is not None:
                        span.set_attribute("enduser.id", principal)
                    if status >= 500:
                        mark_failed(span, f"HTTP {status}")
