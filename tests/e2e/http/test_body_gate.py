"""The request-body gate (ADR 0023), on every route that takes a JSON body, generated from the
route table: a body that is not JSON by its content type (415), empty, nested 1,000 deep,
with a repeated key, a NUL or another control character in any string, or a string over the
limit is refused with a problem that points at the field, before anything is stored (no
commit, no Idempotency-Key kept: a corrected retry with the same key works). Repeated query
parameters are refused. The OpenAPI document says what the gate and the structs enforce.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

from adapters.webhooks import fields
from application.strict_json import MAX_DEPTH, MAX_KEY_LENGTH, MAX_TEXT_LENGTH
from entrypoints.http.problems import REGISTRY
from entrypoints.http.routes import ROUTERS
from entrypoints.http.routes.common import Text
from tests.e2e.http.harness import ROLE_KEYS, Api
from tests.e2e.http.routing import (
    GUARDED,
    SPEC,
    Operation,
    body_example,
    holder,
    required_query,
    resolve,
    spec_operation,
    with_replaced,
)
from tests.e2e.http.stage import Stage, staged, staged_api, staged_world_api
from tests.e2e.http.test_api_conventions import assert_problem, paid, pay, payment
from tests.e2e.http.world import World

__all__ = ["staged_api", "staged_world_api"]  # the fixtures `api` and `world_api`

_keys = itertools.count(1)

#: Every operation whose handler takes a JSON body (the webhook route reads its raw bytes
#: itself, to verify the signature first; tests/e2e/http/test_webhook_inbox_hostile.py).
BODY_OPS = [
    op
    for op in GUARDED
    if "requestBody" in spec_operation(op) and not op.path_format.startswith("/webhooks/")
]


def _ids(ops: list[Operation]) -> list[Any]:
    return [pytest.param(op, id=op.id) for op in ops]


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    with staged() as built:
        yield built


def send(api: Api, op: Operation, content: bytes, content_type: str | None, key: str) -> Any:
    headers = {"X-API-Key": ROLE_KEYS[holder(op)], "Idempotency-Key": key}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.request(op.method, op.placeholder_path(), content=content, headers=headers)


def refused(api: Api, op: Operation, content: bytes, slug: str, **kw: Any) -> dict[str, Any]:
    """The body is refused as `slug`, and nothing changed: no commit, no key remembered."""
    commits = api.app.store.commits
    key = f"gate-{next(_keys)}"
    response = send(api, op, content, kw.get("content_type", "application/json"), key)
    problem = assert_problem(response, slug)
    assert problem["errors"], problem
    assert api.app.store.commits == commits
    assert not any(k == key for _principal, k in api.app.data.idempotency)
    return problem


def pointers(problem: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in problem["errors"]]


def example_bytes(op: Operation) -> bytes:
    return json.dumps(body_example(op)).encode()


def strings(value: Any, at: str = "") -> Iterator[str]:
    """JSON pointers of every string in a document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{at}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{at}/{index}")
    elif isinstance(value, str):
        yield at


STRING_CASES = [
    pytest.param(op, pointer, id=f"{op.id}{pointer}")
    for op in BODY_OPS
    for pointer in strings(body_example(op))
]


# -- content type ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", _ids(BODY_OPS))
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "image/png", None, "application/json; charset=latin-1", "application/xml"],
)
def test_a_body_not_declared_as_json_is_415_and_changes_nothing(
    api: Api, op: Operation, content_type: str | None
) -> None:
    problem = refused(
        api, op, example_bytes(op), "unsupported-media-type", content_type=content_type
    )
    assert pointers(problem) == ["/header/content-type"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_with_or_without_a_utf_8_charset_passes_the_gate(
    world_api: tuple[Api, World], content_type: str
) -> None:
    api, world = world_api
    response = api.client.post(
        f"/invoices/{world.acme.issued_invoice}/payments",
        content=json.dumps(payment()).encode(),
        headers={
            "X-API-Key": ROLE_KEYS["finance"],
            "Idempotency-Key": f"ct-{next(_keys)}",
            "Content-Type": content_type,
        },
    )
    assert response.status_code == 200, response.text


# -- empty, deep, repeated keys, not JSON ---------------------------------------------------


@pytest.mark.parametrize("op", _ids(BODY_OPS))
@pytest.mark.parametrize("content", [b"", b"  \n"])
def test_an_empty_body_is_400_naming_the_missing_body(
    api: Api, op: Operation, content: bytes
) -> None:
    problem = refused(api, op, content, "validation-error")
    assert pointers(problem) == [""]
    assert "body is missing" in problem["detail"]
    assert "'data'" not in problem["detail"]


@pytest.mark.parametrize("op", _ids(BODY_OPS))
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_a_body_nested_deeper_than_the_limit_is_400(api: Api, op: Operation, depth: int) -> None:
    example = example_bytes(op)
    deep = b'{"nested": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b", " + example[1:]
    problem = refused(api, op, deep, "malformed-json")
    assert f"more than {MAX_DEPTH} levels" in problem["detail"]


def test_a_body_exactly_at_the_depth_limit_is_not_refused_for_its_depth(api: Api) -> None:
    (op,) = [o for o in BODY_OPS if o.path_format == "/invoices/{invoice_id}/discard"]
    nested = b'{"reason": "x", "extra": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    response = send(api, op, nested, "application/json", "depth-ok")
    problem = assert_problem(response, "validation-error")
    assert pointers(problem) == ["/extra"]  # an unknown field: the struct's refusal, not depth


@pytest.mark.parametrize("op", _ids(BODY_OPS))
def test_a_repeated_key_is_400_at_its_pointer(api: Api, op: Operation) -> None:
    example = body_example(op)
    assert example is not None
    first = next(iter(example))
    text = json.dumps(example)
    twice = "{" + json.dumps(first) + ": " + json.dumps(example[first]) + ", " + text[1:]
    problem = refused(api, op, twice.encode(), "malformed-json")
    assert pointers(problem) == [f"/{first}"]


def test_a_repeated_key_deep_in_a_batch_is_400_at_its_pointer(api: Api) -> None:
    (op,) = [o for o in BODY_OPS if o.id == "POST /time-entries"]
    text = json.dumps(body_example(op))
    twice = text.replace('"hours": ', '"hours": "1", "hours": ', 1)
    problem = refused(api, op, twice.encode(), "malformed-json")
    assert pointers(problem) == ["/entries/0/hours"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"reason": NaN}', b'{"reason": 1e999}', b"\xff\xfe{}", b'{"a": 1} {"b": 2}'],
)
def test_a_body_that_is_not_one_json_document_is_400(api: Api, content: bytes) -> None:
    (op,) = [o for o in BODY_OPS if o.path_format == "/invoices/{invoice_id}/discard"]
    refused(api, op, content, "malformed-json")


# -- control characters and lengths, at every string of every body --------------------------


@pytest.mark.parametrize(("op", "pointer"), STRING_CASES)
def test_a_nul_in_any_string_is_400_at_its_pointer(api: Api, op: Operation, pointer: str) -> None:
    body = with_replaced(body_example(op), pointer, "a\u0000b")
    problem = refused(api, op, json.dumps(body).encode(), "validation-error")
    assert {
        "pointer": pointer,
        "detail": "a control character (U+0000) is not accepted in text",
    } in (problem["errors"])


@pytest.mark.parametrize(
    ("character", "detail"),
    [
        ("\u0001", "a control character (U+0001) is not accepted in text"),
        ("\u001f", "a control character (U+001F) is not accepted in text"),
        ("\u007f", "a control character (U+007F) is not accepted in text"),
        ("\ud800", "a lone UTF-16 surrogate (U+D800) is not accepted in text"),
    ],
)
def test_other_control_characters_and_lone_surrogates_are_400(
    api: Api, character: str, detail: str
) -> None:
    (op,) = [o for o in BODY_OPS if o.id == "POST /time-entries"]
    body = with_replaced(body_example(op), "/entries/0/task_id", f"T{character}1")
    problem = refused(api, op, json.dumps(body).encode(), "validation-error")
    assert problem["errors"] == [{"pointer": "/entries/0/task_id", "detail": detail}]


def test_tab_line_feed_and_carriage_return_are_text(world_api: tuple[Api, World]) -> None:
    api, world = world_api
    response = api.post(
        f"/invoices/{world.acme.draft_invoice}/discard",
        {"reason": "wrong rate card:\r\n\t- March"},
        who="finance",
    )
    assert response.status_code == 200, response.text


def test_a_control_character_in_a_key_is_400_at_a_pointer_that_can_be_stored(api: Api) -> None:
    (op,) = [o for o in BODY_OPS if o.path_format == "/invoices/{invoice_id}/discard"]
    problem = refused(api, op, b'{"reason": "x", "a\\u0000b": 1}', "validation-error")
    assert problem["errors"] == [
        {"pointer": "/a\\u0000b", "detail": "a control character (U+0000) is not accepted in a key"}
    ]


@pytest.mark.parametrize(("op", "pointer"), STRING_CASES)
def test_a_string_over_the_limit_is_400_at_its_pointer(
    api: Api, op: Operation, pointer: str
) -> None:
    body = with_replaced(body_example(op), pointer, "x" * (MAX_TEXT_LENGTH + 1))
    problem = refused(api, op, json.dumps(body).encode(), "validation-error")
    assert pointer in pointers(problem)


def test_a_key_over_the_limit_is_400(api: Api) -> None:
    (op,) = [o for o in BODY_OPS if o.path_format == "/invoices/{invoice_id}/discard"]
    long_key = "k" * (MAX_KEY_LENGTH + 1)
    problem = refused(
        api, op, json.dumps({"reason": "x", long_key: 1}).encode(), "validation-error"
    )
    assert problem["errors"][0]["detail"] == f"a key is at most {MAX_KEY_LENGTH} characters"


def test_a_refusal_names_at_most_fifty_fields(api: Api) -> None:
    (op,) = [o for o in BODY_OPS if o.id == "POST /time-entries"]
    example = body_example(op)
    assert example is not None
    entry = with_replaced(example, "/entries/0/task_id", "T\u00001")["entries"][0]
    body = {**example, "entries": [{**entry, "entry_id": f"E-{n}"} for n in range(200)]}
    problem = refused(api, op, json.dumps(body).encode(), "validation-error")
    assert len(problem["errors"]) == 50
    assert "(and 49 more)" in problem["detail"]


# -- nothing stored: a corrected retry with the same key works -------------------------------


def test_a_refused_body_keeps_no_key_so_the_corrected_retry_with_it_works(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    audit = len(api.app.data.audit)
    hostile = pay(api, world, payment(payment_id="PAY-\u0000"), "fix-the-body")
    assert_problem(hostile, "validation-error")
    assert hostile.json()["errors"][0]["pointer"] == "/payment_id"
    assert api.app.data.idempotency == {}
    assert len(api.app.data.audit) == audit
    assert paid(api, world) == "100.00"

    corrected = pay(api, world, payment(), "fix-the-body")

    assert corrected.status_code == 200, corrected.text
    assert paid(api, world) == "350.00"


# -- refusals in words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("amount", "1e3", 'a decimal number written as a string, e.g. "7.5"'),
        ("amount", "12,50", 'a decimal number written as a string, e.g. "7.5"'),
        ("amount", "1234567890123456", "at most 15 digits before the point"),
        ("amount", 250, "expected a string, got a number: amounts, hours, quantities and rates"),
        ("amount", 250.5, 'are written as strings, e.g. "7.5"'),
        ("currency", "eur", "an ISO 4217 currency code in three capital letters, e.g. EUR"),
        ("payment_id", "PAY 9", "an id of 1 to 100 letters, digits and . _ : -"),
    ],
    ids=[
        "an exponent",
        "a decimal comma",
        "sixteen digits",
        "a JSON integer",
        "a JSON float",
        "a currency in lower case",
        "an id with a space",
    ],
)
def test_a_value_of_the_wrong_shape_is_refused_in_words_not_as_an_expression(
    world_api: tuple[Api, World], field: str, value: object, words: str
) -> None:
    api, world = world_api
    refused = pay(api, world, {**payment(), field: value}, "in-words")
    problem = assert_problem(refused, "validation-error")
    assert problem["errors"][0]["pointer"] == f"/{field}"
    assert words in problem["errors"][0]["detail"]
    assert "regex" not in problem["detail"]
    assert "`" not in problem["detail"]
    assert paid(api, world) == "100.00"


@pytest.mark.parametrize(
    ("query", "pointer", "words"),
    [
        ({"period": "2026-13"}, "/query/period", "expected a month written YYYY-MM, e.g. 2026-03"),
        ({"state": "opne"}, "/query/state", "expected one of: open, closed"),
        ({"limit": "ten"}, "/query/limit", "expected a whole number, e.g. 10"),
        ({"limit": "0"}, "/query/limit", "expected a whole number of at least 1"),
        ({"limit": "201"}, "/query/limit", "expected a whole number of at most 200"),
    ],
    ids=["a thirteenth month", "a misspelt state", "a limit in words", "no rows", "too many"],
)
def test_a_query_value_of_the_wrong_shape_is_refused_saying_what_it_takes(
    api: Api, query: dict[str, str], pointer: str, words: str
) -> None:
    path = "/reconciliation" if "period" in query else "/periods"
    response = api.client.get(path, params=query, headers=api.headers("finance"))
    problem = assert_problem(response, "validation-error")
    assert problem["errors"] == [{"pointer": pointer, "detail": words}]


# -- repeated query parameters --------------------------------------------------------------

LISTS = [op for op in GUARDED if op.method == "GET" and op.is_list]


@pytest.mark.parametrize("op", _ids(LISTS))
def test_a_repeated_query_parameter_is_400_at_its_pointer(api: Api, op: Operation) -> None:
    query = required_query(op, {})
    pairs = [*query.items(), ("limit", "1"), ("limit", "300")]
    response = api.client.get(op.path({}), params=pairs, headers=api.headers(holder(op)))
    problem = assert_problem(response, "validation-error")
    assert problem["errors"] == [
        {"pointer": "/query/limit", "detail": "given more than once; send it once"}
    ]


def test_no_query_parameter_of_the_api_takes_a_list() -> None:
    """So refusing every repeated parameter refuses no meaningful request."""
    for path in SPEC["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    schema = resolve(parameter.get("schema", {}))
                    kinds = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
                    assert all(k.get("type") != "array" for k in kinds), parameter


# -- the OpenAPI document -------------------------------------------------------------------


def _object_schemas(schema: dict[str, Any], seen: set[str]) -> Iterator[dict[str, Any]]:
    """Every object schema a request body reaches, following `$ref`s once."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
    schema = resolve(schema)
    if schema.get("type") == "object" and "properties" in schema:
        yield schema
    for child in schema.get("properties", {}).values():
        yield from _object_schemas(child, seen)
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            yield from _object_schemas(schema[key], seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for child in schema.get(key, []):
            yield from _object_schemas(child, seen)


@pytest.mark.parametrize("op", _ids([op for op in GUARDED if "requestBody" in spec_operation(op)]))
def test_every_published_request_schema_refuses_additional_properties(op: Operation) -> None:
    media = spec_operation(op)["requestBody"]["content"]["application/json"]
    found = list(_object_schemas(media["schema"], set()))
    assert found
    for schema in found:
        assert schema.get("additionalProperties") is False, (op.id, schema.get("title"))


@pytest.mark.parametrize("op", _ids(BODY_OPS))
def test_every_operation_with_a_body_documents_415_and_413(op: Operation) -> None:
    responses = spec_operation(op)["responses"]
    assert {"413", "415"} <= set(responses), op.id
    media = responses["415"]["content"]
    assert "application/problem+json" in media


# -- the limits agree with each other and with the guide ------------------------------------


def test_no_field_accepts_a_longer_string_than_the_gate() -> None:
    text_limit = get_args(Text)[1].max_length
    assert text_limit == MAX_TEXT_LENGTH
    assert fields.MAX_TEXT == MAX_TEXT_LENGTH  # webhook payload text
    assert fields.MAX_ID <= MAX_KEY_LENGTH
    declared = [
        s.get("maxLength")
        for name, s in SPEC["components"]["schemas"].items()
        for s in _strings_of(s)
    ]
    assert declared
    assert all(length is None or length <= MAX_TEXT_LENGTH for length in declared)
    assert ROUTERS  # the document above is the app's whole route table


def _strings_of(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in schema.get("properties", {}).values():
        for option in [child, *child.get("oneOf", []), *child.get("anyOf", [])]:
            if option.get("type") == "string":
                yield option


def test_the_api_guide_lists_every_limit_with_its_problem_type() -> None:
    guide = (Path(__file__).resolve().parents[3] / "docs" / "http-api.md").read_text("utf-8")
    limits = guide.split("## Limits", 1)[1].split("\n## ", 1)[0]
    for value in ("1 MiB", "1,000", "200", f"{MAX_DEPTH}", "2,000", f"{MAX_KEY_LENGTH}"):
        assert value in limits, value
    for slug in ("payload-too-large", "unsupported-media-type", "malformed-json"):
        assert REGISTRY[slug].uri.rsplit("/", 1)[-1] in limits, slug


def test_a_payment_in_another_currency_is_refused_naming_the_invoice_currency(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    refused = pay(api, world, {**payment(), "currency": "USD"}, "in-dollars")
    problem = assert_problem(refused, "business-rule")
    assert problem["detail"].endswith("is in EUR, not in USD")
    assert paid(api, world) == "100.00"


ENTRY = {
    "entry_id": "Q-1",
    "engagement_id": "E1",
    "obligation_id": "tm",
    "resource_id": "r-1",
    "role": "consultant",
    "work_date": "2026-03-02",
    "hours": "7.5",
}


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        ({"entries": [], "approved_by": "pm"}, "/entries", "expected at least 1 item"),
        (
            {"entries": [ENTRY] * 1001, "approved_by": "pm"},
            "/entries",
            "expected at most 1,000 items",
        ),
        ({"entries": [ENTRY], "approved_by": ""}, "/approved_by", "expected at least 1 character"),
        (
            {"entries": [{}], "approved_by": "pm"},
            "/entries/0/entry_id",
            "required: this field is missing",
        ),
        (
            {"entries": [ENTRY], "approved_by": "pm", "colour": "red"},
            "/colour",
            "not a field of this request: the OpenAPI schema lists the fields it takes",
        ),
    ],
    ids=["no entries", "too many entries", "no approver", "a missing field", "an unknown field"],
)
def test_a_batch_of_the_wrong_size_or_fields_is_refused_in_words(
    api: Api, body: dict[str, Any], pointer: str, words: str
) -> None:
    response = api.post("/time-entries", body, who="integration")
    problem = assert_problem(response, "validation-error")
    assert problem["errors"] == [{"pointer": pointer, "detail": words}]
    assert "`" not in problem["detail"]
