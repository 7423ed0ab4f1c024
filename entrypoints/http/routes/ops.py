"""Health, readiness and Prometheus metrics: open to the platform, no credential needed."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from prometheus_client import CONTENT_TYPE_LATEST

from entrypoints.http.routes.common import PUBLIC, answer, documented, permission
from entrypoints.http.runtime import ops_reads_of


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    database: str


@get(
    "/health",
    opt=permission(PUBLIC),
    tags=["operations"],
    summary="Liveness: the process answers",
    responses={**answer(Health, {"status": "ok"}), **documented(public=True)},
    security=[],
)
async def health() -> Health:
    return Health("ok")


@get(
    "/ready",
    opt=permission(PUBLIC),
    tags=["operations"],
    summary="Readiness: the database answers",
    responses={
        **answer(Readiness, {"status": "ready", "database": "ok"}),
        503: ResponseSpec(
            data_container=Readiness,
            description="The database does not answer",
            generate_examples=False,
            examples=[Example(value={"status": "unavailable", "database": "unreachable"})],
        ),
        **documented(public=True),
    },
    security=[],
    sync_to_thread=True,
)
def ready(request: Request[Any, Any, Any]) -> Response[Readiness]:
    try:
        ops_reads_of(request).operations.ping()
    except Exception:
        return Response(Readiness("unavailable", "unreachable"), status_code=503)
    return Response(Readiness("ready", "ok"))


@get(
    "/metrics",
    opt=permission(PUBLIC),
    tags=["operations"],
    summary="Prometheus metrics (text exposition format)",
    media_type=CONTENT_TYPE_LATEST,
    responses={
        **answer(
            str,
            "# TYPE throughline_http_requests_total counter\n",
            media_type=CONTENT_TYPE_LATEST,
        ),
        **documented(public=True),
    },
    security=[],
    sync_to_thread=True,
)
def metrics(request: Request[Any, Any, Any]) -> Response[str]:
    # every worker's request counts, and the operations gauges read from the database now
    exposition = request.app.state["metrics"].exposition()
    return Response(exposition.decode(), media_type=CONTENT_TYPE_LATEST)


ROUTES = [health, ready, metrics]
