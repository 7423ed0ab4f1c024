"""The request-body gate: one check in front of every route that takes a JSON body (ADR 0023).

It is the app's `before_request` hook, so it runs after authentication and the permission
guard (a caller without the permission learns nothing about bodies) and before Litestar
decodes the body into the route's struct, the Idempotency-Key is claimed or anything is
stored: a refusal changes nothing, and a corrected retry with the same key works. In order:

1. a query parameter given twice (`?limit=1&limit=2`) is 400 at `/query/<name>` (no
   parameter of this API takes a list, so a repeat is ambiguous, whichever copy would win);
   so is one the operation does not take (`?custmer_id=`): ignoring it would answer the
   whole list as if it had been filtered (`declare_query_names` notes, once per app, what
   each operation takes: the parameters its OpenAPI operation lists);
2. on a route whose handler takes a body (`data`): the `Content-Type` must be
   `application/json`, with `charset=utf-8` or no charset; anything else, or none, is 415
   at `/header/content-type`;
3. the body is read once, at most `Limits.max_body_bytes` (413, Litestar's own check);
4. an empty body (or only whitespace) is 400 naming the missing body (pointer `""`);
5. the bytes are read by `application.strict_json`, as webhooks are: UTF-8, one JSON
   document, no repeated key, no NaN/Infinity, at most 32 levels deep (400
   `malformed-json`); no control character but tab, LF and CR in a string (NUL included),
   none in a key, no lone surrogate, strings at most 2,000 characters and keys 200 (400
   `validation-error`); every problem with its JSON pointer.

The document the gate parsed is handed to Litestar as the request's decoded JSON, so the
body is parsed once: Litestar converts that document into the route's struct (types,
patterns, per-field lengths, unknown fields) as it would have its own. For a body type that
allows it, step 5 and that conversion are one pass from the bytes into the struct when it can
be shown that step 5 would refuse nothing (`typed_body.py`); Litestar takes the struct as it
is. Otherwise, and for every body that would be refused, the two passes above.

Also here: the OpenAPI side of the same rules. Request structs refuse unknown fields, so their
published schemas say `additionalProperties: false` (`StrictStructSchemaPlugin`), and every
operation that takes a body documents its 415 and 413 (`document_body_refusals`).
"""

from __future__ import annotations

import inspect
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar, Request
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.openapi.spec import Schema
from litestar.typing import FieldDefinition
from litestar.utils.scope.state import ScopeState

from application.strict_json import decode_json
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import documented
from entrypoints.http.typed_body import Reader, typed_reader

JSON_MEDIA_TYPE = "application/json"
#: The parameter through which a Litestar handler takes its request body.
BODY_PARAMETER = "data"
#: The key in a handler's `opt` under which `declare_query_names` keeps its query parameters.
QUERY_NAMES = "throughline.query_names"
#: ... and the names of those it requires, in order.
QUERY_REQUIRED = "throughline.query_required"
#: Where the app serves the OpenAPI document and its page (`openapi_config`).
OPENAPI_PAGES = "/schema"


async def body_gate(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request` hook (see the module doc); returns nothing, or refuses."""
    query = request.scope.get("query_string", b"")
    opt = request.route_handler.opt
    if query or opt.get(QUERY_REQUIRED):
        _check_query(query, opt.get(QUERY_NAMES), opt.get(QUERY_REQUIRED, ()))
    required = _body_of(request.route_handler)
    if required is None:
        return
    if not required and not (await request.body()).strip():
        return  # an optional body left out: nothing to check
    _require_json(request.headers.get("content-type"))
    body = await request.body()
    if not body.strip():
        raise Problem(
            "validation-error",
            "the request body is missing: this operation needs a JSON object",
            errors=[FieldError("", "required: send the JSON body this operation documents")],
        )
    read = _typed_reader(request.route_handler)
    document = None if read is None else read(body)
    ScopeState.from_scope(request.scope).json = decode_json(body) if document is None else document


def _typed_reader(handler: Any) -> Reader | None:
    """The one-pass reader of the handler's body type (typed_body.py), if it has one."""
    field: FieldDefinition = handler.parsed_fn_signature.parameters[BODY_PARAMETER]
    try:
        return typed_reader(field.annotation)
    except TypeError:  # an annotation that cannot be a cache key: read as before
        return None


def _body_of(handler: Any) -> bool | None:
    """None when the handler takes no JSON body; else whether the body is required. (Read
    from the handler's signature, which Litestar parses once and keeps.)"""
    field: FieldDefinition | None = handler.parsed_fn_signature.parameters.get(BODY_PARAMETER)
    return None if field is None else not (field.is_optional or field.has_default)


def _require_json(content_type: str | None) -> None:
    if content_type is None:
        raise _unsupported("no Content-Type was sent; send Content-Type: application/json")
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        raise _unsupported(f"{media_type[:60]!r} is not application/json")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise _unsupported("a JSON body is UTF-8; send charset=utf-8 or no charset")


def _unsupported(detail: str) -> Problem:
    return Problem(
        "unsupported-media-type",
        detail,
        errors=[FieldError("/header/content-type", detail)],
    )


def declare_query_names(app: Litestar) -> None:
    """Note on each of the app's handlers the query parameters it takes, by the names a
    client sends (Litestar's own reading of the signature, which the OpenAPI document
    publishes); once, when the app is built."""
    for route in app.routes:
        if route.path.startswith(OPENAPI_PAGES):
            continue  # Litestar's own pages, not operations of the API
        for handler, kwargs in getattr(route, "route_handler_map", {}).values():
            names = frozenset(p.field_alias for p in kwargs.expected_query_params)
            handler.opt[QUERY_NAMES] = names
            required = (p.field_alias for p in kwargs.expected_query_params if p.is_required)
            handler.opt[QUERY_REQUIRED] = tuple(sorted(required))


def _check_query(
    query: bytes, takes: frozenset[str] | None, required: tuple[str, ...] = ()
) -> None:
    """Refuse a repeated parameter, then one the operation does not take (`takes`: None
    where the app declared nothing, e.g. the OpenAPI page), then the absence of any it
    requires, naming every one missing at once."""
    names = [name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
    if len(names) != len(set(names)):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise Problem(
            "validation-error",
            f"the query parameter {repeated[0][:60]!r} is repeated",
            errors=[_at(name, "given more than once; send it once") for name in repeated],
        )
    unknown = sorted(set(names) - takes) if takes is not None else []
    if unknown:
        offered = f"it takes: {', '.join(sorted(takes or ()))}" if takes else "it takes none"
        raise Problem(
            "validation-error",
            f"this operation has no query parameter {unknown[0][:60]!r}; {offered}",
            errors=[_at(name, f"not a parameter of this operation; {offered}") for name in unknown],
        )
    missing = [name for name in required if name not in names]
    if missing:
        errors = [
            _at(name, f"required: this operation needs the query parameter {name!r}")
            for name in missing
        ]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise Problem(
            "validation-error", f"{errors[0].detail} at {errors[0].pointer}{more}", errors=errors
        )


def _at(name: str, detail: str) -> FieldError:
    return FieldError(f"/query/{_escape(name[:60])}", detail)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


# The OpenAPI document ------------------------------------------------------------------------


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's schema of a msgspec struct, plus `additionalProperties: false` for a struct
    that refuses unknown fields (every request body): the document says what the server does.

    It extends Litestar's own struct plugin (a private module: a Litestar upgrade that moves
    it fails the import, and the OpenAPI test checks the published schemas)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        config = getattr(field_definition.type_, "__struct_config__", None)
        if isinstance(config, msgspec.structs.StructConfig) and config.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def document_body_refusals(handler: Any) -> None:
    """Add the gate's 415 and 413 to the documented answers of a handler that takes a body
    (once; the handlers are shared by every app built). A router: each of its handlers (a
    router holds the handlers it registered, which are what an app copies)."""
    for route in getattr(handler, "routes", ()):
        for inner in route.route_handlers:
            document_body_refusals(inner)
    fn = getattr(handler, "fn", None)
    if fn is None or BODY_PARAMETER not in inspect.signature(fn).parameters:
        return
    responses = dict(handler.responses or {})
    for status, spec in documented("unsupported-media-type", "payload-too-large").items():
        if status in (413, 415):
            responses.setdefault(status, spec)
    handler.responses = responses
