"""A request body read once, from its bytes straight into the route's struct, when the strict
reading (ADR 0023) provably has nothing to refuse in it (ADR 0063).

The body gate reads every JSON body with `application.strict_json` and Litestar then converts
the document into the route's struct: two passes over a batch of a thousand time entries, each
building a thousand dictionaries. msgspec can decode the bytes into the struct in one pass, with
the struct's own checks (types, patterns, lengths, unknown fields), but it keeps the last of a
repeated key where the strict reading refuses the body. `typed_reader(T)` is that one pass for
a body type whose every value the strict reading could only accept, used only when it can show
the strict reading has nothing to say about these bytes; whenever it cannot, it answers None
and the gate reads the body as before, so every refusal is the one it always was (the same
problem, the same pointers).

A body type qualifies (`typed_reader` is None otherwise) when every object in it is a struct
that refuses unknown fields, and every other value is text of a bounded length (a `max_length`,
or a pattern anchored at both ends whose longest match is bounded) at most `MAX_TEXT_LENGTH`,
a flag, null, a date, a list of these or a union of these with null: no number (the strict
reading refuses what a double cannot hold, msgspec would not), no mapping with keys of the
client's choosing, nothing nested deeper than `MAX_DEPTH`.

For such a type and a body with no backslash and no DEL, msgspec's success means the strict
reading accepts too: the body is one JSON document in UTF-8 (msgspec checks both, and refuses a
raw control character in a string), no string holds an escape (so none holds a refused
character) and none is longer than its type allows, every key is a field name. What is left is
a repeated key, which msgspec does not report. A second decode into a mirror of the type whose
fields are all optional says how many keys the objects hold once; the body writes at least as
many keys, and more exactly when some object repeats one. Counting the keys the body writes:
each is followed by one colon outside any string, and nothing else outside strings is a colon,
so the body's colons are its keys plus those inside values; equal to the keys held once, there
is no repeat. When some value holds a colon, the keys are counted themselves: with no
backslash no string holds a `"`, so every `"` opens or closes a string, and every key is a
string closed by a `"` followed by optional whitespace and `:` (a string that begins with `:`
is counted too, which only makes the check fail safe).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

import msgspec
import msgspec.inspect as mi

from application.strict_json import MAX_DEPTH, MAX_KEY_LENGTH, MAX_TEXT_LENGTH
from entrypoints.http import unpatterned

#: A string closed and followed by whitespace, then a colon: a key written as `"key" : ...`.
_LOOSE_KEY = re.compile(rb'"[ \t\n\r]+:')
_LOOSE_STARTS = (b'" ', b'"\t', b'"\n', b'"\r')
_LEAVES = (mi.BoolType, mi.NoneType, mi.DateType)

Reader = Callable[[bytes], Any]


@functools.cache
def typed_reader(body_type: Any) -> Reader | None:
    """The one-pass reader of bodies of `body_type`, or None when the type does not qualify
    (see the module doc). The reader answers the decoded struct, or None: read it as before."""
    try:
        info = mi.type_info(body_type)
    except (TypeError, ValueError):
        return None
    if not isinstance(info, mi.StructType) or not _qualifies(info, 1):
        return None
    decoder = msgspec.json.Decoder(body_type)
    keys_decoder = msgspec.json.Decoder(_mirror(info))
    count_keys = _key_counter(info)
    # The same value, the patterns searched once per distinct value (unpatterned.py).
    twin, least = unpatterned.reader(body_type), unpatterned.lower_bound(body_type)

    def read(body: bytes) -> Any:
        if b"\\" in body or b"\x7f" in body:
            return None
        try:
            value = None if twin is None else twin(body)
            if value is None:
                value = decoder.decode(body)
            # Every key is followed by one colon; a colon inside a value only adds to the
            # count. As many colons as keys the value certainly came with: none repeated.
            written = body.count(b":")
            if least is not None and written == least(value):
                return value
            written_once = count_keys(keys_decoder.decode(body))
        except msgspec.MsgspecError:
            return None
        if written != written_once:  # a colon in some value: count the keys themselves
            written = keys_written(body)
        return value if written == written_once else None

    return read


def keys_written(body: bytes) -> int:
    """How many keys a JSON document without backslashes writes (every key counted; a string
    that begins with `:` or with whitespace and `:` counted too)."""
    count = body.count(b'":')
    if any(start in body for start in _LOOSE_STARTS):
        count += len(_LOOSE_KEY.findall(body))
    return count


# -- which types qualify ------------------------------------------------------------------------


def _qualifies(info: mi.Type, depth: int) -> bool:
    if depth >= MAX_DEPTH:
        return False
    if isinstance(info, mi.Metadata):
        return _qualifies(info.type, depth)
    if isinstance(info, mi.StructType):
        return (
            info.forbid_unknown_fields
            and not info.array_like
            and info.tag_field is None
            and all(
                len(field.encode_name) <= MAX_KEY_LENGTH and _qualifies(field.type, depth + 1)
                for field in info.fields
            )
        )
    if isinstance(info, mi.ListType):
        return _qualifies(info.item_type, depth + 1)
    if isinstance(info, mi.UnionType):
        return all(_is_leaf(member) for member in info.types)
    return _is_leaf(info)


def _is_leaf(info: mi.Type) -> bool:
    if isinstance(info, mi.Metadata):
        return _is_leaf(info.type)
    if isinstance(info, mi.StrType):
        longest = _longest_text(info)
        return longest is not None and longest <= MAX_TEXT_LENGTH
    return isinstance(info, _LEAVES)


def _longest_text(info: mi.StrType) -> int | None:
    """The longest text the type accepts, if it has a bound: its `max_length`, or the longest
    match of a pattern anchored at both ends (msgspec searches the pattern in the text)."""
    bounds = [] if info.max_length is None else [info.max_length]
    if info.pattern is not None:
        longest = longest_match(info.pattern)
        if longest is not None:
            bounds.append(longest)
    return min(bounds) if bounds else None


def longest_match(pattern: str) -> int | None:
    """The longest text a search for `pattern` can accept whole: bounded only for a pattern
    that starts with `^` and ends with `$` (no multi-line flag) and repeats nothing without an
    upper bound; None otherwise. (Read with the standard library's own regular-expression
    parser, whose width is what `re` itself uses.)"""
    parsed = sre_parser.parse(pattern)
    items = list(parsed)
    anchored = (
        len(items) >= 2
        and items[0] == (sre_constants.AT, sre_constants.AT_BEGINNING)
        and items[-1] == (sre_constants.AT, sre_constants.AT_END)
        and not parsed.state.flags & re.MULTILINE
    )
    if not anchored:
        return None
    longest = int(parsed.getwidth()[1])
    return longest if longest < sre_constants.MAXREPEAT else None


# -- counting each object's keys once -----------------------------------------------------------


def _mirror(info: mi.StructType) -> type[msgspec.Struct]:
    """The struct's mirror: the same keys, each optional (UNSET when absent), nested structs
    mirrored, every other value kept raw (not decoded)."""
    fields: list[tuple[str, Any, Any]] = []
    for n, field in enumerate(info.fields):
        inner = _unwrapped(field.type)
        kind: Any = msgspec.Raw
        if isinstance(inner, mi.StructType):
            kind = _mirror(inner)
        elif isinstance(inner, mi.ListType):
            item = _unwrapped(inner.item_type)
            if isinstance(item, mi.StructType):
                kind = list[_mirror(item)]  # type: ignore[misc]
        fields.append((f"f{n}", kind, msgspec.UNSET))
    rename = {f"f{n}": field.encode_name for n, field in enumerate(info.fields)}
    return msgspec.defstruct(f"{info.cls.__name__}Keys", fields, rename=rename)


def _key_counter(info: mi.StructType) -> Callable[[Any], int]:
    """Counts the keys present in a decoded mirror of `info` and every object inside it."""
    width = len(info.fields)
    nested: list[tuple[int, Callable[[Any], int], bool]] = []
    for n, field in enumerate(info.fields):
        inner = _unwrapped(field.type)
        if isinstance(inner, mi.StructType):
            nested.append((n, _key_counter(inner), False))
        elif isinstance(inner, mi.ListType):
            item = _unwrapped(inner.item_type)
            if isinstance(item, mi.StructType):
                nested.append((n, _key_counter(item), True))
    astuple, unset = msgspec.structs.astuple, msgspec.UNSET

    def count(mirror: Any) -> int:
        values = astuple(mirror)
        present = width - values.count(unset)
        for n, inner_count, many in nested:
            value = values[n]
            if value is unset:
                continue
            present += sum(map(inner_count, value)) if many else inner_count(value)
        return present

    return count


def _unwrapped(info: mi.Type) -> mi.Type:
    return info.type if isinstance(info, mi.Metadata) else info
