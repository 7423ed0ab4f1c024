"""RFC 9457 problem details, from our own registry of problem types.

Every error the API answers is `application/problem+json` with `type` (an absolute URI from
`REGISTRY`), `title` (constant per type), `status` (the HTTP code), `detail` (for a person) and,
for bad input, `errors: [{pointer, detail}]`. No stack trace, SQL or internal id ever reaches
a response: unknown failures become `internal-error` with a correlation id to quote.

Litestar's own exceptions (validation, 404 route, 405, 413, 401/403 from guards) are mapped
here too, so a client sees one format whatever refused the request.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.errors import (
    ApplicationError,
    ConflictError,
    DownstreamUnavailableError,
    IdempotencyKeyReusedError,
    MalformedJsonError,
    MasterDataError,
    NotFoundError,
    OwnershipError,
    PayloadError,
    RequestInProgressError,
)
from application.natural_keys import NaturalKeyConflictError
from domain.errors import DomainError, IllegalTransitionError, ImmutableVersionError
from entrypoints.http.correlation import correlation_id_for

PROBLEM_BASE = "https://throughline.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("throughline.http")


@attrs.frozen
class ProblemType:
    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


def _types(*items: tuple[str, str, int]) -> dict[str, ProblemType]:
    return {slug: ProblemType(slug, title, status) for slug, title, status in items}


#: Every problem type the API can answer, by slug. docs/http-api.md lists them (a test checks).
REGISTRY: dict[str, ProblemType] = _types(
    ("validation-error", "The request is not valid", 400),
    ("malformed-json", "The request body is not valid JSON", 400),
    ("idempotency-key-missing", "An Idempotency-Key header is required", 400),
    ("idempotency-key-malformed", "The Idempotency-Key header is malformed", 400),
    ("unauthenticated", "Authentication is required", 401),
    ("invalid-signature", "The webhook signature does not verify", 401),
    ("forbidden", "The caller may not do this", 403),
    ("maker-checker", "The maker of a change cannot approve it", 403),
    ("not-found", "The resource does not exist", 404),
    ("method-not-allowed", "The method is not allowed on this resource", 405),
    ("not-acceptable", "The resource is not served in the media type asked for", 406),
    ("invalid-state", "The resource is not in a state that allows this", 409),
    ("conflict", "The resource was changed by someone else", 409),
    ("request-in-progress", "A request with this Idempotency-Key is still running", 409),
    ("natural-key-conflict", "This id was already recorded with other values", 409),
    ("payload-too-large", "The request body is too large", 413),
    ("unsupported-media-type", "The request body must be JSON", 415),
    ("idempotency-key-reused", "The Idempotency-Key was used for a different request", 422),
    ("business-rule", "The request breaks a business rule", 422),
    ("period-closed", "The accounting period is closed", 422),
    ("master-data-missing", "Master data needed for this is missing", 422),
    ("not-the-owner", "Another system owns this field", 422),
    ("rate-limited", "Too many requests", 429),
    ("internal-error", "The server could not complete the request", 500),
    ("downstream-unavailable", "A neighbouring system did not answer", 503),
)

#: Domain refusals with a type of their own; every other `DomainError` is a `business-rule`.
_DOMAIN_TYPES = {
    "illegal_transition": "invalid-state",
    "immutable_version": "invalid-state",
    "maker_checker": "maker-checker",
    "period_closed": "period-closed",
}

_APPLICATION_TYPES: tuple[tuple[type[ApplicationError], str], ...] = (
    (NotFoundError, "not-found"),
    (IdempotencyKeyReusedError, "idempotency-key-reused"),
    (RequestInProgressError, "request-in-progress"),
    (ConflictError, "conflict"),
    (MasterDataError, "master-data-missing"),
    (OwnershipError, "not-the-owner"),
    (DownstreamUnavailableError, "downstream-unavailable"),
)

_HTTP_TYPES = {
    400: "validation-error",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
}


@attrs.frozen
class FieldError:
    """One bad field: a JSON pointer (RFC 6901) into the request and what is wrong with it."""

    pointer: str
    detail: str


class Problem(Exception):
    """Raise anywhere in a route to answer with a problem of the registry."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.type = REGISTRY[slug]
        self.detail = detail
        self.errors = tuple(errors)
        self.headers = dict(headers or {})


class ProblemBody(msgspec.Struct, omit_defaults=True):
    """The body of every error response (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[dict[str, str]] | None = None


def problem_response(problem: Problem, request: Request[Any, Any, Any] | None) -> Response[Any]:
    correlation = correlation_of(request)
    body = ProblemBody(
        type=problem.type.uri,
        title=problem.type.title,
        status=problem.type.status,
        detail=problem.detail,
        instance=request.url.path if request is not None else None,
        correlation_id=correlation,
        errors=[{"pointer": e.pointer, "detail": e.detail} for e in problem.errors] or None,
    )
    headers = dict(problem.headers)
    if correlation:
        headers["X-Correlation-ID"] = correlation
    return Response(
        content=msgspec.json.encode(body),
        status_code=problem.type.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def correlation_of(request: Request[Any, Any, Any] | None) -> str | None:
    return correlation_id_for(request.scope) if request is not None else None


def from_domain(error: DomainError) -> Problem:
    slug = _DOMAIN_TYPES.get(error.code, "business-rule")
    if isinstance(error, IllegalTransitionError | ImmutableVersionError):
        slug = "invalid-state"
    return Problem(slug, str(error))


def from_application(error: ApplicationError) -> Problem:
    if isinstance(error, NaturalKeyConflictError):
        # The pointer names the fact's field as the body and the webhook spell it (ADR 0024).
        field = FieldError("/" + _escape(error.field), error.field_detail)
        return Problem("natural-key-conflict", str(error), errors=[field])
    if isinstance(error, PayloadError):
        found = [FieldError(pointer, detail) for pointer, detail in error.problems]
        slug = "malformed-json" if isinstance(error, MalformedJsonError) else "validation-error"
        return Problem(slug, _first(found) if found else str(error), errors=found)
    for cls, slug in _APPLICATION_TYPES:
        if isinstance(error, cls):
            return Problem(slug, str(error))
    return Problem("business-rule", str(error))


#: The shapes of text the API reads most, named once: the schemas use them and a refusal of one
#: says in words what it wants instead of quoting the expression.
DECIMAL_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
#: An identifier, as every id in a body, a path or a query is written.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$"
#: The other shapes the schemas declare, each refused in the words below.
FINGERPRINT_PATTERN = r"^[0-9a-f]{64}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
IBAN_PATTERN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
BIC_PATTERN = r"^[A-Z0-9]{8}([A-Z0-9]{3})?$"
VAT_ID_PATTERN = r"^[A-Z]{2}[A-Z0-9+*.\-]{2,16}$"
ACCOUNT_NUMBER_PATTERN = r"^[A-Za-z0-9\-]{4,34}$"
ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$"
TAX_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,39}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
KIND_PATTERN = r"^[a-z][a-z0-9_]{0,30}$"
SNAKE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
TAX_CATEGORY_PATTERN = r"^(services|expenses|expenses:[^\x00-\x1f]{1,100})$"
#: Free text a person writes (a reason, a name): anything but blank, so at least one character
#: that is not white space (a pattern is searched for, not matched whole).
NOT_BLANK_PATTERN = r"\S"

_IN_WORDS = {
    DECIMAL_PATTERN: (
        'a decimal number written as a string, e.g. "7.5" (digits with an optional minus sign '
        "and point, at most 15 digits before the point and 10 after, no exponent)"
    ),
    MONTH_PATTERN: "a month written YYYY-MM, e.g. 2026-03",
    CURRENCY_PATTERN: "an ISO 4217 currency code in three capital letters, e.g. EUR",
    ID_PATTERN: (
        "an id of 1 to 100 letters, digits and . _ : - that starts with a letter or digit, "
        "e.g. ENG-1001"
    ),
    # tests/e2e/http/test_problem_words.py checks that every pattern of the OpenAPI document
    # (and of a map's keys) is here.
    FINGERPRINT_PATTERN: (
        "a fingerprint of 64 lower-case hexadecimal digits, as the preview answered it"
    ),
    COUNTRY_PATTERN: "an ISO 3166 country code in two capital letters, e.g. FR",
    IBAN_PATTERN: (
        "an IBAN in capital letters and digits without spaces, e.g. FR7630006000011234567890189"
    ),
    BIC_PATTERN: "a BIC of 8 or 11 capital letters and digits, e.g. AGRIFRPP",
    NOT_BLANK_PATTERN: "text that is not blank (at least one character other than white space)",
    VAT_ID_PATTERN: (
        "a VAT id: a two-letter country prefix, then 2 to 16 capital letters, digits or + * . -, "
        "e.g. FR32851234567"
    ),
    ACCOUNT_NUMBER_PATTERN: "an account number of 4 to 34 letters, digits and -",
    ACCOUNT_PATTERN: (
        "an account of 1 to 32 letters, digits, . and - that starts with a letter or digit, "
        "e.g. 411000"
    ),
    TAX_CODE_PATTERN: (
        "a code of 1 to 40 letters, digits and . _ - that starts with a letter or digit, e.g. VAT20"
    ),
    IDEMPOTENCY_KEY_PATTERN: "1 to 255 printable ASCII characters without spaces",
    KIND_PATTERN: (
        "a name of 1 to 31 lower-case letters, digits and _ that starts with a letter, e.g. usage"
    ),
    SNAKE_NAME_PATTERN: (
        "a snake_case name of 1 to 40 lower-case letters, digits and _ that starts with a letter, "
        "e.g. region"
    ),
    TAX_CATEGORY_PATTERN: (
        "services, expenses, or expenses:<expense category>, e.g. expenses:travel"
    ),
}
_NOT_MATCHING = re.compile(r"^Expected `str` matching regex (?P<pattern>'.*')$")
#: A whole number expected and something else sent (`?limit=abc`), or one out of bounds.
_NOT_WHOLE = re.compile(r"^Expected `int(?: \| null)?`, got `\w+`$")
_STR_NOT_NUMBER = re.compile(r"^Expected `str(?: \| null)?`, got `(?:int|float)`$")
_OUT_OF_BOUNDS = re.compile(r"^Expected `int` (?P<op>[<>]=?) (?P<bound>-?[0-9]+)$")
_OUT_OF_LENGTH = re.compile(
    r"^Expected `(?P<kind>str|array|object)` of length (?P<op>[<>]=?) (?P<bound>[0-9]+)$"
)
_LENGTH_UNITS = {"str": "characters", "array": "items", "object": "fields"}
_BOUND_WORDS = {">=": "of at least", "<=": "of at most", ">": "greater than", "<": "less than"}
#: A pattern that lists the values it takes (`^(open|closed)$`).
_ONE_OF = re.compile(r"^\^\((?P<values>[a-z_]+(?:\|[a-z_]+)+)\)\$$")
#: A source reference's pattern: `^(time_entry|expense|…):[A-Za-z0-9._:\-]{1,200}$`.
_SOURCE_REF = re.compile(
    r"^\^\((?P<kinds>[a-z_]+(?:\|[a-z_]+)+)\):\[A-Za-z0-9\._:\\-\]\{1,200\}\$$"
)


def _in_words(message: str) -> str:
    """Litestar's "Expected `str` matching regex '...'" as what the field takes, where the
    pattern is one of ours that has words (a decimal, a month, one of a list)."""
    field = _UNKNOWN_FIELD.search(message)
    if field is not None:
        return (
            "required: this field is missing"
            if message.startswith("Object missing")
            else "not a field of this request: the OpenAPI schema lists the fields it takes"
        )
    if _STR_NOT_NUMBER.match(message):
        return (
            "expected a string, got a number: amounts, hours, quantities and rates are written "
            'as strings, e.g. "7.5", so that no digit is lost to floating point'
        )
    if _NOT_WHOLE.match(message):
        return "expected a whole number, e.g. 10"
    length = _OUT_OF_LENGTH.match(message)
    if length is not None:
        words, count = _BOUND_WORDS[length["op"]].removeprefix("of "), int(length["bound"])
        unit = _LENGTH_UNITS[length["kind"]]
        return f"expected {words} {count:,} {unit if count != 1 else unit.removesuffix('s')}"
    bounded = _OUT_OF_BOUNDS.match(message)
    if bounded is not None:
        return f"expected a whole number {_BOUND_WORDS[bounded['op']]} {bounded['bound']}"
    found = _NOT_MATCHING.match(message)
    if found is None:
        return message
    try:
        pattern = ast.literal_eval(found["pattern"])
    except (SyntaxError, ValueError):
        return message
    if pattern in _IN_WORDS:
        return f"expected {_IN_WORDS[pattern]}"
    choice = _ONE_OF.match(pattern)
    if choice is not None:
        return f"expected one of: {', '.join(choice['values'].split('|'))}"
    cited = _SOURCE_REF.match(pattern)
    if cited is not None:
        kinds = ", ".join(cited["kinds"].split("|"))
        return f"expected <kind>:<id>, e.g. time_entry:T-1001, the kind one of: {kinds}"
    return message


_UNKNOWN_FIELD = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")
#: Litestar's message for a missing parameter (it names no key): the pointer is built from it.
_MISSING_PARAMETER = re.compile(
    r"Missing required (?P<source>query|header|path|cookie) parameter '(?P<name>[^']+)'"
)
#: An array index in Litestar's key (`entries[3].hours`): a pointer segment of its own.
_INDEX = re.compile(r"\[(\d+)\]")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _field_error(item: Mapping[str, Any], spelled: Mapping[str, str]) -> FieldError:
    """One of Litestar's messages as a JSON pointer: into the body (`/entries/3/hours`), or
    naming the query, path or header parameter (`/query/limit`), a query parameter by the name
    the client sent (`spelled`: `state`, not the handler's `state_filter`)."""
    said = str(item.get("message", "invalid")).strip()
    message = _in_words(said)
    key = str(item.get("key", "") or "")
    source = str(getattr(item.get("source"), "value", item.get("source")) or "")
    # msgspec names a dict's value `[...]` without its key: point at the dict itself.
    dotted = _INDEX.sub(r".\1", key.replace("[...]", ""))
    parts = [] if key in ("", "data") else [p for p in dotted.split(".") if p]
    unknown = _UNKNOWN_FIELD.search(said)
    if unknown:
        parts.append(unknown.group("name"))
    if source == "body" or not source:
        return FieldError("".join("/" + _escape(p) for p in parts), message)
    if source == "query":
        key = spelled.get(key, key)
    return FieldError(f"/{source}/{_escape(key)}", message)


def query_names(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The query parameters a client spells otherwise than the handler's arguments (`state`
    for `state_filter`, as Litestar reserves `state`), keyed by the argument."""
    handler = request.scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    if signature is None:
        return {}
    names: dict[str, str] = {}
    for argument, field in signature.parameters.items():
        alias = getattr(field.kwarg_definition, "query", None) or getattr(
            field.kwarg_definition, "name", None
        )
        if isinstance(alias, str) and alias != argument:
            names[argument] = alias
    return names


def from_validation(
    error: ValidationException, spelled: Mapping[str, str] | None = None
) -> Problem:
    """Litestar's validation failure as a problem: every message with its pointer; a missing
    or malformed Idempotency-Key as its own type."""
    detail = str(error.detail) if error.detail else "the request is not valid"
    if "Idempotency-Key" in detail and "Missing required header" in detail:
        return Problem(
            "idempotency-key-missing", "send an Idempotency-Key header with this request"
        )
    extra = error.extra if isinstance(error.extra, list) else []
    found = [_field_error(item, spelled or {}) for item in extra if isinstance(item, Mapping)]
    if any(f.pointer == "/header/idempotency_key" for f in found):
        return Problem(
            "idempotency-key-malformed",
            "the Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
    if not found:
        missing = _MISSING_PARAMETER.search(detail)
        if missing is None:
            found.append(FieldError("", detail))
        else:
            source, name = missing["source"], missing["name"]
            said = f"required: this operation needs the {source} parameter '{name}'"
            found.append(FieldError(f"/{source}/{_escape(name)}", said))
    return Problem("validation-error", _first(found), errors=found)


def _first(errors: Sequence[FieldError]) -> str:
    first = errors[0]
    where = f" at {first.pointer}" if first.pointer else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first.detail}{where}{more}"


def from_http(error: HTTPException) -> Problem:
    slug = _HTTP_TYPES.get(error.status_code)
    if slug is None:
        slug = "internal-error" if error.status_code >= 500 else "validation-error"
    detail = str(error.detail) if error.detail else REGISTRY[slug].title
    return Problem(slug, detail, headers=error.headers or None)


def _json_syntax_error(error: HTTPException) -> bool:
    """A body that is not JSON at all (bad syntax, truncated), as opposed to valid JSON of the
    wrong shape: Litestar raises it from the decoder's `DecodeError`."""
    if str(error.detail).startswith("JSON is malformed"):
        return True
    origin = error.__cause__.__cause__ if error.__cause__ is not None else None
    return isinstance(origin, msgspec.DecodeError) and not isinstance(
        origin, msgspec.ValidationError
    )


def handle_problem(request: Request[Any, Any, Any], error: Problem) -> Response[Any]:
    return problem_response(error, request)


def handle_domain(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return problem_response(from_domain(error), request)


def handle_application(request: Request[Any, Any, Any], error: ApplicationError) -> Response[Any]:
    return problem_response(from_application(error), request)


def handle_http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, ValidationException):
        return problem_response(from_validation(error, query_names(request)), request)
    if error.status_code == 400 and _json_syntax_error(error):
        return problem_response(Problem("malformed-json", str(error.detail)), request)
    if error.status_code == 413:
        return problem_response(too_large(request), request)
    return problem_response(from_http(error), request)


def too_large(request: Request[Any, Any, Any]) -> Problem:
    """Litestar's 413 ("Request Entity Too Large") in our words, with the limit."""
    handler = request.scope.get("route_handler")
    limit = handler.resolve_request_max_body_size() if handler is not None else None
    size = f"{limit:,} bytes" if limit else "the limit"
    detail = f"the request body is larger than {size} (docs/http-api.md#limits)"
    return Problem("payload-too-large", detail, errors=[FieldError("", detail)])


def handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A bug or an outage: logged with its trace, answered without one."""
    correlation = correlation_of(request)
    log.exception("unhandled error (correlation id %s)", correlation)
    return problem_response(
        Problem(
            "internal-error",
            "the request failed on our side; quote the correlation id when reporting it",
        ),
        request,
    )


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    Problem: handle_problem,
    DomainError: handle_domain,
    ApplicationError: handle_application,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
