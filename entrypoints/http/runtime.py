"""What every route shares: the services it runs on, the caller, and the way a state-changing
request is executed under its `Idempotency-Key`.

`execute()` is the one path for POSTs that change money-relevant state:

1. the key is required and must be 1-255 visible ASCII characters (else 400, nothing stored);
2. the command runs through the message bus, and the first unit of work that writes for it
   claims the key for (principal, key) with the request's fingerprint (method, path and the
   canonical JSON of the validated body) in the command's own transaction: a completed claim
   replays the stored status and body (`Idempotent-Replayed: true`), a different fingerprint
   is 422, a running one 409;
3. a refusal (a domain or application error) rolls the claim back with the command, so a
   corrected retry with the same key works; success stores the response with the key, in the
   command's own transaction when the route asks for it (`answer_in_transaction`, for commands
   that do nothing after their commit), else in one small write after it.

When the answer is stored after the command's commit, a process that dies between the two
leaves the claim in progress; after `application.idempotency.STALE_AFTER` a retry takes it
over and runs the command again, which the commands tolerate (ADR 0018). When it is stored in
the command's transaction, there is no such window.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs
import msgspec
from litestar import Request, Response

from application import idempotency
from application.context import RequestContext
from application.messagebus import MessageBus
from application.ports import Clock
from application.queries.finance import FinanceQueries
from application.queries.viewer import Viewer
from application.records import IdempotencyRecord
from entrypoints.composition.database import Reader
from entrypoints.composition.ops_reads import OpsReads
from entrypoints.composition.tracing import traced_context
from entrypoints.http.body_fingerprint import body_fingerprint
from entrypoints.http.correlation import correlation_id_for
from entrypoints.http.problems import IDEMPOTENCY_KEY_PATTERN, Problem
from entrypoints.http.security import Principal
from entrypoints.http.webhook_intake import WebhookIntake

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
JSON = "application/json"
T = TypeVar("T")
R = TypeVar("R")


@attrs.frozen
class Limits:
    """Documented maxima (docs/http-api.md)."""

    max_body_bytes: int = 1_048_576
    max_batch_items: int = 1_000
    max_page_size: int = 200
    default_page_size: int = 50
    rate_limit: int = 1_200
    rate_window_seconds: int = 60


@attrs.frozen
class Services:
    """What the routes run on; built once by the composition root."""

    bus: MessageBus
    reader: Reader
    clock: Clock
    limits: Limits = Limits()
    #: The inbound-webhook intake (None: this server receives no webhooks).
    webhooks: WebhookIntake | None = None
    #: The query ports of the delivery, setup and operations routes (composition/ops_reads.py).
    ops: OpsReads | None = None
    #: The finance screens' query ports (ADR 0042); every finance GET reads through them.
    finance: FinanceQueries | None = None


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    if not isinstance(user, Principal):  # pragma: no cover - the auth middleware always sets it
        raise Problem("unauthenticated", "authentication is required")
    return user


def context_of(request: Request[Any, Any, Any]) -> RequestContext:
    """The caller, the correlation id and, when the request is traced, its trace context."""
    principal = principal_of(request)
    ctx = RequestContext(principal.id, correlation_id_for(request.scope), principal.roles)
    return traced_context(ctx)


def context_of_anonymous(request: Request[Any, Any, Any], actor: str) -> RequestContext:
    """The context of a request that carries no credential (webhooks sign instead)."""
    return traced_context(RequestContext(actor, correlation_id_for(request.scope)))


def services_of(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state["services"]
    return services


def ops_reads_of(request: Request[Any, Any, Any]) -> OpsReads:
    """The read side of the delivery, setup and operations routes."""
    ops = services_of(request).ops
    if ops is None:  # pragma: no cover - every composition passes it
        raise RuntimeError("these services were composed without the operations read side")
    return ops


def finance_of(request: Request[Any, Any, Any]) -> FinanceQueries:
    """The finance query ports the composition root gave this app."""
    finance = services_of(request).finance
    if finance is None:  # pragma: no cover - every composition passes them
        raise RuntimeError("this app was composed without the finance query ports")
    return finance


def viewer_of(request: Request[Any, Any, Any]) -> Viewer:
    """Whose documents the caller sees: a client viewer its customer's, the firm everyone's."""
    principal = principal_of(request)
    return Viewer.client(principal.customer_id) if principal.scoped else Viewer.staff()


def encode(value: object) -> bytes:
    """JSON the way every response is written: decimals and dates as strings."""
    return msgspec.json.encode(value)


def execute(
    request: Request[Any, Any, Any],
    body: object,
    run: Callable[[RequestContext], tuple[int, object]],
    *,
    answer_in_transaction: bool = False,
) -> Response[Any]:
    """Run a state-changing request exactly once per `Idempotency-Key` (see the module doc).

    `answer_in_transaction`: the command's transaction stays open until the answer is stored
    in it, one commit for both (ADR 0018). Only for a command that does nothing after its
    commit (no call to another system, no read of what it wrote through another connection).
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        raise Problem(
            "idempotency-key-missing", f"send an {IDEMPOTENCY_HEADER} header with this request"
        )
    if not _KEY.match(key):
        raise Problem(
            "idempotency-key-malformed",
            f"the {IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters",
        )
    services = services_of(request)
    ctx = context_of(request)
    fingerprint = body_fingerprint(request.method, request.url.path, body)
    claim = idempotency.Claim(
        ctx.actor, key, fingerprint, services.clock.now(), answer_in_transaction
    )
    ctx = attrs.evolve(ctx, idempotency=claim)
    try:
        status, payload = run(ctx)
        content = encode(payload)
    except idempotency.AlreadyAnsweredError as answered:
        return _replayed(answered.record)
    except Exception:
        # Refused or failed: a claim taken in a transaction that did not commit went with it;
        # one a committed transaction holds is forgotten, so a corrected retry works.
        claim.settle()
        if claim.claimed:
            _abandon(services, ctx, key)
        raise
    if not claim.answer(status, content.decode()):
        try:
            # One more small write: the answer, with the key the command's transaction
            # claimed (for a command that committed nothing, the key is claimed here).
            with services.bus.deps.uow(ctx) as uow:
                idempotency.complete(uow, ctx.actor, key, status, content.decode())
                uow.commit()
        except idempotency.AlreadyAnsweredError as answered:
            return _replayed(answered.record)
    return EncodedAnswer(content, status_code=status, media_type=JSON)


def _replayed(stored: IdempotencyRecord) -> Response[Any]:
    return EncodedAnswer(
        (stored.response_body or "").encode(),
        status_code=stored.response_status or 200,
        media_type=JSON,
        headers={"Idempotent-Replayed": "true"},
    )


class EncodedAnswer(Response[bytes]):
    """A JSON answer already encoded (the bytes stored with the Idempotency-Key), sent as
    Litestar would send it: the response's own headers in order, then `content-type` and
    `content-length`, then the body. Litestar turns a `Response` into an `ASGIResponse` per
    request (a headers object, the headers merged and encoded, the content rendered again);
    for bytes with nothing else to add, this answer builds the two messages directly. Anything
    else (a route's own headers, cookies or background task, a HEAD request, a status without
    a body) goes through Litestar's way."""

    __slots__ = ()

    def to_asgi_response(  # type: ignore[override]
        self, app: Any, request: Request[Any, Any, Any], **route: Any
    ) -> Any:
        status = self.status_code or 200
        plain = (
            app is None
            and self.background is None
            and not self.cookies
            and not any(route.get(k) for k in _ROUTE_ADDITIONS)
            and not any(k.lower() in _SET_HERE for k in self.headers)
        )
        if not plain or status < 200 or status in (204, 304) or self.media_type != JSON:
            return super().to_asgi_response(app, request, **route)
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()
        ]
        headers += [(b"content-type", _JSON_BYTES), (b"content-length", b"%d" % len(self.content))]
        return _Sent(status, headers, self.content)


_ROUTE_ADDITIONS = ("background", "cookies", "encoded_headers", "headers", "is_head_response")
_SET_HERE = ("content-type", "content-length")
_JSON_BYTES = JSON.encode()


@attrs.frozen
class _Sent:
    """The two ASGI messages of an answer: its start and its whole body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def _abandon(services: Services, ctx: RequestContext, key: str) -> None:
    with services.bus.deps.uow(attrs.evolve(ctx, idempotency=None)) as uow:
        idempotency.abandon(uow, ctx.actor, key)
        uow.commit()


class Page(msgspec.Struct, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


def paginate(items: list[T], limit: int | None, cursor: str | None, limits: Limits) -> Page[T]:
    """Offset pages behind an opaque cursor; the page size is capped at `limits.max_page_size`."""
    size = limit if limit is not None else limits.default_page_size
    if size < 1 or size > limits.max_page_size:
        raise Problem(
            "validation-error",
            f"limit must be between 1 and {limits.max_page_size}",
        )
    start = _offset(cursor)
    chunk = items[start : start + size]
    following = start + size
    return Page(chunk, _cursor(following) if following < len(items) else None)


def _cursor(offset: int) -> str:
    return f"o{offset}"


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not re.fullmatch(r"o\d{1,9}", cursor):
        raise Problem("validation-error", "the cursor is not one this API returned")
    return int(cursor[1:])
