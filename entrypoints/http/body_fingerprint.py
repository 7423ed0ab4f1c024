"""The canonical JSON of a validated request body, which its Idempotency-Key fingerprint reads.

`application.idempotency.canonical_json` defines the text: the body's plain values, sorted
keys, no whitespace, everything outside printable ASCII escaped, floats as Python writes them.
A batch of a thousand time entries takes the standard library about 2 ms to write that way;
msgspec writes the same text in a tenth of it whenever the two agree, which they do when the
text is printable ASCII (msgspec leaves other characters unescaped) and the body's type holds
no float (the two write exponents differently) and no mapping keyed by anything but text.
Those are checked, the type once; anything else goes the standard library's way, so a
fingerprint never depends on which path wrote it (a retry after an upgrade still matches).
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from msgspec import inspect as mi

from application import idempotency

#: Types msgspec's plain values write exactly as the standard library writes them.
_SCALARS = (
    mi.StrType, mi.IntType, mi.BoolType, mi.NoneType, mi.DecimalType, mi.DateType,
    mi.DateTimeType, mi.TimeType, mi.UUIDType, mi.BytesType,
)  # fmt: skip
_ITEMS = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)


def body_fingerprint(method: str, route: str, body: object) -> str:
    """The request's fingerprint: method, route and the canonical JSON of its body."""
    return idempotency.fingerprint_of(method, route, canonical_text(body))


def canonical_text(body: object) -> str:
    """`idempotency.canonical_json` of the body's plain values, by the quicker of two paths
    that give the same text."""
    if body is not None and quick_path_for(type(body)):
        # A struct is written as it is: its plain values are the mapping of its fields by
        # their names on the wire, which msgspec writes the same way (sorted alike), without
        # first building them (for a batch, a dictionary per entry).
        quick = body if isinstance(body, msgspec.Struct) else msgspec.to_builtins(body) or {}
        text = msgspec.json.encode(quick, order="sorted")
        if text.isascii() and b"\x7f" not in text:
            return text.decode("ascii")
    plain: Any = msgspec.to_builtins(body) if body is not None else None
    return idempotency.canonical_json(plain)


@functools.cache
def quick_path_for(kind: type) -> bool:
    """Whether every value of this type has plain values msgspec writes as the standard library
    does (no float anywhere, mappings keyed by text)."""
    try:
        info = mi.type_info(kind)
    except (TypeError, ValueError):
        return False
    return _agrees(info, set())


def _agrees(info: mi.Type, seen: set[int]) -> bool:
    if isinstance(info, mi.Metadata):  # a constrained type: the constraint writes nothing
        return _agrees(info.type, seen)
    if isinstance(info, _SCALARS):
        return True
    if isinstance(info, mi.StructType):
        if id(info) in seen:
            return True
        seen.add(id(info))
        return all(_agrees(field.type, seen) for field in info.fields)
    if isinstance(info, _ITEMS):
        return _agrees(info.item_type, seen)
    if isinstance(info, mi.TupleType):
        return all(_agrees(item, seen) for item in info.item_types)
    if isinstance(info, mi.DictType):
        return isinstance(info.key_type, mi.StrType) and _agrees(info.value_type, seen)
    if isinstance(info, mi.UnionType):
        return all(_agrees(member, seen) for member in info.types)
    if isinstance(info, mi.LiteralType):
        return all(isinstance(value, str | int) for value in info.values)
    if isinstance(info, mi.EnumType):
        return all(isinstance(member.value, str | int) for member in info.cls)
    return False  # floats, Any, and whatever this module does not know
