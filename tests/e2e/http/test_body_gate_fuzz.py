"""Hypothesis-generated hostile requests: schemathesis in negative mode (bodies, parameters and
headers that break the published schema: wrong types, missing and extra fields, strings out of
their patterns) against every state-changing operation of the seeded app, in-process. Whatever
it sends, the answer is never a 5xx, and a refusal is one of our problems.

Bounded like tests/e2e/http/test_openapi_schemathesis.py: a handful of examples per operation.
"""

from __future__ import annotations

import itertools

import schemathesis
from schemathesis.checks import not_a_server_error

from entrypoints.http.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from tests.e2e.http.harness import ROLE_KEYS
from tests.e2e.http.test_openapi_schemathesis import BOUNDED, seeded_app

_keys = itertools.count(1)

schema = schemathesis.openapi.from_asgi(
    "/schema/openapi.json",
    seeded_app(),
    config=schemathesis.Config.from_dict(
        {"phases": {"coverage": {"enabled": False}}, "generation": {"mode": "negative"}}
    ),
)


@BOUNDED
@schema.include(method="POST").parametrize()
def test_a_request_that_breaks_the_schema_is_never_a_server_error(
    case: schemathesis.Case,
) -> None:
    headers = {"X-API-Key": ROLE_KEYS["finance"], "Idempotency-Key": f"neg-{next(_keys)}"}
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        (content_type,) = response.headers["content-type"]
        assert content_type.startswith(PROBLEM_MEDIA_TYPE)
        assert response.json()["type"].startswith(PROBLEM_BASE)
