"""The Litestar application: routes, authentication, the permission check, problem details,
correlation ids, rate limiting, metrics and the OpenAPI 3.1 document at `/schema`.

`create_app(services, authenticator)` builds one app; `entrypoints.http.serve` builds the
services from the container for a server process, tests build them over fakes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Scope

from entrypoints.http.answer_cache import AnswerCache
from entrypoints.http.body_gate import (
    StrictStructSchemaPlugin,
    body_gate,
    declare_query_names,
    document_body_refusals,
)
from entrypoints.http.correlation import correlation_id_for
from entrypoints.http.metrics import Metrics, OperationsCollector
from entrypoints.http.middleware import RateLimiter, RequestEdge
from entrypoints.http.openapi_page import swagger_assets_router, swagger_page_plugin
from entrypoints.http.problems import EXCEPTION_HANDLERS, Problem
from entrypoints.http.routes import ROUTERS
from entrypoints.http.runtime import Services
from entrypoints.http.security import AuthenticationError, Authenticator, Principal

PUBLIC = "public"
#: Paths that need no credential: health, the OpenAPI document, metrics, and webhooks (which
#: are authenticated by their signature instead).
OPEN_PATHS = ("/health", "/ready", "/schema", "/metrics", "/webhooks")


class ApiAuthentication:
    """Puts the caller's `Principal` into the scope (`scope["user"]`), or refuses with 401,
    for every request but those to `OPEN_PATHS` and CORS preflights (OPTIONS), as Litestar's
    authentication middleware does; it reads the two credential headers from the scope,
    instead of building a connection and all its headers per request. Then, for every HTTP
    request, the one permission check (`check_permission`): once the route is known and the
    caller authenticated, before the body gate and the handler. Called by the request's edge
    (`RequestEdge`) after the rate limit, rather than as a layer of its own, and rather than
    as a Litestar guard (a guard is handed a copy of the route handler, made anew for every
    request)."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.open_paths = re.compile("|".join(f"^{p}" for p in OPEN_PATHS))

    def __call__(self, scope: Scope) -> None:
        if scope["type"] in ("http", "websocket") and not self._is_open(scope):
            correlation_id_for(scope)
            try:
                principal = self.authenticator.authenticate(_credentials(scope))
            except AuthenticationError as error:
                raise Problem(
                    "unauthenticated",
                    str(error),
                    headers={"WWW-Authenticate": 'Bearer realm="throughline", ApiKey'},
                ) from None
            scope["user"] = principal
            scope["auth"] = None
        if scope["type"] == "http":
            check_permission(scope)

    def _is_open(self, scope: Scope) -> bool:
        if scope.get("method") == "OPTIONS":
            return True
        handler: Any = scope.get("route_handler")
        if handler is not None and handler.opt.get("exclude_from_auth"):
            return True
        path = scope["raw_path"].decode() if getattr(handler, "is_mount", False) else scope["path"]
        return self.open_paths.match(path) is not None


def _credentials(scope: Scope) -> dict[str, str]:
    """The request's credential headers (the first of each), as the authenticator reads them."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _CREDENTIAL_HEADERS:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


_CREDENTIAL_HEADERS = frozenset({b"x-api-key", b"authorization"})


def check_permission(scope: Scope) -> None:
    """The one permission check: the route's `opt["permission"]` must be among the caller's."""
    permission = scope["route_handler"].opt.get("permission")
    if permission is None and scope["path"].startswith("/schema"):
        return  # the OpenAPI document and its pages
    if permission is None:  # pragma: no cover - a test proves every route names one
        raise Problem("forbidden", "this route names no permission")
    if permission == PUBLIC:
        return
    user = scope.get("user")
    if not isinstance(user, Principal) or not user.may(permission):
        raise Problem("forbidden", f"this needs the permission {permission!r}")


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Throughline API",
        version="1",
        description=(
            "Contract-to-cash: contracts, engagements, delivery, billing runs, invoices, "
            "credit memos, revenue, periods and the integration machinery. Errors are RFC 9457 "
            "problem details; every state-changing POST needs an Idempotency-Key."
        ),
        path="/schema",
        render_plugins=[swagger_page_plugin(path="/")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(
                    type="apiKey", name="X-API-Key", security_scheme_in="header"
                ),
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            }
        ),
        security=[{"apiKey": []}, {"bearer": []}],
    )


def create_app(
    services: Services,
    authenticator: Authenticator,
    *,
    metrics: Metrics | None = None,
    rate_clock: Callable[[], float] | None = None,
    extra_routes: Sequence[Any] = (),
    debug: bool = False,
) -> Litestar:
    """One API over the given services."""
    limits = services.limits
    limiter = (
        RateLimiter(limits.rate_limit, limits.rate_window_seconds, rate_clock)
        if rate_clock is not None
        else RateLimiter(limits.rate_limit, limits.rate_window_seconds)
    )
    metrics = metrics or Metrics(OperationsCollector(services.reader, services.clock))
    for handler in [*ROUTERS, *extra_routes]:
        _describe_permission(handler)
        document_body_refusals(handler)
    # One router for every handler: Litestar 2.25 wraps a sync handler twice when a second
    # handler is later registered on the same path at the app level.
    app = Litestar(
        route_handlers=[
            Router(path="/", route_handlers=[*ROUTERS, *extra_routes]),
            swagger_assets_router(),
        ],
        middleware=[
            DefineMiddleware(
                RequestEdge,
                limiter=limiter,
                admit=ApiAuthentication(authenticator),
                metrics=metrics,  # counts and logs
                exempt=("/health", "/ready", "/metrics"),
            ),
        ],
        before_request=body_gate,  # after the permission check, before the body is decoded
        plugins=[StrictStructSchemaPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        request_max_body_size=limits.max_body_bytes,
        state=None,
        debug=debug,
        logging_config=None,  # composition.logs configures logging, once, for the process
    )
    declare_query_names(app)
    app.state["services"] = services
    app.state["metrics"] = metrics
    app.state["dashboard_answer"] = AnswerCache[Any]()  # routes/dashboard.py
    return app


def _describe_permission(handler: Any) -> None:
    """Write the route's permission into its OpenAPI description (once)."""
    permission = getattr(handler, "opt", {}).get("permission")
    if permission is None or permission == PUBLIC:
        return
    note = f"Permission: `{permission}`."
    description = handler.description or ""
    if note not in description:
        handler.description = f"{description}\n\n{note}".strip()
