"""The converter's hooks for scalars and containers: strict about types (no bool for an int,
no float for a Decimal), exact about decimals, dates and enums, and the error every refusal
becomes (`adapters.serialization` builds the converter from them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, get_origin

import cattrs
from cattrs.cols import homogenous_tuple_structure_factory, list_structure_factory
from cattrs.errors import (
    IterableValidationError,
    IterableValidationNote,
)

from domain.money import Currency

Hook = Callable[..., Any]

#: A plain, finite decimal: optional minus, ASCII digits, optional fraction. No exponent, no
#: NaN or Infinity, no `+`, no leading zeros, no Unicode digits (which `Decimal` would accept).
PLAIN_DECIMAL: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
#: What a text that is not a plain decimal is told (after the text itself).
NOT_PLAIN_DECIMAL: Final = (
    "is not a plain decimal like 7.5: ASCII digits with an optional minus sign and point, "
    "no exponent, '+', '_' or leading zero"
)
_PLAIN_INT: Final = re.compile(r"-?(?:0|[1-9][0-9]*)")
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _with_note(error: Exception, note: str) -> Exception:
    error.__notes__ = [*getattr(error, "__notes__", []), note]
    return error


class SerializationError(ValueError):
    """Input that does not structure into the asked type; `problems` lists (path, detail)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{path}: {detail}" for path, detail in self.problems))


class _Refused(ValueError):
    """A value a strict hook refuses; its message is the detail shown to the caller."""


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


# Scalars -----------------------------------------------------------------------------------


def _structure_decimal(value: object, _: type) -> Decimal:
    if isinstance(value, float):
        raise _Refused(f"a decimal is never a float ({value!r}): send it as a string")
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and PLAIN_DECIMAL.fullmatch(value):
        return Decimal(value)
    if isinstance(value, str):
        raise _Refused(f"{value!r} is not a plain decimal string like '12.30'")
    raise _Refused(f"expected a decimal string, got {_kind(value)}")


def _unstructure_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise _Refused(f"{value} is not a finite decimal")
    return format(value, "f")


def _structure_int(value: object, cls: type) -> Any:
    if cls is not int:  # an IntEnum: cattrs dispatches int subclasses here
        return _structure_enum(value, cls)
    if type(value) is not int:
        raise _Refused(f"expected an integer, got {_kind(value)}")
    return value


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise _Refused(f"expected true or false, got {_kind(value)}")
    return value


def _structure_str(value: object, cls: type) -> Any:
    if cls is not str:  # a StrEnum: cattrs dispatches str subclasses here
        return _structure_enum(value, cls)
    if not isinstance(value, str):
        raise _Refused(f"expected a string, got {_kind(value)}")
    return value


def _unstructure_scalar(value: object) -> object:
    # A StrEnum member is a str, and an IntEnum member an int, but neither is plain JSON data.
    return _unstructure_enum(value) if isinstance(value, Enum) else value


def _structure_date(value: object, _: type) -> date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise _Refused(f"expected an ISO-8601 date like '2026-03-31', got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Refused(f"{value!r} is not a calendar date") from None


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise _Refused(f"{value.isoformat()} is a naive datetime: a timezone is required")
    return value


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise _Refused(f"expected an ISO-8601 datetime string, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(f"{value!r} is not an ISO-8601 datetime") from None
    return _aware(parsed)


def _unstructure_datetime(value: datetime) -> str:
    return _aware(value).isoformat()


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, Enum)


#: Per enum class: (type of the value, value) → the first member with exactly that value.
_ENUM_MEMBERS: dict[type, dict[tuple[type, object], Enum]] = {}


def _members_by_value(cls: Any) -> dict[tuple[type, object], Enum]:
    found = _ENUM_MEMBERS.get(cls)
    if found is None:
        if not _is_enum(cls):
            raise _Refused(f"no structure hook for {cls.__name__}")
        found = {}
        for member in cls:
            found.setdefault((type(member.value), member.value), member)
        _ENUM_MEMBERS[cls] = found
    return found


def _structure_enum(value: object, cls: Any) -> Enum:
    # Looked up by (type, value), so `True` never matches 1 nor "1" a 1: the same strictness
    # as comparing against each member, without walking the members on every call.
    members = _members_by_value(cls)
    try:
        member = members.get((type(value), value))
    except TypeError:  # an unhashable value (a list, an object) is no member's value
        member = None
    if member is not None:
        return member
    allowed = ", ".join(repr(m.value) for m in cls)
    raise _Refused(f"{value!r} is not a valid {cls.__name__} (one of {allowed})")


def _unstructure_enum(member: Enum) -> Any:
    value = member.value
    if isinstance(value, str):
        return str(value)  # the plain value, not the member (a StrEnum member is a str)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


#: Currencies already read, by code: a `Currency` is an immutable value, so one can be shared.
_CURRENCIES: dict[str, Currency] = {}


def _structure_currency(value: object, _: type) -> Currency:
    if type(value) is str:
        known = _CURRENCIES.get(value)
        if known is None:
            known = _CURRENCIES[value] = Currency.of(value)
        return known
    return Currency.of(_structure_str(value, str))


def _is_sequence(t: Any) -> bool:
    origin = get_origin(t)
    args: tuple[Any, ...] = getattr(t, "__args__", ())
    return origin is list or (origin is tuple and args[1:] == (Ellipsis,))


def _strict_sequence(t: Any, converter: cattrs.Converter) -> Hook:
    """cattrs' own list/tuple hooks, refusing anything that is not a JSON array (a string is
    iterable, and would otherwise become a tuple of characters)."""
    tuple_of = get_origin(t) is tuple
    inner = (homogenous_tuple_structure_factory if tuple_of else list_structure_factory)(
        t, converter
    )

    def structure(value: object, _: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise _Refused(f"expected a list, got {_kind(value)}")
        return inner(value, t)

    return structure


def _structure_int_key(key: str, _: Any) -> int:
    if not _PLAIN_INT.fullmatch(key):
        raise _Refused(f"{key!r} is not an integer key")
    return int(key)


def _is_mapping(t: Any) -> bool:
    origin = get_origin(t)
    return origin is dict or origin is Mapping


def _mapping_hooks(t: Any, converter: cattrs.Converter) -> tuple[Hook, Hook]:
    """JSON objects have string keys: string (and string-valued enum) keys stay as they are,
    int keys are written as decimal strings and read back strictly."""
    key_type, value_type = t.__args__
    value_in, value_out = (
        converter.get_structure_hook(value_type),
        converter.get_unstructure_hook(value_type),
    )
    key_in: Hook = converter.get_structure_hook(key_type)
    key_out: Hook = converter.get_unstructure_hook(key_type)
    if key_type is int:
        key_in, key_out = _structure_int_key, str

    def structure(value: object, _: Any) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise _Refused(f"expected an object, got {_kind(value)}")
        out, errors = {}, []
        for key, item in value.items():
            try:
                out[key_in(key, key_type)] = value_in(item, value_type)
            except Exception as error:  # collected, as cattrs does, to report every path
                note = IterableValidationNote(f"value @ key {key!r}", key, value_type)
                errors.append(_with_note(error, note))
        if errors:
            raise IterableValidationError(f"While structuring {t!r}", errors, dict)
        return out

    def unstructure(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
        return {key_out(key): value_out(item) for key, item in mapping.items()}

    return structure, unstructure
