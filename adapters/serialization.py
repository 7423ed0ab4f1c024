"""The one serialization converter: JSON columns, aggregate snapshots, outbox payloads.

Built once, at import, from a private `cattrs.Converter` (never the global one). Every hook is
strict: a decimal is a plain decimal string (or an int), never a float; an int is an int, a bool
a bool, a string a string; datetimes carry a timezone; unknown keys are refused. Obligation
terms are a tagged union keyed by the billing model's registered name, so a new billing model
serializes without touching this module. Entities lose their transient `events` on the way
out and get an empty list back on the way in. Bad input surfaces as `SerializationError`,
whose message names the path of every bad field (`$.versions[0].obligations[1].fee`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn
from cattrs.v import format_exception

import domain.billing_models  # noqa: F401  (registers every billing model before any lookup)
from adapters.allocation_snapshot import (
    PlainByConstruction,
    PlainListByConstruction,
    unstructure_allocation,
    unstructure_allocations,
)
from adapters.line_snapshot import line_hook
from adapters.serialization_hooks import (
    Hook,
    _is_mapping,
    _is_sequence,
    _kind,
    _mapping_hooks,
    _Refused,
    _strict_sequence,
    _structure_bool,
    _structure_currency,
    _structure_date,
    _structure_datetime,
    _structure_decimal,
    _structure_enum,
    _structure_int,
    _structure_str,
    _unstructure_datetime,
    _unstructure_decimal,
    _unstructure_enum,
    _unstructure_scalar,
    _with_note,
)
from adapters.serialization_hooks import (
    SerializationError as SerializationError,
)
from domain.billing import Allocation, SourceRef
from domain.contract import ContractVersion
from domain.document import DocumentLine
from domain.errors import DomainError
from domain.invoice import Invoice
from domain.kinds import OpenKind
from domain.money import Currency
from domain.obligation import BillingModel, billing_model_for, registered_models

T = TypeVar("T")
#: A `cattrs.override(...)` for one attribute.
Override = Any

#: The field naming the billing model of one obligation's terms.
MODEL_TAG: Final = "model"


# Obligation terms: a tagged union over the billing-model registry ---------------------------


def _models_by_name() -> dict[str, BillingModel]:
    models: dict[str, BillingModel] = {}
    for model in registered_models():
        if model.name in models:
            raise _Refused(f"two billing models are registered as {model.name!r}")
        models[model.name] = model
    return models


def _obligation_hooks(converter: cattrs.Converter) -> tuple[Hook, Hook]:
    """(structure, unstructure) of `ContractVersion.obligations`: each terms object as
    {"model": <registered name>, **its fields}, looked up in the registry at call time."""

    def unstructure_terms(terms: object) -> dict[str, Any]:
        model = billing_model_for(terms)
        data = converter.unstructure(terms, unstructure_as=model.terms_type)
        if MODEL_TAG in data:
            raise _Refused(f"{model.terms_type.__name__} has a field named {MODEL_TAG!r}")
        return {MODEL_TAG: model.name, **data}

    def structure_terms(value: object) -> object:
        if not isinstance(value, dict):
            raise _Refused(f"expected an object with a {MODEL_TAG!r} key, got {_kind(value)}")
        name = value.get(MODEL_TAG)
        models = _models_by_name()
        if not isinstance(name, str) or name not in models:
            known = ", ".join(sorted(models))
            error = _Refused(f"unknown obligation model {name!r} (registered: {known})")
            note = AttributeValidationNote(f"Structuring {MODEL_TAG}", MODEL_TAG, str)
            raise ClassValidationError("obligation terms", [_with_note(error, note)], object)
        fields = {key: v for key, v in value.items() if key != MODEL_TAG}
        return converter.structure(fields, models[name].terms_type)

    def unstructure(obligations: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [unstructure_terms(terms) for terms in obligations]

    def structure(value: object, _: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise _Refused(f"expected a list of obligations, got {_kind(value)}")
        out, errors = [], []
        for index, item in enumerate(value):
            try:
                out.append(structure_terms(item))
            except Exception as error:  # collected, as cattrs does, to report every path
                note = IterableValidationNote(f"obligation @ index {index}", index, object)
                errors.append(_with_note(error, note))
        if errors:
            raise IterableValidationError("While structuring obligations", errors, tuple)
        return tuple(out)

    return structure, unstructure


# Invoice credit reservations: {(line_no, source): (quantity, amount)} as a list ------------


@attrs.frozen
class _CreditReservation:
    line_no: int
    source: SourceRef
    quantity: Decimal
    amount: Decimal


Reservations = dict[tuple[int, SourceRef], tuple[Decimal, Decimal]]


def _reservation_hooks(converter: cattrs.Converter) -> tuple[Hook, Hook]:
    """(structure, unstructure) of `Invoice.credit_reservations`, whose keys are tuples."""
    as_list = list[_CreditReservation]

    def unstructure(reservations: Reservations) -> Any:
        rows = [
            _CreditReservation(line_no, source, quantity, amount)
            for (line_no, source), (quantity, amount) in reservations.items()
        ]
        # Not sorted by SourceRef itself: its generated ordering compares SourceKind members,
        # and those do not order.
        rows.sort(key=lambda r: (r.line_no, r.source.kind.value, r.source.source_id))
        return converter.unstructure(rows, unstructure_as=as_list)

    def structure(value: object, _: Any) -> Reservations:
        out: Reservations = {}
        for row in converter.structure(value, as_list):
            key = (row.line_no, row.source)
            if key in out:
                raise _Refused(f"line {row.line_no} reserves {row.source} twice")
            out[key] = (row.quantity, row.amount)
        return out

    return structure, unstructure


# Entities: transient `events`, and the fields that need their own hooks -------------------


def _overrides(cls: type, special: Mapping[type, Mapping[str, Override]]) -> dict[str, Override]:
    found = dict(special.get(cls, {}))
    if "events" in attrs.fields_dict(cls):
        found["events"] = cattrs.override(omit=True)
    return found


def _structure_open_kind(value: object, cls: type[OpenKind]) -> OpenKind:
    """A registered kind (`SourceKind`, `LineKind`) from its string, strictly."""
    if isinstance(value, str) and value in cls.by_value():
        return cls(value)
    allowed = ", ".join(repr(kind.value) for kind in cls.members())
    raise _Refused(f"{value!r} is not a valid {cls.__name__} (one of {allowed})")


def build_converter() -> cattrs.Converter:
    """The project's converter; call once (module import does), share the result."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    hooks: list[tuple[type, Hook, Hook]] = [
        (Decimal, _structure_decimal, _unstructure_decimal),
        (date, _structure_date, date.isoformat),
        (datetime, _structure_datetime, _unstructure_datetime),
        (Currency, _structure_currency, lambda currency: currency.code),
        # cattrs dispatches on classes first, so str and int subclasses (StrEnum, IntEnum)
        # reach these three too; the hooks pass them on to the enum hooks.
        (int, _structure_int, _unstructure_scalar),
        (bool, _structure_bool, _unstructure_scalar),
        (str, _structure_str, _unstructure_scalar),
    ]
    for cls, structure_hook, unstructure_hook in hooks:
        converter.register_structure_hook(cls, structure_hook)
        converter.register_unstructure_hook(cls, unstructure_hook)
    converter.register_structure_hook(Enum, _structure_enum)
    converter.register_unstructure_hook(Enum, _unstructure_enum)
    converter.register_structure_hook(OpenKind, _structure_open_kind)
    converter.register_unstructure_hook(OpenKind, lambda kind: kind.value)
    converter.register_unstructure_hook(Allocation, unstructure_allocation)  # ADR 0060
    converter.register_unstructure_hook_func(
        lambda t: t == tuple[Allocation, ...], unstructure_allocations
    )
    converter.register_structure_hook_factory(
        _is_sequence, lambda t: _strict_sequence(t, converter)
    )
    converter.register_structure_hook_factory(
        _is_mapping, lambda t: _mapping_hooks(t, converter)[0]
    )
    converter.register_unstructure_hook_factory(
        _is_mapping, lambda t: _mapping_hooks(t, converter)[1]
    )

    obligations, reservations = _obligation_hooks(converter), _reservation_hooks(converter)
    special: dict[type, dict[str, Override]] = {
        ContractVersion: {
            "obligations": cattrs.override(struct_hook=obligations[0], unstruct_hook=obligations[1])
        },
        Invoice: {
            "credit_reservations": cattrs.override(
                struct_hook=reservations[0], unstruct_hook=reservations[1]
            )
        },
    }

    def is_attrs_class(t: Any) -> bool:
        return isinstance(t, type) and attrs.has(t)

    def structure_attrs(t: type) -> Hook:
        inner: Hook = make_dict_structure_fn(t, converter, **_overrides(t, special))

        def structure(value: object, _: Any) -> Any:
            if not isinstance(value, dict):
                raise _Refused(f"expected an object ({t.__name__}), got {_kind(value)}")
            return inner(value, t)

        return structure

    converter.register_structure_hook_factory(is_attrs_class, structure_attrs)
    converter.register_unstructure_hook_factory(
        is_attrs_class,
        lambda t: make_dict_unstructure_fn(t, converter, **_overrides(t, special)),
    )
    # ADR 0060: a line is written by hand, the generated function kept for what it refuses.
    generated_line = make_dict_unstructure_fn(DocumentLine, converter)
    converter.register_unstructure_hook(DocumentLine, line_hook(generated_line))
    return converter


CONVERTER: Final = build_converter()


# Errors ------------------------------------------------------------------------------------


def _detail(error: BaseException, expected: Any) -> str:
    if isinstance(error, _Refused | DomainError):
        return str(error)
    return format_exception(error, expected)


def _problems(error: BaseException, path: str) -> list[tuple[str, str]]:
    """(path, detail) for every leaf of a cattrs validation error tree."""
    if isinstance(error, ForbiddenExtraKeysError):
        return [(f"{path}.{key}", "unknown field") for key in sorted(error.extra_fields)]
    if not isinstance(error, ClassValidationError | IterableValidationError):
        return [(path, _detail(error, None))]
    found: list[tuple[str, str]] = []
    with_notes, without = error.group_exceptions()
    for sub, note in with_notes:
        if isinstance(note, AttributeValidationNote):
            sub_path = f"{path}.{note.name}"
        else:
            sub_path = f"{path}[{note.index!r}]"
        if isinstance(sub, BaseValidationError | ForbiddenExtraKeysError):
            found += _problems(sub, sub_path)
        else:
            found.append((sub_path, _detail(sub, note.type)))
    for sub in without:
        found += _problems(sub, path)
    return found


# Public helpers ----------------------------------------------------------------------------

_JSON_SCALARS: Final = (str, int, bool, type(None))


def _is_plain(value: object) -> bool:
    """`_plain` without the paths: the check every snapshot passes, paid once per value (a
    loop over a stack, not a generator per container: an invoice's snapshot holds thousands
    of values)."""
    stack: list[Any] = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            extend(item.values())
        elif kind is list:
            extend(item)
        elif kind is PlainByConstruction or kind is PlainListByConstruction:
            continue  # its values were checked as it was built (adapters/allocation_snapshot.py)
        elif kind not in _JSON_SCALARS:
            return False
    return True


def _plain(value: object, path: str = "$") -> None:
    """Only exact JSON types leave the converter: no float, no str or int subclass."""
    if path == "$" and _is_plain(value):
        return  # the paths below are only worth building to name what is wrong
    if isinstance(value, float):
        raise SerializationError([(path, "unstructured to a float: money is never a float")])
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise SerializationError([(path, f"key {key!r} is not a plain string")])
            _plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _plain(item, f"{path}[{index}]")
    elif type(value) not in _JSON_SCALARS:
        raise SerializationError([(path, f"{type(value).__name__} is not plain JSON data")])


def unstructure(obj: object, as_type: Any = None) -> Any:
    """Plain JSON-ready data (dicts, lists, str, int, bool, None); never a float."""
    try:
        data = CONVERTER.unstructure(obj, unstructure_as=as_type)
    except Exception as error:
        raise SerializationError(_problems(error, "$")) from error
    _plain(data)
    return data


def structure(data: object, cls: type[T]) -> T:
    """Strictly build a `cls` from plain data; every bad field is named in the error."""
    try:
        return CONVERTER.structure(data, cls)
    except Exception as error:
        raise SerializationError(_problems(error, "$")) from error


def to_json(obj: object, as_type: Any = None) -> str:
    """Compact, key-sorted JSON: the same object always gives the same text."""
    return json.dumps(
        unstructure(obj, as_type),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SerializationError([("$", f"the key {key!r} appears twice in one object")])
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise SerializationError([("$", f"{name} is not a number")])


class TermsRuleError(SerializationError):
    """Obligation terms that are well-formed but break a rule of their billing model
    (percentages not summing to 100, a negative fee, an unknown currency, ...)."""


_OBLIGATIONS_IN: Final = _obligation_hooks(CONVERTER)[0]


def structure_obligations(data: object) -> tuple[Any, ...]:
    """A contract version's obligations from plain data, `[{"model": <registered name>,
    **terms fields}, ...]`, strictly; the paths of the errors start at the list (`$[0].fee`).
    `TermsRuleError` when every problem is a broken business rule, not a malformed field."""
    try:
        obligations: tuple[Any, ...] = _OBLIGATIONS_IN(data, tuple)
    except Exception as error:
        kind = TermsRuleError if _rules_only(error) else SerializationError
        raise kind(_problems(error, "$")) from error
    return obligations


def _rules_only(error: BaseException) -> bool:
    if isinstance(error, DomainError):
        return True
    if isinstance(error, ClassValidationError | IterableValidationError):
        return all(_rules_only(sub) for sub in error.exceptions)
    return False


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON (no duplicate keys, no NaN/Infinity) and structure it strictly."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except SerializationError:
        raise
    except ValueError as error:
        raise SerializationError([("$", f"not valid JSON ({error})")]) from error
    return structure(data, cls)
