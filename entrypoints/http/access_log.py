"""The request log: one line per HTTP request, written when it has been answered (ADR 0020).

    event=http.request correlation_id=... principal=fran.finance method=POST
    route=/invoices/{invoice_id:str}/approve status=200 duration_ms=12.4

`route` is the path template, never the concrete path (ids stay out of the log's keys, as
they stay out of the metrics' labels); `principal` is the authenticated caller's id, or null.
The correlation id is bound for the whole request (`structlog.contextvars`), so every line
logged while it runs carries it. This replaces uvicorn's access log, which is silenced.

The request is counted into the request metrics (`Metrics.answered`, ADR 0022) just before
its line: both want the answer's status, the route template and the time taken. Both are
taken by the request's edge (`entrypoints.http.middleware.RequestEdge`), the one layer that
also carries the correlation id and the rate limit, so the answer is wrapped once for all of
them (ADR 0061, ADR 0068).
"""

from __future__ import annotations

import logging

from litestar.types import Scope

from entrypoints.composition.logs import log_fields
from entrypoints.http.metrics import Metrics, _route_template
from entrypoints.http.security import Principal

log = logging.getLogger("throughline.access")


def log_request(metrics: Metrics | None, scope: Scope, status: int, seconds: float) -> None:
    """Count one answered request into `metrics` (when given) and write its `http.request`
    line; the principal is read from the scope once the inner app is done."""
    method, route = scope["method"], _route_template(scope)
    if metrics is not None:
        metrics.answered(method, route, status, seconds)
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
