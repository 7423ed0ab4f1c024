"""Schemathesis, in-process against the ASGI app, over the OpenAPI document: for every
operation, generated requests (authenticated, with a fresh Idempotency-Key) never get a 5xx,
and every answer conforms to the document (status code documented, content type, body schema,
headers). The world is seeded first, and the document's examples name the seeded objects, so
GETs and actions reach real invoices, contracts and engagements.

Bounded: a handful of examples per operation, no deadline, so the module stays well under a
minute.
"""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.http.harness import ROLE_KEYS
from tests.e2e.http.stage import UNLIMITED, fresh_world, unstarted_app
from tests.e2e.http.world import seed

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
BOUNDED = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
_keys = itertools.count(1)


def seeded_app() -> Litestar:
    asgi = unstarted_app()
    seed(fresh_world(asgi, UNLIMITED))
    return asgi


#: Loaded at import, so each operation is a test of its own (`[GET /invoices]`).
schema = schemathesis.openapi.from_asgi(
    "/schema/openapi.json",
    seeded_app(),
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}}),
)


def headers_for(who: str) -> dict[str, str]:
    return {"X-API-Key": ROLE_KEYS[who], "Idempotency-Key": f"st-{next(_keys)}"}


@BOUNDED
@schema.parametrize()
def test_every_operation_answers_finance_within_its_contract(case: schemathesis.Case) -> None:
    response = case.call(headers=headers_for("finance"))
    case.validate_response(response, checks=CHECKS)


@BOUNDED
@schema.include(method="GET").parametrize()
def test_every_read_answers_the_auditor_within_its_contract(case: schemathesis.Case) -> None:
    response = case.call(headers=headers_for("auditor"))
    case.validate_response(response, checks=CHECKS)
