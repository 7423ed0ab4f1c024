"""The request log: one line per HTTP request, written when it has been answered (ADR 0020).

    event=http.request correlation_id=... principal=fran.finance method=POST
    route=/invoices/{invoice_id:str}/approve status=200 duration_ms=12.4

`route` is the path template, never the concrete path (ids stay out of the log's keys, as
they stay out of the metrics' labels); `principal` is the authenticated caller's id, or null.
The correlation id is bound for the whole request (`structlog.contextvars`), so every line
logged while it runs carries it. This replaces uvicorn's access log, which is silenced.
"""

from __future__ import annotations

import logging
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.composition.logs import log_fields
from entrypoints.http.correlation import correlation_id_for
from entrypoints.http.metrics import _route_template, _status_of
from entrypoints.http.security import Principal

log = logging.getLogger("throughline.access")


class AccessLogMiddleware:
    """Logs `http.request` after each request; outside authentication, so a refused
    credential (401) is logged too, and the principal is read once the inner app is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
                log_fields(
                    log,
                    logging.INFO,
                    "http.request",
                    {
                        "principal": principal_id(scope),
                        "method": scope["method"],
                        "route": _route_template(scope),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )


def principal_id(scope: Scope) -> str | None:
    """The authenticated caller's id (set by the authentication middleware), else None."""
    user = scope.get("user")
    return user.id if isinstance(user, Principal) else None
