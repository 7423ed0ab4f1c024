"""The request's edge: one ASGI layer that carries the correlation id, applies the rate limit,
authenticates and checks the permission, and counts and logs the answer.

Correlation: `X-Correlation-ID` (or the trace id of a W3C `traceparent`) is taken when it is
well formed, otherwise one is generated; it is echoed on every response and carried into the
request context, hence into audit records, outbox events and outbound webhooks.

Rate limiting: a fixed window per client. The client is the credential (a digest of the API key
or bearer token), or the remote address when there is none. Every response under the limiter
carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a refusal is a 429
problem with `Retry-After`. The counters live in the worker process: with several workers the
limit applies per worker (ADR 0018).

These were four middleware layers (correlation, the request log with the metrics, the rate
limit, authentication), each a coroutine call and each wrapping the answer's `send` in a
closure of its own, on every request; one layer does what they did, in the same order, with one
wrapper that sets the same headers in the same order (ADR 0068, amendment "the POST's own
path"). The server span (tracing on) still encloses all of it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import msgspec
import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.composition.tracing import tracing_active
from entrypoints.http.access_log import log_request
from entrypoints.http.correlation import correlation_id_for, header
from entrypoints.http.metrics import Metrics, _status_of
from entrypoints.http.problems import PROBLEM_MEDIA_TYPE, REGISTRY, ProblemBody
from entrypoints.http.server_span import ServerSpanMiddleware


class RateLimiter:
    """Fixed windows per client; thread-safe, clock injectable for tests."""

    def __init__(
        self, limit: int, window_seconds: int, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # client -> (window number, count)

    def take(self, client: str) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until the window resets)."""
        now = self._now()
        number = int(now // self.window)
        reset = max(1, int((number + 1) * self.window - now))
        with self._lock:
            current, count = self._windows.get(client, (number, 0))
            if current != number:
                count = 0
                if len(self._windows) > 10_000:
                    self._windows = {k: v for k, v in self._windows.items() if v[0] == number}
            if count >= self.limit:
                return False, 0, reset
            self._windows[client] = (number, count + 1)
            return True, self.limit - count - 1, reset


def client_of(scope: Scope) -> str:
    """The credential's digest, else the remote address (never the credential itself)."""
    credential = header(scope, b"x-api-key") or header(scope, b"authorization")
    if credential:
        return "c:" + hashlib.sha256(credential.encode()).hexdigest()[:32]
    client = scope.get("client")
    return "a:" + (client[0] if client else "unknown")


class RequestEdge:
    """Correlation, rate limit, authentication and the request log, as one layer (see the
    module doc). `admit` authenticates the caller and checks the permission
    (`entrypoints.http.app.ApiAuthentication`); a refusal it raises is answered by the app's
    exception handler, as it was when authentication was a layer of its own."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        admit: Callable[[Scope], None],
        metrics: Metrics | None = None,
        exempt: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.admit = admit
        self.metrics = metrics
        self.exempt = exempt
        self._traced = ServerSpanMiddleware(self._answer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            self.admit(scope)
            await self.app(scope, receive, send)
        elif tracing_active():
            await self._traced(scope, receive, send)
        else:
            await self._answer(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        correlation = correlation_id_for(scope)
        encoded = correlation.encode()
        started = time.perf_counter()
        status = 500
        limit_headers: list[tuple[bytes, bytes]] = []

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v)
                    for k, v in [*message.get("headers", []), *limit_headers]
                    if k.lower() != b"x-correlation-id"
                ]
                headers.append((b"x-correlation-id", encoded))
                message["headers"] = headers
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(correlation_id=correlation)
        try:
            if not scope["path"].startswith(self.exempt):
                allowed, remaining, reset = self.limiter.take(client_of(scope))
                limits = [
                    (b"ratelimit-limit", str(self.limiter.limit).encode()),
                    (b"ratelimit-remaining", str(remaining).encode()),
                    (b"ratelimit-reset", str(reset).encode()),
                ]
                if not allowed:
                    await _refuse(scope, answer, [*limits, (b"retry-after", str(reset).encode())])
                    return
                limit_headers = limits
            self.admit(scope)
            await self.app(scope, receive, answer)
        except Exception as error:
            # a refusal of the rate limit's or authentication's, or an error no handler
            # inside answered: the app's outer exception handler answers it with this status
            status = _status_of(error)
            raise
        finally:
            log_request(self.metrics, scope, status, time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**tokens)


async def _refuse(scope: Scope, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    kind = REGISTRY["rate-limited"]
    correlation = str(scope.get("state", {}).get("correlation_id", ""))
    body = msgspec.json.encode(
        ProblemBody(
            type=kind.uri,
            title=kind.title,
            status=kind.status,
            detail="this client sent too many requests; retry after the time in Retry-After",
            instance=scope["path"],
            correlation_id=correlation or None,
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
