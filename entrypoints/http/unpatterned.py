"""A body decoded with its text patterns checked once per distinct value, after the decode.

msgspec checks a field's `pattern` by calling the pattern's search for every value it decodes,
one call from C into Python per value: in a batch of a thousand time entries, six thousand
calls, four fifths of the decode (ADR 0058, amendment of 2026-12-07 on the batch's edge). The
*twin* of a body type is the same type with every pattern left out and every other constraint
kept (lengths, unknown fields refused, defaults, names on the wire). `reader(T)` decodes into
the twin, searches each pattern over the distinct values of its field (a batch repeats its
engagements, obligations, roles and hours), and builds the body type's own structs from the
twin's values. It answers exactly what decoding into `T` answers, or None where that would
refuse (a value that misses its pattern, or anything the twin refuses): the caller then decodes
into `T` itself, as before, so a refusal is always the one it was.

`lower_bound(T)` counts, in a decoded body, the keys the body certainly wrote: each required
field, and each optional field whose value is not its default (a default may have been sent
or not). A body whose colons are no more than that count wrote each key once (typed_body.py).

Types outside what the one-pass reader takes (structs, lists, bounded text, flags, dates, null
and unions with null) have no twin (`reader` answers None for the type).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable
from datetime import date
from operator import attrgetter
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi

Decode = Callable[[bytes], Any]
_NODEFAULT = msgspec.NODEFAULT


@functools.cache
def reader(body_type: Any) -> Decode | None:
    """Bytes to a `body_type` value through its twin, or None (see the module doc); None for
    a type without a twin."""
    info = mi.type_info(body_type)
    if not isinstance(info, mi.StructType):
        return None
    try:
        plan = _Struct(info)
    except _NoTwin:
        return None
    decoder = msgspec.json.Decoder(plan.twin)

    def decode(body: bytes) -> Any:
        try:
            twin = decoder.decode(body)
        except msgspec.MsgspecError:
            return None
        return plan.build(twin) if plan.fits(twin) else None

    return decode


@functools.cache
def lower_bound(body_type: Any) -> Callable[[Any], int] | None:
    """The count of keys a decoded `body_type` value certainly came with (see the module
    doc), or None for a type without a twin."""
    try:
        return _Struct(mi.type_info(body_type)).keys_at_least
    except _NoTwin:
        return None


class _NoTwin(Exception):
    """The type holds something the one-pass reader does not take."""


def _unwrapped(info: mi.Type) -> mi.Type:
    return info.type if isinstance(info, mi.Metadata) else info


class _Leaf:
    """A value that is not an object or a list: its twin type and its pattern's search."""

    def __init__(self, info: mi.Type) -> None:
        info = _unwrapped(info)
        self.search: Callable[[str], object] | None = None
        if isinstance(info, mi.UnionType):
            members = [_unwrapped(member) for member in info.types]
            if len(members) != 2 or mi.NoneType() not in members:
                raise _NoTwin
            (inner,) = (member for member in members if member != mi.NoneType())
            self.twin: Any = _Leaf(inner).twin | None
            self.search = _Leaf(inner).search
        elif isinstance(info, mi.StrType):
            self.twin = Annotated[
                str, msgspec.Meta(min_length=info.min_length, max_length=info.max_length)
            ]
            if info.pattern is not None:
                self.search = re.compile(info.pattern).search
        elif isinstance(info, mi.BoolType):
            self.twin = bool
        elif isinstance(info, mi.NoneType):
            self.twin = None
        elif isinstance(info, mi.DateType):
            self.twin = date
        else:
            raise _NoTwin

    @property
    def searched(self) -> bool:
        """Whether the value has a pattern to meet."""
        return self.search is not None

    def all_fit(self, values: Iterable[Any]) -> bool:
        """Whether each of the values (None where the type allows it) meets the pattern."""
        if self.search is None:
            return True
        found = set(values)
        found.discard(None)
        return all(map(self.search, found))


class _List:
    def __init__(self, info: mi.ListType) -> None:
        self.item = _plan(info.item_type)
        bounds = msgspec.Meta(min_length=info.min_length, max_length=info.max_length)
        self.twin = Annotated[list[self.item.twin], bounds]  # type: ignore[name-defined]
        self.searched = self.item.searched


class _Struct:
    """A struct's twin, the check of its values' patterns and the build of the struct itself."""

    def __init__(self, info: mi.Type) -> None:
        info = _unwrapped(info)
        if not isinstance(info, mi.StructType) or info.array_like or info.tag_field:
            raise _NoTwin
        positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
        if any(p.kind != positional for p in inspect.signature(info.cls).parameters.values()):
            raise _NoTwin  # built from the twin's values in order: no keyword-only field
        self.cls = info.cls
        self.fields = [(field, _plan(field.type)) for field in info.fields]
        self.twin = msgspec.defstruct(
            f"{info.cls.__name__}Twin",
            [(field.name, plan.twin, _default(field)) for field, plan in self.fields],
            forbid_unknown_fields=info.forbid_unknown_fields,
            rename={field.name: field.encode_name for field in info.fields},
        )
        self.flat = all(isinstance(plan, _Leaf) for _, plan in self.fields)
        #: The fields with a pattern to meet, in them or below them, each with its value's
        #: reader: the others are not walked (a batch's entries have ten fields, five with
        #: a pattern).
        self.checked = [
            (attrgetter(field.name), plan) for field, plan in self.fields if plan.searched
        ]
        self.searched = bool(self.checked)
        self.required = sum(field.required for field in info.fields)
        #: Each optional field's value read, and its default (made anew from a factory).
        self.optional = [(attrgetter(f.name), f) for f in info.fields if not f.required]

    def fits(self, twin: Any) -> bool:
        return self.all_fit([twin])

    def all_fit(self, twins: list[Any]) -> bool:
        """Whether every value of these twins meets its pattern."""
        for get, plan in self.checked:
            if isinstance(plan, _Leaf):
                if not plan.all_fit(map(get, twins)):
                    return False
                continue
            values = list(map(get, twins))
            if isinstance(plan, _List):
                items = [item for value in values if value is not None for item in value]
                if not _all_fit(plan.item, items):
                    return False
            if isinstance(plan, _Struct) and not plan.all_fit(values):
                return False
        return True

    def build(self, twin: Any) -> Any:
        """The struct itself, from its twin's values."""
        cls, astuple = self.cls, msgspec.structs.astuple
        if self.flat:
            return cls(*astuple(twin))
        return cls(
            *[
                _build(plan, value)
                for (_, plan), value in zip(self.fields, astuple(twin), strict=True)
            ]
        )

    def keys_at_least(self, value: Any) -> int:
        """The keys the object, and those inside it, certainly came with."""
        return self.keys_of_all([value])

    def keys_of_all(self, values: list[Any]) -> int:
        count = self.required * len(values)
        for get, field in self.optional:
            found = list(map(get, values))
            default = (
                field.default if field.default_factory is _NODEFAULT else field.default_factory()
            )
            count += len(found) - found.count(default)
        for field, plan in self.fields:
            if isinstance(plan, _Struct):
                count += plan.keys_of_all(list(map(attrgetter(field.name), values)))
            elif isinstance(plan, _List) and isinstance(plan.item, _Struct):
                inner = attrgetter(field.name)
                items = [item for value in values for item in (inner(value) or ())]
                count += plan.item.keys_of_all(items)
        return count


def _default(field: mi.Field) -> Any:
    """The twin's default of a field: the field's own (none for a required one)."""
    if field.required:
        return _NODEFAULT
    if field.default_factory is not _NODEFAULT:
        return msgspec.field(default_factory=field.default_factory)
    return field.default


def _plan(info: mi.Type) -> _Leaf | _List | _Struct:
    inner = _unwrapped(info)
    if isinstance(inner, mi.StructType):
        return _Struct(inner)
    if isinstance(inner, mi.ListType):
        return _List(inner)
    return _Leaf(info)


def _all_fit(plan: _Leaf | _List | _Struct, values: list[Any]) -> bool:
    if isinstance(plan, _Leaf):
        return plan.all_fit(values)
    if isinstance(plan, _Struct):
        return plan.all_fit(values)
    return _all_fit(plan.item, [item for value in values if value is not None for item in value])


def _build(plan: _Leaf | _List | _Struct, value: Any) -> Any:
    if value is None or isinstance(plan, _Leaf):
        return value
    if isinstance(plan, _Struct):
        return plan.build(value)
    item = plan.item
    if isinstance(item, _Leaf):
        return value
    if isinstance(item, _Struct) and item.flat:  # a batch's items: built in one loop
        cls, astuple = item.cls, msgspec.structs.astuple
        return [cls(*astuple(twin)) for twin in value]
    return [_build(item, twin) for twin in value]
