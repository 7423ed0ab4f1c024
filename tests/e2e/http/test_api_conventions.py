"""The HTTP conventions, end to end: Idempotency-Key semantics on a real money route, problem
details, correlation ids into audit and outbox, rate limiting, body size, pagination, strict
bodies and the OpenAPI document. The generic checks are generated from the route table and
the OpenAPI document, so they cover every route there is.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import attrs
import msgspec
import pytest
from litestar import Request, get, post

from application import idempotency
from application.context import RequestContext
from application.records import IdempotencyRecord, IdempotencyStatus
from entrypoints.http.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, REGISTRY
from entrypoints.http.routes.common import DecimalString, IdempotencyKey, permission
from entrypoints.http.runtime import Limits, execute
from tests.e2e.http import books_setup
from tests.e2e.http.harness import IDENTITIES, ROLE_KEYS, Api, running_api
from tests.e2e.http.routing import (
    GUARDED,
    SPEC,
    WRITE_METHODS,
    Operation,
    body_example,
    body_schema,
    holder,
    required_query,
    resolve,
    spec_operation,
    with_replaced,
)
from tests.e2e.http.stage import Stage, staged, staged_api, staged_world_api
from tests.e2e.http.world import World, seed

__all__ = ["staged_api", "staged_world_api"]  # the fixtures `api` and `world_api`

DECIMAL_PATTERN = get_args(DecimalString)[1].pattern
PRINCIPAL = {name: principal for name, (_key, principal, *_rest) in IDENTITIES.items()}
_keys = itertools.count(1)


def fresh_key() -> str:
    return f"conv-{next(_keys)}"


def assert_problem(response: Any, slug: str) -> dict[str, Any]:
    """An RFC 9457 problem of our registry, and nothing of the server's insides."""
    kind = REGISTRY[slug]
    assert response.status_code == kind.status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    assert body["type"] == kind.uri
    assert body["type"].startswith("https://")
    assert body["title"] == kind.title
    assert body["status"] == response.status_code
    assert body["detail"]
    assert body["correlation_id"] == response.headers["x-correlation-id"]
    assert_no_internals(response.text)
    return body


_INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|/work/|site-packages|\bSELECT\b|\bINSERT INTO\b|"
    r"\bUPDATE \w+ SET\b|sqlalchemy|sqlite3|psycopg|RuntimeError|KeyError|object at 0x"
)


def assert_no_internals(text: str) -> None:
    found = _INTERNALS.search(text)
    assert found is None, f"an error body shows {found.group(0)!r}: {text[:400]}"


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    with staged(extra_routes=[boom, boom_after_claim]) as built:
        yield built


@pytest.fixture(scope="module")
def read_only_world() -> Iterator[tuple[Api, World]]:
    """Two customers' worlds, shared by tests that only read."""
    with staged() as built:
        fresh = built.fresh()
        yield fresh, seed(fresh.app)


# -- Idempotency-Key on a real money route: POST /invoices/{id}/payments ------------------


def payment(payment_id: str = "PAY-9", amount: str = "250.00") -> dict[str, str]:
    return books_setup.payment(payment_id, amount, "2026-04-20")


def payments_path(world: World) -> str:
    return f"/invoices/{world.acme.issued_invoice}/payments"


def paid(api: Api, world: World) -> str:
    invoice = api.get(f"/invoices/{world.acme.issued_invoice}", who="finance").json()
    return str(invoice["paid"]["amount"])


def pay(api: Api, world: World, body: dict[str, Any], key: str | None, who: str = "finance") -> Any:
    headers = {"X-API-Key": ROLE_KEYS[who]}
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.client.post(payments_path(world), json=body, headers=headers)


def test_a_payment_without_an_idempotency_key_is_400_and_changes_nothing(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    before = len(api.app.data.audit)
    assert_problem(pay(api, world, payment(), None), "idempotency-key-missing")
    for bad in ("has space", "x" * 256, "tab\there"):
        assert_problem(pay(api, world, payment(), bad), "idempotency-key-malformed")
    assert paid(api, world) == "100.00"
    assert len(api.app.data.audit) == before
    assert api.app.data.idempotency == {}


def test_the_same_key_and_body_replays_the_stored_answer_without_a_second_payment(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    first = pay(api, world, payment(), "pay-once")
    assert first.status_code == 200, first.text
    assert first.json()["paid"] == {"amount": "350.00", "currency": "EUR"}
    assert "idempotent-replayed" not in first.headers
    audit, outbox = len(api.app.data.audit), len(api.app.data.outbox)
    again = pay(api, world, payment(), "pay-once")
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert paid(api, world) == "350.00"  # paid once
    assert (len(api.app.data.audit), len(api.app.data.outbox)) == (audit, outbox)
    # the same body with its keys in another order is the same request
    reordered = dict(reversed(list(payment().items())))
    assert pay(api, world, reordered, "pay-once").headers["idempotent-replayed"] == "true"


def test_the_same_key_with_another_body_is_422_and_changes_nothing(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    assert pay(api, world, payment(), "pay-k").status_code == 200
    reused = pay(api, world, payment(amount="1.00"), "pay-k")
    assert_problem(reused, "idempotency-key-reused")
    assert paid(api, world) == "350.00"


def test_keys_are_scoped_to_the_principal(world_api: tuple[Api, World]) -> None:
    api, world = world_api
    assert pay(api, world, payment("PAY-A"), "shared-key", who="finance").status_code == 200
    # another principal's identical key is another key: its (different) request runs
    other = pay(api, world, payment("PAY-B", "50.00"), "shared-key", who="finance2")
    assert other.status_code == 200, other.text
    assert "idempotent-replayed" not in other.headers
    assert paid(api, world) == "400.00"
    assert set(api.app.data.idempotency) == {
        (PRINCIPAL["finance"], "shared-key"),
        (PRINCIPAL["finance2"], "shared-key"),
    }


def claim(api: Api, world: World, key: str, body: dict[str, Any], age: timedelta) -> None:
    """Seed-then-act: the key as a request that started `age` ago and is still running."""
    fingerprint = idempotency.fingerprint("POST", payments_path(world), body)
    record = IdempotencyRecord(
        PRINCIPAL["finance"],
        key,
        fingerprint,
        IdempotencyStatus.IN_PROGRESS,
        api.app.clock.now() - age,
    )
    with api.app.bus.deps.uow(RequestContext("seed", "seed")) as uow:
        uow.idempotency.save(record)
        uow.commit()


def test_the_same_key_while_the_first_request_runs_is_409(world_api: tuple[Api, World]) -> None:
    api, world = world_api
    claim(api, world, "running", payment(), timedelta(minutes=4))
    assert_problem(pay(api, world, payment(), "running"), "request-in-progress")
    assert paid(api, world) == "100.00"
    # the claim of the running request is left alone
    stored = api.app.data.idempotency[(PRINCIPAL["finance"], "running")]
    assert stored.status is IdempotencyStatus.IN_PROGRESS


def test_a_stale_claim_of_a_crashed_request_is_taken_over(world_api: tuple[Api, World]) -> None:
    api, world = world_api
    claim(api, world, "crashed", payment(), idempotency.STALE_AFTER + timedelta(seconds=1))
    taken_over = pay(api, world, payment(), "crashed")
    assert taken_over.status_code == 200, taken_over.text
    assert paid(api, world) == "350.00"
    stored = api.app.data.idempotency[(PRINCIPAL["finance"], "crashed")]
    assert (stored.status, stored.response_status) == (IdempotencyStatus.COMPLETED, 200)
    assert pay(api, world, payment(), "crashed").headers["idempotent-replayed"] == "true"


def test_a_refused_request_is_not_stored_so_a_corrected_retry_with_the_key_works(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    audit = len(api.app.data.audit)
    too_much = pay(api, world, payment(amount="99999.00"), "fix-me")
    assert_problem(too_much, "business-rule")
    assert (PRINCIPAL["finance"], "fix-me") not in api.app.data.idempotency
    assert len(api.app.data.audit) == audit
    corrected = pay(api, world, payment(amount="250.00"), "fix-me")
    assert corrected.status_code == 200, corrected.text
    assert paid(api, world) == "350.00"


def test_keys_are_kept_24_hours_then_purged(world_api: tuple[Api, World]) -> None:
    api, world = world_api
    assert pay(api, world, payment(), "old-key").status_code == 200
    api.app.clock.advance(hours=23, minutes=59)
    with api.app.bus.deps.uow(RequestContext("purge-job", "purge")) as uow:
        assert idempotency.purge(uow, api.app.clock.now()) == 0
        uow.commit()
    assert pay(api, world, payment(), "old-key").headers["idempotent-replayed"] == "true"
    api.app.clock.advance(minutes=2)
    with api.app.bus.deps.uow(RequestContext("purge-job", "purge")) as uow:
        assert idempotency.purge(uow, api.app.clock.now()) == 1
        uow.commit()
    assert api.app.data.idempotency == {}
    # forgotten: the key may now name another request
    assert pay(api, world, payment("PAY-10", "1.00"), "old-key").status_code == 200


# -- every state-changing POST, generated -------------------------------------------------

#: POSTs that change nothing and so take no Idempotency-Key.
READ_ONLY_POSTS = frozenset({"POST /billing-runs/preview"})
POSTS = [op for op in GUARDED if op.method in WRITE_METHODS and not op.is_public]


def declares_idempotency_key(op: Operation) -> bool:
    return any(
        p["in"] == "header" and p["name"] == "Idempotency-Key" and p.get("required")
        for p in spec_operation(op).get("parameters", [])
    )


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in POSTS])
def test_every_state_changing_post_requires_an_idempotency_key(api: Api, op: Operation) -> None:
    if op.id in READ_ONLY_POSTS:
        assert not declares_idempotency_key(op)
        return
    assert declares_idempotency_key(op), f"{op.id} does not declare a required Idempotency-Key"
    headers = {"X-API-Key": ROLE_KEYS[holder(op)]}
    body = body_example(op)
    missing = api.client.request(op.method, op.placeholder_path(), json=body, headers=headers)
    assert_problem(missing, "idempotency-key-missing")
    malformed = api.client.request(
        op.method,
        op.placeholder_path(),
        json=body,
        headers={**headers, "Idempotency-Key": "two words"},
    )
    assert_problem(malformed, "idempotency-key-malformed")


BODIES = [op for op in POSTS if "requestBody" in spec_operation(op)]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in BODIES])
def test_request_bodies_refuse_unknown_fields_with_a_pointer(api: Api, op: Operation) -> None:
    body = body_example(op)
    assert body is not None
    for field in ("state", "created_by", "cost_rate", "mass_assigned"):
        if field in body:
            continue
        response = api.post(
            op.placeholder_path(), {**body, field: "x"}, who=holder(op), method=op.method
        )
        problem = assert_problem(response, "validation-error")
        assert {"pointer": f"/{field}"} in [{"pointer": e["pointer"]} for e in problem["errors"]]


def decimal_pointers(schema: dict[str, Any], value: Any, at: str = "") -> Iterator[str]:
    """JSON pointers of the decimal-string fields present in `value` (per `schema`)."""
    schema = resolve(schema)
    if isinstance(value, dict):
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            field = schema.get("properties", {}).get(
                name, extra if isinstance(extra, dict) else None
            )
            if field is not None:
                yield from decimal_pointers(field, item, f"{at}/{name}")
    elif isinstance(value, list) and value:
        yield from decimal_pointers(schema.get("items", {}), value[0], f"{at}/0")
    elif isinstance(value, str):
        options = [schema, *(resolve(s) for s in schema.get("oneOf", schema.get("anyOf", [])))]
        if any(s.get("pattern") == DECIMAL_PATTERN for s in options):
            yield at


AMOUNT_CASES = [
    pytest.param(op, pointer, id=f"{op.id}{pointer}")
    for op in BODIES
    for pointer in decimal_pointers(body_schema(op), body_example(op))
]


@pytest.mark.parametrize(("op", "pointer"), AMOUNT_CASES)
def test_a_decimal_sent_as_a_json_number_is_refused(api: Api, op: Operation, pointer: str) -> None:
    body = with_replaced(body_example(op), pointer, 1250.5)
    response = api.post(op.placeholder_path(), body, who=holder(op), method=op.method)
    problem = assert_problem(response, "validation-error")
    assert pointer in [e["pointer"] for e in problem["errors"]], problem


def required_queries(op: Operation) -> list[str]:
    return [
        p["name"]
        for p in spec_operation(op).get("parameters", [])
        if p["in"] == "query" and p.get("required")
    ]


@pytest.mark.parametrize(
    ("op", "name"),
    [
        pytest.param(op, name, id=f"{op.id}?{name}")
        for op in GUARDED
        if op.method == "GET"
        for name in required_queries(op)
    ],
)
def test_a_missing_query_parameter_is_400_with_its_pointer(
    read_only_world: tuple[Api, World], op: Operation, name: str
) -> None:
    api, world = read_only_world
    values = world.values("acme")
    query = {k: v for k, v in required_query(op, values).items() if k != name}
    response = api.client.get(op.path(values), headers=api.headers(holder(op)), params=query)
    problem = assert_problem(response, "validation-error")
    assert [e["pointer"] for e in problem["errors"]] == [f"/query/{name}"]


def test_the_amount_cases_include_the_payment_amount() -> None:
    assert "/amount" in [p.values[1] for p in AMOUNT_CASES if p.values[0].id.endswith("payments")]


# -- problem details ----------------------------------------------------------------------


@get("/test/boom", opt=permission("invoices:read"), include_in_schema=False)
async def boom() -> None:
    raise RuntimeError("SELECT secret FROM x WHERE password = 'hunter2'")


@post(
    "/test/boom-after-claim",
    opt=permission("payments:write"),
    include_in_schema=False,
    sync_to_thread=True,
)
def boom_after_claim(request: Request[Any, Any, Any], idempotency_key: IdempotencyKey) -> Any:
    def run(ctx: RequestContext) -> tuple[int, object]:
        raise RuntimeError("INSERT INTO payments failed at /work/main/adapters/sql.py line 3")

    return execute(request, None, run)


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def http_log() -> Iterator[Kept]:
    """What the API logs (attached to its logger: Litestar reconfigures the root logger)."""
    kept, logger = Kept(), logging.getLogger("throughline.http")
    logger.addHandler(kept)
    yield kept
    logger.removeHandler(kept)


def test_an_internal_error_is_a_problem_without_the_servers_insides(
    api: Api, http_log: Kept
) -> None:
    response = api.get("/test/boom", who="finance")
    body = assert_problem(response, "internal-error")
    assert "secret" not in response.text
    assert "hunter2" not in response.text
    assert set(body) <= {"type", "title", "status", "detail", "instance", "correlation_id"}
    # the log keeps the trace, under the correlation id the client can quote
    (record,) = http_log.records
    assert body["correlation_id"] in record.getMessage()
    assert record.exc_info is not None
    assert "SELECT secret" in str(record.exc_info[1])
    # a failure after the key was claimed releases it: a retry runs again
    first = api.post("/test/boom-after-claim", None, who="finance", key="boom-1")
    assert_problem(first, "internal-error")
    assert "payments" not in first.text
    assert api.app.data.idempotency == {}
    assert_problem(
        api.post("/test/boom-after-claim", None, who="finance", key="boom-1"),
        "internal-error",
    )


def test_problems_of_every_kind_the_api_answers_follow_rfc_9457(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    invoice = world.acme.issued_invoice
    cases = {
        "unauthenticated": api.get("/invoices", who=None),
        "forbidden": api.get("/audit/verify", who="finance"),
        "not-found": api.get("/invoices/INV-999999", who="finance"),
        "method-not-allowed": api.client.delete(
            f"/invoices/{invoice}", headers=api.headers("finance")
        ),
        "validation-error": api.get("/invoices", who="finance", limit=0),
        "malformed-json": api.client.post(
            payments_path(world),
            content=b'{"amount": ',
            headers={**api.headers("finance", fresh_key()), "content-type": "application/json"},
        ),
        "invalid-state": api.post(f"/invoices/{invoice}/approve", None, who="finance_approver"),
        "business-rule": pay(api, world, payment(amount="99999.00"), fresh_key()),
        "idempotency-key-missing": pay(api, world, payment(), None),
        "idempotency-key-malformed": pay(api, world, payment(), "a b"),
    }
    for slug, response in cases.items():
        assert_problem(response, slug)
    # not-found for a route that does not exist is the same problem type
    assert_problem(api.get("/no/such/route", who="finance"), "not-found")


def test_every_registered_problem_type_is_an_absolute_uri_with_its_own_status() -> None:
    for slug, kind in REGISTRY.items():
        assert kind.uri == PROBLEM_BASE + slug
        assert re.fullmatch(r"https://[a-z.]+/problems/[a-z-]+", kind.uri)
        assert 400 <= kind.status < 600
    titles = [kind.title for kind in REGISTRY.values()]
    assert len(set(titles)) == len(titles)


# -- correlation ids ----------------------------------------------------------------------


def test_a_given_correlation_id_is_echoed(api: Api) -> None:
    response = api.client.get(
        "/invoices", headers={**api.headers("finance"), "X-Correlation-ID": "order-42.retry:1"}
    )
    assert response.headers["x-correlation-id"] == "order-42.retry:1"
    problem = api.client.get(
        "/invoices/nope", headers={**api.headers("finance"), "X-Correlation-ID": "order-43"}
    )
    assert problem.json()["correlation_id"] == "order-43"


def test_the_trace_id_of_a_traceparent_is_the_correlation_id(api: Api) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = api.client.get(
        "/invoices", headers={**api.headers("finance"), "traceparent": parent}
    )
    assert response.headers["x-correlation-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_correlation_id_is_generated_when_absent_or_invalid(api: Api) -> None:
    generated = {api.get("/invoices", who="finance").headers["x-correlation-id"] for _ in range(3)}
    assert len(generated) == 3
    # a random (version 4, RFC 4122 variant) UUID's 32 hex digits
    assert all(re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", c) for c in generated)
    for invalid in ("has spaces", "x" * 200, "-leading-dash", "semi;colon"):
        response = api.client.get(
            "/invoices", headers={**api.headers("finance"), "X-Correlation-ID": invalid}
        )
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-correlation-id"])
    invalid_parent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
    response = api.client.get("/health", headers={"traceparent": invalid_parent})
    assert response.headers["x-correlation-id"] != "0" * 32


def test_the_correlation_id_reaches_the_audit_record_and_the_outbox_event(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    audit, outbox = len(api.app.data.audit), len(api.app.data.outbox)
    response = api.client.post(
        payments_path(world),
        json=payment(),
        headers={**api.headers("finance", fresh_key()), "X-Correlation-ID": "corr-pay-77"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-correlation-id"] == "corr-pay-77"
    new_audit = api.app.data.audit[audit:]
    new_events = api.app.data.outbox[outbox:]
    assert new_audit
    assert new_events
    assert {r.correlation_id for r in new_audit} == {"corr-pay-77"}
    assert {r.actor for r in new_audit} >= {PRINCIPAL["finance"]}
    assert {e.correlation_id for e in new_events} == {"corr-pay-77"}


# -- rate limiting ------------------------------------------------------------------------


def test_the_fourth_request_in_a_window_is_429_per_client() -> None:
    now = [1_000.0]
    with running_api(limits=Limits(rate_limit=3), rate_clock=lambda: now[0]) as api:
        answers = [api.get("/invoices", who="auditor") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
        assert {a.headers["ratelimit-limit"] for a in answers} == {"3"}
        refused = api.get("/invoices", who="auditor")
        assert_problem(refused, "rate-limited")
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"] == "20"
        assert refused.headers["ratelimit-remaining"] == "0"
        # a POST is counted and refused the same way, before it runs
        assert_problem(api.post("/invoices/X/approve", None, who="auditor"), "rate-limited")
        # another client is not limited by this one
        assert api.get("/invoices", who="finance").status_code == 200
        # nor is the platform's health probe
        assert all(api.get("/health", who=None).status_code == 200 for _ in range(5))
        now[0] += 20  # the next window
        again = api.get("/invoices", who="auditor")
        assert again.status_code == 200
        assert again.headers["ratelimit-remaining"] == "2"


# -- metrics ------------------------------------------------------------------------------


def counted(api: Api, labels: str) -> float:
    """The request counter for `labels` (0 when it has not been counted yet)."""
    text = api.client.get("/metrics").text
    found = re.search(
        r"^throughline_http_requests_total\{" + re.escape(labels) + r"\} (\S+)$", text, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_metrics_count_each_answer_by_route_template_and_its_real_status(api: Api) -> None:
    refused = 'method="GET",route="/invoices",status="401"'
    missing = 'method="GET",route="/invoices/{invoice_id:str}",status="404"'
    failed = 'method="GET",route="/invoices",status="500"'
    before = {labels: counted(api, labels) for labels in (refused, missing, failed)}
    api.get("/invoices", who=None)  # refused by the authentication middleware
    api.get("/invoices/INV-404", who="finance")
    api.get("/invoices/INV-405", who="finance")
    after = {labels: counted(api, labels) for labels in (refused, missing, failed)}
    assert after[refused] - before[refused] == 1
    assert after[missing] - before[missing] == 2
    assert after[failed] == before[failed]
    assert "INV-404" not in api.client.get("/metrics").text  # never the concrete path


# -- body size ----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(world_api: tuple[Api, World]) -> None:
    api, world = world_api
    huge = payment() | {"payment_id": "P" * (Limits().max_body_bytes + 1)}
    assert_problem(pay(api, world, huge, fresh_key()), "payload-too-large")
    assert paid(api, world) == "100.00"
    with running_api(limits=Limits(max_body_bytes=512)) as small:
        body = {"reason": "r" * 600}
        response = small.post("/invoices/X-1/discard", body, who="finance")
        assert_problem(response, "payload-too-large")


# -- pagination ---------------------------------------------------------------------------


def has_query(op: Operation, name: str) -> bool:
    return any(
        p["in"] == "query" and p["name"] == name for p in spec_operation(op).get("parameters", [])
    )


@attrs.frozen
class Listing:
    """One list as its holder asks for it, over acme's objects, with the query it requires."""

    api: Api
    op: Operation
    values: dict[str, str]
    query: dict[str, str]

    @classmethod
    def of(cls, read_only_world: tuple[Api, World], op: Operation) -> Listing:
        api, world = read_only_world
        values = world.values("acme")
        return cls(api, op, values, required_query(op, values))

    def get(self, **params: object) -> Any:
        """The list asked with its required query and `params` on top."""
        headers = self.api.headers(holder(self.op))
        return self.api.client.get(
            self.op.path(self.values), headers=headers, params={**self.query, **params}
        )

    def refused(self, **params: object) -> tuple[list[str], str]:
        """The list asked with `params` it must refuse: the 400's pointers and its detail."""
        problem = assert_problem(self.get(**params), "validation-error")
        return [e["pointer"] for e in problem["errors"]], problem["detail"]

    def send(self, **params: object) -> Any:
        """The operation sent as its holder would, whatever its method (its example body and an
        Idempotency-Key), to a placeholder path: enough for what is refused before it runs."""
        headers = self.api.headers(holder(self.op), key=f"send-{self.op.id}")
        return self.api.client.request(
            self.op.method,
            self.op.placeholder_path(),
            headers=headers,
            params={**self.query, **params},
            json=body_example(self.op),
        )

    def documented(self, name: str) -> dict[str, Any]:
        """What the OpenAPI document says of the query parameter `name`."""
        parameter: dict[str, Any] = next(
            p for p in spec_operation(self.op)["parameters"] if p["name"] == name
        )
        return parameter


@pytest.fixture
def listing(read_only_world: tuple[Api, World], op: Operation) -> Listing:
    """The operation `op` on the read-only world, asked as its holder with acme's values."""
    return Listing.of(read_only_world, op)


PAGED = [op for op in GUARDED if op.method == "GET" and has_query(op, "limit")]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in PAGED])
def test_a_page_over_the_documented_maximum_is_400(listing: Listing) -> None:
    documented = listing.documented("limit")
    assert documented["schema"].get("maximum") == 200 or "200" in documented.get("description", "")
    assert "/query/limit" in listing.refused(limit=201)[0]
    at_max = listing.get(limit=200)
    assert at_max.status_code == 200, at_max.text
    assert listing.refused(cursor="zzz")[0] == ["/query/cursor"]


STATE_FILTERED = [op for op in GUARDED if op.method == "GET" and has_query(op, "state")]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in STATE_FILTERED])
def test_a_list_filtered_by_a_state_it_does_not_know_is_400_naming_the_state_parameter(
    listing: Listing,
) -> None:
    documented = listing.documented("state")
    assert documented["schema"].get("pattern"), "the states a list knows are documented"
    at, detail = listing.refused(state="issud")
    assert (at, detail.endswith("at /query/state")) == (["/query/state"], True)


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in GUARDED])
def test_a_query_parameter_the_operation_does_not_document_is_400_naming_it(
    listing: Listing, op: Operation
) -> None:
    """A misspelt filter (`?custmer_id=`) must not answer the unfiltered list as if filtered,
    nor a write run as if a parameter it ignores (`?dry_run=true`) had been heeded."""
    response = listing.send(custmer_id="acme")
    problem = assert_problem(response, "validation-error")
    assert [e["pointer"] for e in problem["errors"]] == ["/query/custmer_id"]
    documented = sorted(
        p["name"] for p in spec_operation(op).get("parameters", []) if p["in"] == "query"
    )
    offered = f"it takes: {', '.join(documented)}" if documented else "it takes none"
    assert problem["errors"][0]["detail"].endswith(offered)


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in PAGED])
def test_cursor_paging_walks_every_item_exactly_once(listing: Listing) -> None:
    everything = listing.get(limit=200)
    expected = everything.json()["items"]
    assert everything.json()["next_cursor"] is None
    walked: list[Any] = []
    cursor: str | None = None
    for _ in range(len(expected) + 1):
        page = listing.get(limit=1, **({"cursor": cursor} if cursor else {})).json()
        walked.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None
    assert walked == expected
    encoded = [msgspec.json.encode(item) for item in walked]
    assert len(set(encoded)) == len(encoded)


def test_some_paged_list_has_several_items_to_walk(
    read_only_world: tuple[Api, World],
) -> None:
    api, _world = read_only_world
    assert len(api.get("/invoices", who="finance", limit=200).json()["items"]) == 4


# -- the OpenAPI document -----------------------------------------------------------------


def test_the_openapi_document_is_3_1_with_an_example_on_every_operation(api: Api) -> None:
    document = api.client.get("/schema/openapi.json")
    assert document.status_code == 200
    spec = document.json()
    assert spec["openapi"].startswith("3.1")
    without = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if not has_example(operation)
    ]
    assert without == [], f"operations without an example: {without}"
    assert len([o for item in spec["paths"].values() for o in item]) == len(GUARDED)


def _examples_in(container: dict[str, Any]) -> bool:
    schema = container.get("schema", {})
    return bool(
        container.get("example") is not None
        or container.get("examples")
        or schema.get("example") is not None
        or schema.get("examples")
    )


def has_example(operation: dict[str, Any]) -> bool:
    """A request body, parameter or success-response example (a problem example is not one)."""
    body = operation.get("requestBody", {}).get("content", {}).values()
    parameters = operation.get("parameters", [])
    successes = [
        media
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
        for kind, media in response.get("content", {}).items()
        if kind != PROBLEM_MEDIA_TYPE
    ]
    return any(_examples_in(m) for m in [*body, *parameters, *successes])


def test_the_route_table_and_the_openapi_document_agree() -> None:
    documented = {
        f"{method.upper()} {path}" for path, item in SPEC["paths"].items() for method in item
    }
    assert documented == {op.id for op in GUARDED}


def test_every_problem_type_is_listed_in_the_api_guide() -> None:
    guide = (Path(__file__).parents[3] / "docs" / "http-api.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(https://[^`]+)` \| (\d{3}) \| (.+?) \|$", guide, re.MULTILINE))
    missing = [
        slug
        for slug, kind in REGISTRY.items()
        if (kind.uri, str(kind.status), kind.title) not in rows
    ]
    assert missing == [], f"docs/http-api.md does not list {missing}"
