"""Authorization, generated from the route table: every route names a permission; every role
is refused (403 `forbidden`) exactly what it lacks and never what it holds; credentials that do
not verify are 401; a JWT works like an API key. Then object-level scoping over two customers
and two client viewers (lists and reads by id), and property-level protection of cost keys on
every GET response.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest

from entrypoints.http.app import PUBLIC
from entrypoints.http.problems import PROBLEM_MEDIA_TYPE
from entrypoints.http.runtime import Limits
from entrypoints.http.security import ALL_PERMISSIONS, COST_KEYS
from tests.e2e.http.answers import strings_and_keys
from tests.e2e.http.harness import JWT, ROLE_KEYS, Api, running_api
from tests.e2e.http.routing import (
    GUARDED,
    IDENTITY_NAMES,
    OPERATIONS,
    WRITE_METHODS,
    Operation,
    may,
    operations,
    problem_uri,
    required_query,
    token_for,
)
from tests.e2e.http.world import UNSCOPED_PARAMS, World, seed

_keys = itertools.count(1)
UNLIMITED = Limits(rate_limit=1_000_000)


@pytest.fixture(scope="module")
def shared_api() -> Iterator[Api]:
    """One app for the whole matrix: the calls use placeholder ids, so they share it."""
    with running_api(limits=UNLIMITED) as running:
        yield running


def send(api: Api, op: Operation, headers: dict[str, str], path: str | None = None) -> Any:
    """The operation with the given credential headers, an Idempotency-Key and `{}` as body."""
    target = path if path is not None else op.placeholder_path()
    if op.method in WRITE_METHODS:
        headers = {**headers, "Idempotency-Key": f"authz-{next(_keys)}"}
        return api.client.request(op.method, target, json={}, headers=headers)
    return api.client.request(op.method, target, headers=headers)


def problem_type(response: Any) -> str | None:
    if not response.headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE):
        return None
    return str(response.json().get("type"))


def is_forbidden(response: Any) -> bool:
    return response.status_code == 403 and problem_type(response) == problem_uri("forbidden")


def assert_allowed(response: Any, op: Operation, who: str) -> None:
    """Whatever else happens (400, 404, 409, 422 on placeholder ids), not a refusal of the
    caller and not a failure of the server."""
    where = f"{who} on {op.id}: {response.status_code} {response.text[:300]}"
    assert not is_forbidden(response), where
    assert response.status_code < 500, where
    if not op.is_public:
        assert response.status_code != 401, where


def assert_unauthenticated(response: Any, op: Operation) -> None:
    where = f"{op.id}: {response.status_code} {response.text[:300]}"
    assert response.status_code == 401, where
    assert problem_type(response) == problem_uri("unauthenticated"), where
    assert "Bearer" in response.headers.get("www-authenticate", ""), where


# -- the route table ----------------------------------------------------------------------


def test_every_route_names_a_known_permission() -> None:
    unnamed = [op.id for op in GUARDED if op.permission is None]
    assert unnamed == [], f"routes without opt['permission']: {unnamed}"
    unknown = [
        (op.id, op.permission)
        for op in GUARDED
        if op.permission != PUBLIC and op.permission not in ALL_PERMISSIONS
    ]
    assert unknown == [], f"routes naming a permission no role has: {unknown}"


def test_the_generated_cases_cover_the_running_apps_route_table(shared_api: Api) -> None:
    assert operations(shared_api.asgi) == OPERATIONS
    assert {op.id for op in GUARDED} >= {"GET /invoices", "GET /health"}


# -- every role against every operation ---------------------------------------------------


@pytest.mark.parametrize(
    ("op", "who"),
    [pytest.param(op, who, id=f"{who}-{op.id}") for op in GUARDED for who in IDENTITY_NAMES],
)
def test_a_role_is_refused_exactly_what_it_lacks(shared_api: Api, op: Operation, who: str) -> None:
    response = send(shared_api, op, {"X-API-Key": ROLE_KEYS[who]})
    if may(who, op.permission):
        assert_allowed(response, op, who)
    else:
        assert is_forbidden(response), f"{who} on {op.id}: {response.status_code}"
        assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
        assert response.json()["status"] == 403
        assert op.permission in response.json()["detail"]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id) for op in GUARDED])
def test_a_call_without_credentials_is_401_unless_the_route_is_public(
    shared_api: Api, op: Operation
) -> None:
    response = send(shared_api, op, {})
    if op.is_public:
        assert response.status_code < 500
        assert problem_type(response) != problem_uri("unauthenticated")
    else:
        assert_unauthenticated(response, op)


def _expired() -> dict[str, str]:
    stale = token_for("finance", now=int(time.time()) - 7200, ttl=3600)
    return {"Authorization": f"Bearer {stale}"}


def _wrongly_signed() -> dict[str, str]:
    claims = pyjwt.decode(
        token_for("finance"), JWT.secret, algorithms=["HS256"], audience=JWT.audience
    )
    forged = pyjwt.encode(claims, "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
    return {"Authorization": f"Bearer {forged}"}


def _wrong_audience() -> dict[str, str]:
    claims = pyjwt.decode(
        token_for("finance"), JWT.secret, algorithms=["HS256"], audience=JWT.audience
    )
    claims["aud"] = "some-other-api"
    return {"Authorization": f"Bearer {pyjwt.encode(claims, JWT.secret, algorithm='HS256')}"}


BAD_CREDENTIALS = {
    "unknown-api-key": lambda: {"X-API-Key": "key-that-nobody-was-given"},
    "expired-jwt": _expired,
    "wrongly-signed-jwt": _wrongly_signed,
    "jwt-for-another-audience": _wrong_audience,
    "not-a-jwt": lambda: {"Authorization": "Bearer not.a.token"},
}


@pytest.mark.parametrize(
    ("op", "kind"),
    [
        pytest.param(op, kind, id=f"{kind}-{op.id}")
        for op in GUARDED
        if not op.is_public
        for kind in BAD_CREDENTIALS
    ],
)
def test_a_credential_that_does_not_verify_is_401(
    shared_api: Api, op: Operation, kind: str
) -> None:
    response = send(shared_api, op, BAD_CREDENTIALS[kind]())
    assert_unauthenticated(response, op)
    assert "another-secret" not in response.text
    assert "key-that-nobody" not in response.text


def _jwt_cases() -> Iterator[Any]:
    for op in GUARDED:
        if op.is_public:
            continue
        holder = next((who for who in IDENTITY_NAMES if may(who, op.permission)), None)
        lacker = next((who for who in IDENTITY_NAMES if not may(who, op.permission)), None)
        for who in (holder, lacker):
            if who is not None:
                yield pytest.param(op, who, id=f"{who}-{op.id}")


@pytest.mark.parametrize(("op", "who"), list(_jwt_cases()))
def test_a_bearer_token_works_like_an_api_key(shared_api: Api, op: Operation, who: str) -> None:
    response = send(shared_api, op, {"Authorization": f"Bearer {token_for(who)}"})
    by_key = send(shared_api, op, {"X-API-Key": ROLE_KEYS[who]})
    if may(who, op.permission):
        assert_allowed(response, op, f"{who} (JWT)")
    else:
        assert is_forbidden(response)
    if op.method == "GET" or not may(who, op.permission):
        assert response.status_code == by_key.status_code


# -- object-level scoping: two customers, two client viewers ------------------------------

VIEWERS = {"client_viewer": "acme", "client_viewer_b": "globex"}
#: Path parameters that name one customer's object (values from `Tenant.by_param`).
SCOPED_PARAMS = frozenset(
    {
        "customer_id",
        "contract_id",
        "engagement_id",
        "obligation_id",
        "milestone_id",
        "entry_id",
        "time_entry_id",
        "item_id",
        "expense_id",
        "invoice_id",
        "payment_id",
        "credit_memo_id",
        "memo_id",
    }
)
GETS = [op for op in GUARDED if op.method == "GET"]


@pytest.fixture(scope="module")
def world_api() -> Iterator[tuple[Api, World]]:
    with running_api(limits=UNLIMITED) as running:
        yield running, seed(running.app)


def read(api: Api, op: Operation, world: World, who: str, customer: str, **query: Any) -> Any:
    """GET the operation as `who`, naming `customer`'s objects in path and required query."""
    values = world.values(customer)
    params = {**required_query(op, values), **query}
    return api.client.get(op.path(values), headers=api.headers(who), params=params)


def customer_ids(value: Any) -> set[str]:
    """Every value of a `customer_id` key anywhere in a JSON document."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "customer_id" and isinstance(v, str):
                found.add(v)
            found |= customer_ids(v)
    elif isinstance(value, list):
        for v in value:
            found |= customer_ids(v)
    return found


def test_every_get_path_parameter_is_classified_for_the_scoping_cases() -> None:
    known = SCOPED_PARAMS | UNSCOPED_PARAMS
    unknown = sorted({(op.id, name) for op in GETS for name in op.param_names if name not in known})
    assert unknown == [], (
        "add these path parameters to SCOPED_PARAMS (and world.Tenant.by_param) or to "
        f"world.UNSCOPED_PARAMS: {unknown}"
    )


def viewer_cases(ops: list[Operation]) -> list[Any]:
    """Each operation for each client viewer whose role may call it."""
    return [
        pytest.param(op, viewer, id=f"{viewer}-{op.id}")
        for op in ops
        for viewer in VIEWERS
        if may(viewer, op.permission)
    ]


LISTS = [op for op in GETS if op.is_list and not op.is_public]


@pytest.mark.parametrize(("op", "viewer"), viewer_cases(LISTS))
def test_a_client_viewer_never_sees_the_other_customers_objects_in_a_list(
    world_api: tuple[Api, World], op: Operation, viewer: str
) -> None:
    api, world = world_api
    own, other = world.of(VIEWERS[viewer]), world.other(VIEWERS[viewer])
    seen = read(api, op, world, viewer, own.customer_id, limit=200)
    everything = read(api, op, world, "auditor", own.customer_id, limit=200)
    assert seen.status_code == 200, seen.text
    assert everything.status_code == 200, everything.text
    seen_strings, _ = strings_and_keys(seen.json())
    all_strings, _ = strings_and_keys(everything.json())
    assert seen_strings.isdisjoint(other.ids), sorted(seen_strings & other.ids)
    assert customer_ids(seen.json()) <= {own.customer_id}
    if all_strings & (own.ids | other.ids):
        # a customer-bound list: the viewer sees its own customer's objects, all of them
        # but the draft invoice (a client viewer sees issued documents only)
        assert all_strings & other.ids, "the unscoped list shows only one customer"
        assert (all_strings & own.ids) - {own.draft_invoice} <= seen_strings
    else:
        assert seen.json() == everything.json()
    query = required_query(op, world.values(other.customer_id))
    if SCOPED_PARAMS.intersection(query):
        # filtering by the other customer's object shows nothing of it either
        probe = read(api, op, world, viewer, other.customer_id, limit=200)
        assert probe.status_code in (200, 404), probe.text
        assert strings_and_keys(probe.json())[0].isdisjoint(other.ids - {other.customer_id})


BY_ID = [
    op
    for op in GETS
    if op.params and not op.is_public and SCOPED_PARAMS.intersection(op.param_names)
]


@pytest.mark.parametrize(("op", "viewer"), viewer_cases(BY_ID))
def test_another_customers_object_is_404_for_a_client_viewer(
    world_api: tuple[Api, World], op: Operation, viewer: str
) -> None:
    api, world = world_api
    customer = VIEWERS[viewer]
    mine = read(api, op, world, viewer, customer)
    assert mine.status_code == 200, mine.text
    theirs = read(api, op, world, viewer, world.other(customer).customer_id)
    assert theirs.status_code == 404, theirs.text
    assert problem_type(theirs) == problem_uri("not-found")
    # indistinguishable from an id that does not exist at all
    query = required_query(op, world.values(customer))
    nowhere = api.client.get(op.placeholder_path(), headers=api.headers(viewer), params=query)
    assert (nowhere.status_code, problem_type(nowhere)) == (404, problem_uri("not-found"))


# -- property protection: cost keys only for rates:read_cost ------------------------------


def _property_cases() -> Iterator[Any]:
    for op in GETS:
        for who in IDENTITY_NAMES:
            if may(who, op.permission) and not may(who, "rates:read_cost"):
                yield pytest.param(op, who, id=f"{who}-{op.id}")


@pytest.mark.parametrize(("op", "who"), list(_property_cases()))
def test_no_cost_key_reaches_a_role_without_rates_read_cost(
    world_api: tuple[Api, World], op: Operation, who: str
) -> None:
    api, world = world_api
    customer = VIEWERS.get(who, "acme")
    response = read(api, op, world, who, customer)
    assert response.status_code == 200, response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    _strings, keys = strings_and_keys(response.json())
    assert keys.isdisjoint(COST_KEYS), sorted(keys & COST_KEYS)
    if may("finance", op.permission) and who not in VIEWERS:
        # what a cost reader gets, with keys left out (never nulled or changed)
        full = read(api, op, world, "finance", customer)
        assert within(response.json(), full.json())


def within(part: Any, whole: Any) -> bool:
    """`part` is `whole` with some object keys left out, and nothing else changed."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            k in whole and within(v, whole[k]) for k, v in part.items()
        )
    if isinstance(part, list):
        return (
            isinstance(whole, list)
            and len(part) == len(whole)
            and all(within(p, w) for p, w in zip(part, whole, strict=True))
        )
    return bool(part == whole)


def test_cost_keys_reach_the_roles_that_hold_rates_read_cost(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    showing = {}
    for op in GETS:
        if op.is_public or not may("finance", op.permission):
            continue
        response = read(api, op, world, "finance", "acme")
        if response.headers.get("content-type", "").startswith("application/json"):
            found = strings_and_keys(response.json())[1] & COST_KEYS
            if found:
                showing[op.id] = found
    assert showing, "no GET route shows a cost key even to finance: the checks above are vacuous"
