"""ASGI middleware: correlation ids and per-client rate limiting (request metrics are in
`entrypoints.http.metrics`).

Correlation: `X-Correlation-ID` (or the trace id of a W3C `traceparent`) is taken when it is
well formed, otherwise one is generated; it is echoed on every response and carried into the
request context, hence into audit records, outbox events and outbound webhooks.

Rate limiting: a fixed window per client. The client is the credential (a digest of the API key
or bearer token), or the remote address when there is none. Every response under the limiter
carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; a refusal is a 429
problem with `Retry-After`. The counters live in the worker process: with several workers the
limit applies per worker (ADR 0018).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.correlation import correlation_id_for, header
from entrypoints.http.problems import PROBLEM_MEDIA_TYPE, REGISTRY, ProblemBody


class CorrelationMiddleware:
    """Puts `correlation_id` into the request state and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = correlation_id_for(scope)
        encoded = correlation.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"x-correlation-id"
                ]
                headers.append((b"x-correlation-id", encoded))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


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


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        allowed, remaining, reset = self.limiter.take(client_of(scope))
        limit_headers = [
            (b"ratelimit-limit", str(self.limiter.limit).encode()),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(reset).encode()),
        ]
        if not allowed:
            await _refuse(scope, send, [*limit_headers, (b"retry-after", str(reset).encode())])
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + limit_headers
            await send(message)

        await self.app(scope, receive, send_with_limits)


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
