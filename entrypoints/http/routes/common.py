"""Building blocks every route module uses: permissions on routes, the documented error
responses, request value types (decimal strings, months, ids) and response value types.

A route states its permission with `opt=permission("invoices:approve")` and `documented(...)`
lists the problem responses it can answer so the OpenAPI document (and schemathesis) know them;
route modules say both once per family through `RouteFamily` (declare.py).
Request bodies are `Struct`s with `forbid_unknown_fields=True`: nobody can mass-assign `state`,
`cost_rate` or ids the server owns. Amounts travel as decimal strings, never JSON numbers.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, QueryParameter

from domain.errors import DomainError, UnknownCurrencyError
from domain.money import EXACT, Currency, Money
from domain.period import Period
from entrypoints.http.problems import (
    CURRENCY_PATTERN,
    DECIMAL_PATTERN,
    ID_PATTERN,
    IDEMPOTENCY_KEY_PATTERN,
    MONTH_PATTERN,
    NOT_BLANK_PATTERN,
    PROBLEM_MEDIA_TYPE,
    REGISTRY,
    FieldError,
    Problem,
    ProblemBody,
)
from entrypoints.http.security import Principal

PUBLIC = "public"


def _written(pattern: str, description: str, example: str) -> msgspec.Meta:
    """A string value of a body written to `pattern`, described with one example."""
    return msgspec.Meta(pattern=pattern, description=description, examples=[example])


DecimalString = Annotated[
    str,
    _written(
        DECIMAL_PATTERN,
        'A decimal number as a string (never a JSON number), e.g. "1250.00".',
        "1250.00",
    ),
]
Month = Annotated[str, _written(MONTH_PATTERN, "A calendar month, YYYY-MM.", "2026-03")]
CurrencyCode = Annotated[str, _written(CURRENCY_PATTERN, "ISO 4217 code", "EUR")]
Id = Annotated[
    str,
    _written(
        ID_PATTERN, "An identifier: letters, digits and . _ : - (at most 100 characters).", "acme"
    ),
]
#: What a person writes (a reason, a name): never blank, at most 2,000 characters.
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=NOT_BLANK_PATTERN)]

#: A calendar month, YYYY-MM (an accounting or billing period).
MONTH = MONTH_PATTERN


def query_param(
    name: str, example: str, value: Any, *, required: bool | None = None, **constraints: Any
) -> Any:
    """A query parameter (`?engagement_id=E1`), with one example and its limits (`pattern`,
    `max_length`, `description`); required or not as its type says unless `required` is given."""
    return QueryParameter(
        name=name,
        required=required,
        examples=[Example(summary=example, value=value)],
        **constraints,
    )


MonthQuery = Annotated[
    str,
    query_param(
        "period",
        "March 2026",
        "2026-03",
        required=True,
        pattern=MONTH,
        description="The month, YYYY-MM.",
    ),
]
Limit = Annotated[
    int | None,
    query_param(
        "limit",
        "a page of 50",
        50,
        required=False,
        ge=1,
        le=200,
        description="Page size (at most 200; default 50).",
    ),
]
CustomerFilter = Annotated[
    str | None,
    query_param(
        "customer_id",
        "one customer",
        "acme",
        required=False,
        max_length=100,
        description="Only this customer's objects.",
    ),
]
IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=(
            "Required on every state-changing POST. The same key with the same body replays "
            "the stored response; with another body it is refused (422); while the first "
            "request runs, 409."
        ),
        examples=[Example(summary="a client-chosen key", value="5f0c6c2e-approve-INV-1")],
    ),
]


def permission(name: str) -> dict[str, Any]:
    """The route's `opt`: the permission the guard checks."""
    return {"permission": name}


def _spec(slugs: Sequence[str]) -> ResponseSpec:
    """One status's response: every problem the route may answer with it, each an example."""
    kinds = [REGISTRY[slug] for slug in slugs]
    return ResponseSpec(
        data_container=ProblemBody,
        description=kinds[0].title
        if len(kinds) == 1
        else "One of: " + "; ".join(kind.title for kind in kinds),
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
        examples=[
            Example(
                summary=kind.title,
                value={
                    "type": kind.uri,
                    "title": kind.title,
                    "status": kind.status,
                    "detail": kind.title,
                },
            )
            for kind in kinds
        ],
    )


_COMMON = ("validation-error", "unauthenticated", "forbidden", "rate-limited", "internal-error")


def documented(*slugs: str, public: bool = False) -> dict[int, ResponseSpec]:
    """The problem responses of a route: the common ones plus `slugs`, one response per status
    listing every problem of that status (a 422 may be a business rule, a closed period or a
    reused key: an integrator reads each of them)."""
    by_status: dict[int, list[str]] = {}
    common = ("validation-error", "rate-limited", "internal-error") if public else _COMMON
    for slug in dict.fromkeys((*common, *slugs)):
        by_status.setdefault(REGISTRY[slug].status, []).append(slug)
    return {status: _spec(named) for status, named in by_status.items()}


def answer(
    container: Any, example: Any, *, status: int = 200, media_type: str = "application/json"
) -> dict[int, ResponseSpec]:
    """The success response with an example, for operations that have no other place for one
    (no parameters, no body)."""
    return {
        status: ResponseSpec(
            data_container=container,
            description="OK",
            media_type=media_type,
            generate_examples=False,
            examples=[Example(summary="a typical answer", value=example)],
        )
    }


#: A command with an `Idempotency-Key` on an existing object: it may also find its key still
#: running ("request-in-progress"), documented beside "invalid-state" under 409.
WRITE_PROBLEMS = (
    "not-found",
    "invalid-state",
    "idempotency-key-reused",
    "payload-too-large",
    "request-in-progress",
)

#: A command on an existing object that a business rule may refuse, and that may still run.
RULED_WRITE_PROBLEMS = (*WRITE_PROBLEMS, "business-rule")


def to_decimal(value: str, pointer: str) -> Decimal:
    try:
        return Decimal(value)
    except ArithmeticError:  # pragma: no cover - the pattern admits only decimals
        raise Problem("validation-error", f"{value!r} is not a decimal number") from None


def to_money(amount: str, currency: str, pointer: str = "") -> Money:
    """An amount as the body sends it: no more decimals than its currency has (EUR 2, JPY 0,
    BHD 3), else 400 at `pointer`; kept with exactly those digits (`"500"` EUR is 500.00)."""
    try:
        money = Money.of(amount, currency)
    except DomainError as error:
        raise Problem("business-rule", str(error)) from None
    check_minor_digits(money.amount, money.currency, pointer)
    return money.quantized()  # exact: it has no more digits than the quantum


def check_minor_digits(amount: Decimal, currency: Currency, pointer: str) -> None:
    """Refuse (400 at `pointer`) an amount written with more decimals than `currency` has."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > currency.minor_units:
        detail = (
            f"{amount} has more decimals than {currency.code} has "
            f"({currency.minor_units}): an amount is whole {currency.code} minor units"
        )
        raise Problem("validation-error", detail, errors=[FieldError(pointer, detail)])


def check_currency(code: str, pointer: str) -> None:
    """Refuse (400 at `pointer`) a code that is not an active ISO 4217 currency."""
    try:
        Currency.of(code)
    except UnknownCurrencyError as error:
        raise Problem(
            "validation-error", str(error), errors=[FieldError(pointer, str(error))]
        ) from None


def to_period(month: str) -> Period:
    """A `YYYY-MM` the pattern admits but the calendar does not (year 0000) is bad input (400),
    not a business rule."""
    try:
        return Period.parse_month(month)
    except DomainError as error:
        raise Problem("validation-error", str(error)) from None


class MoneyOut(msgspec.Struct):
    amount: str
    currency: str


def money_out(value: Money) -> MoneyOut:
    """An amount with exactly its currency's minor digits: `135.00` EUR, `1500` JPY, `0.000`
    BHD, never `135` or `-0.00` (document amounts are whole minor units already; anything
    else is rounded half-up, the document rounding)."""
    amount = value.quantized().amount
    return MoneyOut(str(amount.copy_abs() if amount.is_zero() else amount), value.currency.code)


def exact_out(value: Money) -> MoneyOut:
    """A rate or an exact (unrounded) value: at least the currency's minor digits, and more
    only where the value has them (`135.00`, `150.125`), never with trailing zeros beyond."""
    exact = value.amount.normalize(EXACT)
    exponent = exact.as_tuple().exponent
    if isinstance(exponent, int) and -exponent < value.currency.minor_units:
        exact = exact.quantize(value.currency.exponent, context=EXACT)
    return MoneyOut(
        format(exact.copy_abs() if exact.is_zero() else exact, "f"), value.currency.code
    )


def staff(principal: Principal, name: str | None) -> str | msgspec.UnsetType | None:
    """Who on the firm's side made or approved something: left out (the key absent, not
    null) for a client viewer, who sees documents but not the people behind them."""
    return msgspec.UNSET if principal.scoped else name


class PeriodOut(msgspec.Struct):
    start: date
    end: date


def period_out(value: Period) -> PeriodOut:
    return PeriodOut(value.start, value.end)


Shown = TypeVar("Shown", bound=msgspec.Struct)
Read = TypeVar("Read")


def refuse_fields(errors: Sequence[FieldError], *, located: bool = False) -> None:
    """Refuse a request whose fields have these errors, if it has any: a 400
    `validation-error` that lists them all, its detail the first one's (followed by where it
    is, when `located`)."""
    if errors:
        first = errors[0]
        detail = f"{first.detail} at {first.pointer}" if located else first.detail
        raise Problem("validation-error", detail, errors=errors)


def or_not_found(
    read: Read | None, noun: str, key: object, shown: Callable[[Read], bool] | None = None
) -> Read:
    """What a read found, or the 404 `there is no <noun> <key>` when it found nothing, or
    (with `shown`) nothing the caller may see: one wording for every missing object."""
    if read is None or (shown is not None and not shown(read)):
        raise Problem("not-found", f"there is no {noun} {key}")
    return read


def published(view: type, *names: str, **retyped: Any) -> type[msgspec.Struct]:
    """The base of an answer struct that publishes `names` of a read model, in that order, each
    typed as the read model types it unless `retyped` (an amount as `MoneyOut`). The read model
    is the one place a field's type is written; which of its fields reach the wire is still
    listed by the answer, so a field added to a view stays off the wire until an answer names
    it (ADR 0057)."""
    types = typing.get_type_hints(view)
    fields = [(name, retyped.get(name, types[name])) for name in names]
    return msgspec.defstruct(f"{view.__name__}Published", fields)


def out_of(struct: type[Shown], source: object, /, **given: Any) -> Shown:
    """`struct` with its required fields read from `source`'s attributes of the same names,
    but for those `given` (an amount as a string, a nested struct, an enum's value). A field
    with a default is set only when given, so what a caller may not see is never copied."""
    names = struct.__struct_fields__
    required = names[: len(names) - len(struct.__struct_defaults__)]
    copied = {name: getattr(source, name) for name in required if name not in given}
    return struct(**copied, **given)
