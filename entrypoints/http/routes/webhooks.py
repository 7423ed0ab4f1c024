"""`POST /webhooks/{source}`: inbound messages from the CRM, CLM, PSA, ERP and billing
platform, authenticated by their Standard Webhooks signature instead of an API key.

The route reads the raw bytes (the signature covers them exactly) and hands them to the
framework-free intake (`entrypoints.http.webhook_intake`), which verifies, stores in the inbox and
processes. Answers: 200 processed or duplicate, 202 stored but waiting on the exception queue
(do not resend), 401 signature, 404 unknown source, 400 not a strict JSON envelope, 409 while
another delivery of the same message is being processed (resend later: `Retry-After`). The
mapping of each source's messages is in docs/webhooks.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, post
from litestar.openapi.spec import (
    Example,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from entrypoints.http.problems import Problem
from entrypoints.http.routes.common import PUBLIC, answer, documented, permission
from entrypoints.http.routes.declare import path_param
from entrypoints.http.runtime import context_of_anonymous, services_of
from entrypoints.http.webhook_intake import (
    MessageInProgressError,
    UnknownSourceError,
    WebhookVerificationError,
)

DATE_TIME = OpenAPIFormat.DATE_TIME
#: What a sender is told to wait while another delivery of its message is being processed.
RETRY_AFTER_SECONDS = 60

SourcePath = Annotated[
    str,
    path_param(
        "The sending system: crm, clm, psa, erp or billing.", "the PSA", "psa", max_length=40
    ),
]


class WebhookReceipt(msgspec.Struct):
    status: str
    source: str
    message_id: str
    state: str
    exception_id: str | None = None


_RECEIPT = {
    "status": "processed",
    "source": "psa",
    "message_id": "msg_2hVcWqJjB3Z",
    "state": "processed",
    "exception_id": None,
}

_EXAMPLE_BODY = {
    "type": "milestone.completed",
    "data": {
        "milestone_id": "M-1",
        "evidence": "signed acceptance form",
        "completed_on": "2026-03-20",
    },
}


@dataclass
class WebhookOperation(Operation):
    """The route reads its body raw, so Litestar cannot see it: describe it here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            description="The source's JSON envelope, verified as raw bytes before parsing.",
            required=True,
            content={
                "application/json": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["type", "data"],
                        properties={
                            "type": Schema(type=OpenAPIType.STRING, max_length=100),
                            "timestamp": Schema(type=OpenAPIType.STRING, format=DATE_TIME),
                            "data": Schema(type=OpenAPIType.OBJECT),
                        },
                        additional_properties=False,
                    ),
                    examples={
                        "psa-milestone": Example(summary="a PSA milestone", value=_EXAMPLE_BODY)
                    },
                )
            },
        )


@post(
    "/webhooks/{source:str}",
    operation_class=WebhookOperation,
    opt=permission(PUBLIC),
    tags=["webhooks"],
    summary="Receive a signed webhook (Standard Webhooks) from a neighbouring system",
    description=(
        "Headers `webhook-id`, `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 over "
        "`id.timestamp.body` with the source's secret; ±5 minutes). The message is stored "
        "before it is processed; a second delivery of the same id changes nothing. Payload "
        "mappings per source: docs/webhooks.md."
    ),
    responses={
        **answer(WebhookReceipt, _RECEIPT),
        202: answer(
            WebhookReceipt,
            {**_RECEIPT, "status": "failed", "state": "failed", "exception_id": "EXC-1"},
            status=202,
        )[202],
        **documented(
            "invalid-signature",
            "not-found",
            "malformed-json",
            "request-in-progress",
            "payload-too-large",
            public=True,
        ),
    },
    security=[],
    status_code=200,
)
async def receive_webhook(
    request: Request[Any, Any, Any],
    source: SourcePath,
) -> Response[WebhookReceipt]:
    services = services_of(request)
    intake = services.webhooks
    body = await request.body()  # the signature covers these exact bytes: parse nothing first
    if intake is None:
        raise Problem("not-found", "this server receives no webhooks")
    ctx = context_of_anonymous(request, f"webhook:{source[:40]}")
    try:
        outcome = await anyio.to_thread.run_sync(
            intake.receive, source, dict(request.headers), body, ctx
        )
    except UnknownSourceError as error:
        raise Problem("not-found", str(error)) from None
    except WebhookVerificationError as error:
        raise Problem("invalid-signature", f"the delivery is refused ({error.code})") from None
    except MessageInProgressError:
        raise Problem(
            "request-in-progress",
            "this message is stored and being processed right now; send it again later to "
            "learn how it ended",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    return Response(WebhookReceipt(**outcome.body()), status_code=outcome.http_status)


ROUTES = [receive_webhook]
