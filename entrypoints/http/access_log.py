"""The request log: one line per HTTP request, written when it has been answered (ADR 0020).

    event=http.request correlation_id=... principal=fran.finance method=POST
    route=/invoices/{invoice_id:str}/approve status=200 duration_ms=12.4

`route` is the path template, never the concrete path (ids stay out of the log's keys, as
they stay out of the metrics' labels); `principal` is the authenticated caller's id, or null.
The correlation id is bound for the whole request (`structlog.contextvars`), so every line
logged while it runs carries it. This replaces uvicorn's access log, which is silenced.

The same middleware counts the request into the request metrics (`Metrics.answered`, ADR
0022) just before its line: both want the answer's status, the route template and the time
taken, and one layer that takes them once costs every request less than two that each wrap
the answer (ADR 0061).
"""

from __future__ import annotations

import logging
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.composition.logs import log_fields
from entrypoints.http.correlation import correlation_id_for
from entrypoints.http.metrics import Metrics, _route_template, _status_of
from entrypoints.http.security import Principal

log = logging.getLogger("throughline.access")


class AccessLogMiddleware:
    """Counts each request into `metrics` (when given) and logs `http.request` once it is
    answered; outside authentication, so a refused credential (401) is counted and logged
    too, and the principal is read once the inner app is done."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = correlation_id_for(scope)
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation):
            try:
                await self.app(scope, receive, capture)
            except Exception as error:
                # raised by a middleware inside this one (authentication); the app's outer
                # exception handler answers it with this status
                status = _status_of(error)
                raise
            finally:
                seconds = time.perf_counter() - started
                method, route = scope["method"], _route_template(scope)
                if self.metrics is not None:
                    self.metrics.answered(method, route, status, seconds)
                log_fields(
                    log,
                    logging.INFO,
                    "http.request",
                    {
                        "principal": principal_id(scope),
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )


def principal_id(scope: Scope) -> str | None:
    """The authenticated caller's id (set by the authentication middleware), else None."""
    user = scope.get("user")
    return user.id if isinstance(user, Principal) else None
