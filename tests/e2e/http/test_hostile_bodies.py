"""Every route that takes a JSON body, sent what a careless or hostile client sends: never a
5xx, always a problem document, and nothing in the database changes when the body is refused.

The bodies are the ones that broke the API from outside (issue 9: nesting 1,000 deep, duplicate
keys, a NUL byte, the wrong content type, an empty body, a non-object) and Hypothesis-made
ones. A generated body always carries a field no route declares, so every one of them must be
refused (bodies are strict), whatever else it holds. The app runs on a real SQLite file, and
the whole database is compared before and after each refused request.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sqlalchemy.database import Database
from entrypoints.http.security import ROLES, issue_token
from tests.e2e.http.harness import JWT, Api
from tests.e2e.http.routing import OPERATIONS, SPEC, Operation
from tests.e2e.http.sql_harness import running_sql_api, sqlite_template

__all__ = ["sqlite_template"]

PROBLEM = "application/problem+json"
JSON = "application/json"


def takes_json_body(op: Operation) -> bool:
    spec = SPEC["paths"].get(op.path_format, {}).get(op.method.lower(), {})
    return op.method in ("POST", "PUT", "PATCH") and "requestBody" in spec


BODY_ROUTES = [op for op in OPERATIONS if takes_json_body(op) and not op.is_schema]


@pytest.fixture(scope="module")
def sqlite_api(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, Path]]:
    path = tmp_path_factory.mktemp("hostile") / "throughline.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    try:
        with running_sql_api(database) as api:
            yield api, path
    finally:
        database.dispose()


def everyone() -> dict[str, str]:
    """A bearer token holding every role: refusals must come from the body, not the guard."""
    token = issue_token(JWT, "fuzz.everyone", tuple(ROLES), now=int(time.time()), ttl_seconds=3600)
    return {"Authorization": f"Bearer {token}"}


def database_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in sorted(tables):
            digest.update(table.encode())
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


_counter = iter(range(1, 10**9))


def send(api: Api, op: Operation, content: bytes, content_type: str | None) -> Any:
    headers = {**everyone(), "Idempotency-Key": f"hostile-{next(_counter)}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.request(op.method, op.placeholder_path(), content=content, headers=headers)


def assert_refused_without_a_trace(response: Any, before: str, path: Path, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    assert 400 <= response.status_code < 500, f"{what}: accepted with {response.status_code}"
    assert response.headers["content-type"].startswith(PROBLEM), what
    problem = response.json()
    assert {"type", "title", "status"} <= set(problem), what
    assert problem["status"] == response.status_code, what
    assert "Traceback" not in response.text, what
    assert "sqlalchemy" not in response.text.lower(), what
    assert database_digest(path) == before, f"{what}: the database changed"


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


#: (name, body, content type) that must be refused on every JSON route.
HOSTILE: list[tuple[str, bytes, str | None]] = [
    ("nested 1,000 deep", nested(1_000), "application/json"),
    ("duplicate keys", b'{"reason": "a", "reason": "b"}', "application/json"),
    ("NUL in a string", b'{"reason": "a\\u0000b"}', "application/json"),
    ("NUL in a key", b'{"rea\\u0000son": "a"}', "application/json"),
    ("text/plain", b'{"reason": "a"}', "text/plain"),
    ("image/png", b"\x89PNG\r\n\x1a\n", "image/png"),
    ("no content type", b'{"reason": "a"}', None),
    ("empty body", b"", "application/json"),
    ("not JSON", b"{reason: a", "application/json"),
    ("an array", b"[1, 2, 3]", "application/json"),
    ("a number", b"1e400", "application/json"),
    ("mass assignment", b'{"status": "paid", "cost_rate": "0"}', "application/json"),
    ("a 100,000-character string", json.dumps({"reason": "x" * 100_000}).encode(), JSON),
]


@pytest.mark.parametrize("op", BODY_ROUTES, ids=lambda op: op.id)
def test_every_json_route_refuses_hostile_bodies_and_changes_nothing(
    sqlite_api: tuple[Api, Path], op: Operation
) -> None:
    api, path = sqlite_api
    before = database_digest(path)
    for name, body, content_type in HOSTILE:
        response = send(api, op, body, content_type)
        assert_refused_without_a_trace(response, before, path, f"{op.id}: {name}")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
bodies = st.dictionaries(st.text(max_size=12), json_values, max_size=6).map(
    lambda body: {**body, "__no_route_declares_this__": True}
)


@pytest.mark.parametrize("op", BODY_ROUTES, ids=lambda op: op.id)
def test_generated_bodies_with_an_undeclared_field_are_refused_and_change_nothing(
    sqlite_api: tuple[Api, Path], op: Operation
) -> None:
    api, path = sqlite_api
    before = database_digest(path)

    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies)
    def refused(body: dict[str, Any]) -> None:
        response = send(api, op, json.dumps(body).encode(), "application/json")
        assert_refused_without_a_trace(response, before, path, f"{op.id}: {body!r:.200}")

    refused()


def test_the_suite_covers_the_routes_that_take_a_body() -> None:
    assert len(BODY_ROUTES) >= 30
    assert any(op.path_format == "/time-entries" for op in BODY_ROUTES)
    assert any(op.path_format.startswith("/webhooks/") for op in OPERATIONS)
