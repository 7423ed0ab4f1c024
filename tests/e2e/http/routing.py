"""The API's route table as data, so the cross-cutting suites generate one test per route.

`OPERATIONS` is read at import time from an app built by `create_app` over the same `ROUTERS`
as every running app (no services are needed to read a route table); a test checks it matches
the table of the app the `api` fixture runs.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import date
from typing import Any, cast

import attrs
import msgspec
from litestar import Litestar
from litestar.routes import HTTPRoute

from entrypoints.http.app import PUBLIC, create_app
from entrypoints.http.problems import PROBLEM_BASE
from entrypoints.http.runtime import Services
from entrypoints.http.security import ROLE_PERMISSIONS, issue_token
from tests.e2e.http.harness import IDENTITIES, JWT, authenticator

#: Methods Litestar answers by itself (not route handlers of ours).
GENERATED_METHODS = frozenset({"OPTIONS", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAM = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}")


@attrs.frozen
class Operation:
    """One (route, method) of the API."""

    method: str
    path_format: str  # /invoices/{invoice_id}
    params: tuple[tuple[str, type], ...]
    permission: str | None
    handler: str

    @property
    def id(self) -> str:
        return f"{self.method} {self.path_format}"

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.params)

    @property
    def is_public(self) -> bool:
        return self.permission == PUBLIC

    @property
    def is_schema(self) -> bool:
        return self.path_format == "/schema" or self.path_format.startswith("/schema/")

    @property
    def is_list(self) -> bool:
        """A GET of a collection: no path parameter at all."""
        return self.method == "GET" and not self.params

    def path(self, values: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: values[m.group("name")], self.path_format)

    def placeholder_path(self) -> str:
        """The path with a well-typed value for every parameter that names nothing stored."""
        return self.path({name: placeholder(kind) for name, kind in self.params})


def placeholder(kind: type) -> str:
    if kind is int:
        return "1"
    if kind is date:
        return "2026-03-01"
    if kind is uuid.UUID:
        return str(uuid.UUID(int=1))
    return "X-1"


def operations(app: Litestar) -> list[Operation]:
    """Every (route, method) the app answers with a handler of ours, sorted."""
    found: list[Operation] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        params = tuple((p.name, p.type) for p in route.path_parameters.values())
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in GENERATED_METHODS:
                    continue
                found.append(
                    Operation(
                        method,
                        route.path_format,
                        params,
                        handler.opt.get("permission"),
                        handler.handler_name,
                    )
                )
    return sorted(found, key=lambda op: (op.path_format, op.method))


def _route_table_app() -> Litestar:
    nothing = cast(Any, None)
    return create_app(Services(nothing, nothing, nothing), authenticator())


_APP = _route_table_app()
OPERATIONS: list[Operation] = operations(_APP)
#: The OpenAPI document of the same app.
SPEC: dict[str, Any] = _APP.openapi_schema.to_schema()
#: The operations a credential is checked on (the OpenAPI pages are open and name no permission).
GUARDED: list[Operation] = [op for op in OPERATIONS if not op.is_schema]

IDENTITY_NAMES = tuple(IDENTITIES)


def roles_of(identity: str) -> tuple[str, ...]:
    return IDENTITIES[identity][2]


def may(identity: str, permission: str | None) -> bool:
    if permission == PUBLIC:
        return True
    return any(permission in ROLE_PERMISSIONS[role] for role in roles_of(identity))


def problem_uri(slug: str) -> str:
    return PROBLEM_BASE + slug


def token_for(identity: str, *, now: int | None = None, ttl: int = 3600) -> str:
    """A bearer token with the identity's roles (and customer), signed with the harness secret."""
    _key, principal, roles, customer = IDENTITIES[identity]
    issued = int(time.time()) if now is None else now
    return issue_token(JWT, principal, roles, now=issued, ttl_seconds=ttl, customer_id=customer)


def required_query(op: Operation, values: dict[str, str]) -> dict[str, str]:
    """The operation's required query parameters: from `values` where it names one, else the
    first example the OpenAPI document gives."""
    found: dict[str, str] = {}
    for parameter in _spec_operation(op).get("parameters", []):
        if parameter.get("in") != "query" or not parameter.get("required"):
            continue
        name = parameter["name"]
        if name in values:
            found[name] = values[name]
            continue
        examples = parameter.get("examples") or {}
        if not examples:
            raise LookupError(f"{op.id}: no value or example for the query parameter {name!r}")
        found[name] = str(next(iter(examples.values()))["value"])
    return found


def _spec_operation(op: Operation) -> dict[str, Any]:
    item: dict[str, Any] = SPEC["paths"].get(op.path_format, {})
    spec_op: dict[str, Any] = item.get(op.method.lower(), {})
    return spec_op


def spec_operation(op: Operation) -> dict[str, Any]:
    return _spec_operation(op)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (or a single-element `allOf` of one) followed."""
    while True:
        if "$ref" in schema:
            schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif len(schema.get("allOf", ())) == 1 and "properties" not in schema:
            schema = schema["allOf"][0]
        else:
            return schema


def body_examples(op: Operation) -> list[dict[str, Any]] | None:
    """Every JSON request-body example the OpenAPI document gives, in its order (None: no
    body)."""
    media = spec_operation(op).get("requestBody", {}).get("content", {}).get("application/json")
    if media is None:
        return None
    for candidate in (media, media.get("schema", {}), resolve(media.get("schema", {}))):
        if "example" in candidate:
            return [dict(candidate["example"])]
        examples = candidate.get("examples")
        if isinstance(examples, list) and examples:
            return [dict(example) for example in examples]
        if isinstance(examples, dict) and examples:
            return [dict(example["value"]) for example in examples.values()]
    raise LookupError(f"{op.id}: the request body has no example")


def body_example(op: Operation) -> dict[str, Any] | None:
    """The first JSON request-body example the OpenAPI document gives (None: no body)."""
    examples = body_examples(op)
    return None if examples is None else examples[0]


def operation(op_id: str) -> Operation:
    """The operation `op_id` names (`"POST /customers/{customer_id}/master-data"`)."""
    (op,) = [op for op in OPERATIONS if op.id == op_id]
    return op


def body_schema(op: Operation) -> dict[str, Any]:
    media = spec_operation(op)["requestBody"]["content"]["application/json"]
    return resolve(media["schema"])


def holder(op: Operation) -> str:
    """The first identity that holds the operation's permission."""
    return next(who for who in IDENTITY_NAMES if may(who, op.permission))


def with_replaced(value: Any, pointer: str, replacement: Any) -> Any:
    """A copy of a JSON document with the item at the JSON pointer replaced."""
    copy = msgspec.json.decode(msgspec.json.encode(value))
    *parents, last = pointer.lstrip("/").split("/")
    target = copy
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[int(last) if isinstance(target, list) else last] = replacement
    return copy
