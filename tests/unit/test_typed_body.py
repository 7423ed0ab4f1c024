"""A body read in one pass from its bytes into the route's struct is read only when the strict
reading (ADR 0023) and Litestar's conversion would accept it as that very struct; any body they
would refuse, or that the one pass cannot prove they would accept, is read the old way."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import PayloadError
from application.strict_json import decode_json
from entrypoints.http.problems import CURRENCY_PATTERN, DECIMAL_PATTERN, ID_PATTERN, MONTH_PATTERN
from entrypoints.http.routes.common import DecimalString, Id
from entrypoints.http.routes.delivery import (
    _TIME_EXAMPLE,
    ExpenseIn,
    ExpensesBody,
    TimeEntriesBody,
    TimeEntryIn,
)
from entrypoints.http.typed_body import keys_written, longest_match, typed_reader

REFUSED = "refused"


class Note(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=40)]
    pinned: bool = False


class Nested(msgspec.Struct, forbid_unknown_fields=True):
    """A body with a nested object, a list of scalars, a union with null and a date."""

    ref: Id
    note: Note
    tags: list[Annotated[str, msgspec.Meta(max_length=10)]] = []
    amount: DecimalString | None = None
    on: date | None = None


BODY_TYPES = (TimeEntriesBody, ExpensesBody, Nested)


def old_reading(body: bytes, body_type: type) -> Any:
    """The gate's strict reading, then Litestar's conversion of the document (lax, as Litestar
    converts a handler's arguments)."""
    try:
        document = decode_json(body)
    except PayloadError:
        return REFUSED
    try:
        return msgspec.convert(document, body_type, strict=False, str_keys=True)
    except msgspec.ValidationError:
        return REFUSED


def entry(n: int, **more: object) -> dict[str, object]:
    """The route's documented entry, under its own id."""
    return {**_TIME_EXAMPLE["entries"][0], "entry_id": f"PSA-{n}", **more}


def batch(*entries: dict[str, object]) -> bytes:
    return json.dumps({"entries": list(entries)}).encode()


def read(body: bytes, body_type: type = TimeEntriesBody) -> Any:
    reader = typed_reader(body_type)
    assert reader is not None
    return reader(body)


def test_a_plain_batch_is_read_in_one_pass_as_the_struct_the_old_reading_makes() -> None:
    body = batch(entry(1), entry(2, task_id="T-1", billable=False, cost_rate="80.00"))

    struct = read(body)

    assert isinstance(struct, TimeEntriesBody)
    assert struct == old_reading(body, TimeEntriesBody)


@pytest.mark.parametrize(
    "body",
    [
        b'{"entries":[{"entry_id":"A","entry_id":"B","engagement_id":"E1","obligation_id":"tm",'
        b'"resource_id":"r","role":"c","work_date":"2026-03-02","hours":"1"}]}',
        b'{"entries" :[{"entry_id":"A","engagement_id":"E1","obligation_id":"tm",'
        b'"resource_id":"r","role":"c","work_date":"2026-03-02","hours":"1","hours" : "2"}]}',
        b'{"entries":[],"entries":[{"entry_id":"A","engagement_id":"E1","obligation_id":"tm",'
        b'"resource_id":"r","role":"c","work_date":"2026-03-02","hours":"1"}]}',
        b'{"approved_by":"x","entries":[{"entry_id":"A","engagement_id":"E1",'
        b'"obligation_id":"tm","resource_id":"r","role":"c","work_date":"2026-03-02",'
        b'"hours":"1","billable":true,"billable":true}],"approved_by":"x"}',
    ],
    ids=["in an entry", "in an entry, written loosely", "the batch's list", "a default, twice"],
)
def test_a_repeated_key_is_left_to_the_strict_reading(body: bytes) -> None:
    assert old_reading(body, TimeEntriesBody) == REFUSED
    assert read(body) is None


@pytest.mark.parametrize(
    "body",
    [
        batch(entry(1, role="caf\u00e9\\")),  # an escape
        batch(entry(1, role="a\u007fb")),  # DEL
        batch(entry(1, hours=7.5)),  # a number for an amount
        batch(entry(1, colour="red")),  # an unknown field
        batch(entry(1, role=":first")),  # a value that looks like a key's colon: not proven
    ],
    ids=["escape", "DEL", "number", "unknown field", "leading colon"],
)
def test_a_body_the_one_pass_cannot_prove_is_read_the_old_way(body: bytes) -> None:
    assert read(body) is None


def test_a_colon_inside_a_value_still_lets_the_one_pass_read_and_see_a_repeat() -> None:
    plain = batch(entry(1, resource_id="urn:r:ana"))
    repeated = plain.replace(b'"role": "consultant"', b'"role": "consultant", "role": "lead"')

    assert read(plain) == old_reading(plain, TimeEntriesBody)
    assert old_reading(repeated, TimeEntriesBody) == REFUSED
    assert read(repeated) is None


def test_keys_are_counted_however_the_body_spaces_them() -> None:
    assert keys_written(b'{"a":"x:y","b" :\n"c","d"\t\r :[]}') == 3
    assert keys_written(b'{"a": ":b"}') == 2  # a value that begins with a colon: one more


def test_the_longest_text_a_pattern_accepts_is_read_from_the_pattern() -> None:
    assert longest_match(ID_PATTERN) == 100
    assert longest_match(DECIMAL_PATTERN) == 27
    assert longest_match(CURRENCY_PATTERN) == 3
    assert longest_match(MONTH_PATTERN) == 7
    assert longest_match(r"^a+$") is None  # unbounded
    assert longest_match(r"^a{0,9}") is None  # not anchored at the end
    assert longest_match(r"^a$|^b{0,3000}$") is None  # an alternative escapes the anchors


class Unbounded(msgspec.Struct, forbid_unknown_fields=True):
    text: str


class Lenient(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(max_length=10)]


class Numeric(msgspec.Struct, forbid_unknown_fields=True):
    ratio: float


class Keyed(msgspec.Struct, forbid_unknown_fields=True):
    by_name: dict[str, bool]


class Long(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=2_001)]


@pytest.mark.parametrize(
    "body_type",
    [Unbounded, Lenient, Numeric, Keyed, Long, dict[str, str], list[Note], Note | None],
    ids=[
        "text without a bound",
        "unknown fields allowed",
        "a number",
        "keys of the client's choosing",
        "text longer than the gate allows",
        "a mapping",
        "a list",
        "optional",
    ],
)
def test_a_body_type_the_strict_reading_could_refuse_inside_is_never_read_in_one_pass(
    body_type: Any,
) -> None:
    assert typed_reader(body_type) is None


@pytest.mark.parametrize("body_type", BODY_TYPES, ids=lambda t: t.__name__)
def test_the_batch_and_other_bodies_qualify(body_type: type) -> None:
    assert typed_reader(body_type) is not None


# -- any body --------------------------------------------------------------------------------

_FIELDS = {
    TimeEntriesBody: ("entries", "approved_by"),
    ExpensesBody: ("items", "approved_by"),
    Nested: ("ref", "note", "tags", "amount", "on"),
}
_INNER = [
    field.encode_name
    for struct in (TimeEntryIn, ExpenseIn, Note)
    for field in msgspec.structs.fields(struct)
]
_TEXT = st.sampled_from(
    ["E1", "tm", "r-ana", "7.5", "80.00", "EUR", "2026-03-02", "a:b", ":x", " :", "{", "}", ""]
) | st.text(max_size=12)
_SCALARS = (
    _TEXT | st.booleans() | st.none() | st.integers(-5, 5) | st.sampled_from([1.5, 1e400, -0.0])
)
_SPACE = st.sampled_from(["", " ", "\n", "\t ", "\r\n"])


@st.composite
def _value(draw: st.DrawFn, depth: int) -> str:
    if depth >= 2 or draw(st.integers(0, 3)):
        return json.dumps(draw(_SCALARS), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        items = draw(st.lists(_value(depth + 1), max_size=3))
        return "[" + ",".join(items) + "]"
    return draw(_object(_INNER, depth + 1))


@st.composite
def _object(draw: st.DrawFn, names: tuple[str, ...] | list[str], depth: int) -> str:
    keys = draw(st.lists(st.sampled_from(names) | st.sampled_from(["colour", "x"]), max_size=7))
    parts = [f"{json.dumps(key)}{draw(_SPACE)}:{draw(_SPACE)}{draw(_value(depth))}" for key in keys]
    return "{" + draw(_SPACE) + ",".join(parts) + draw(_SPACE) + "}"


@st.composite
def _near_valid(draw: st.DrawFn, body_type: type) -> bytes:
    """A valid body of the type, then perhaps one key repeated somewhere."""
    if body_type is Nested:
        document: Any = {"ref": "R1", "note": {"text": draw(_TEXT)}}
        if draw(st.booleans()):
            document["tags"] = draw(st.lists(st.sampled_from(["a", "b:c", ":"]), max_size=3))
        if draw(st.booleans()):
            document["amount"] = draw(st.sampled_from(["1.50", None]))
    else:
        list_name = _FIELDS[body_type][0]
        items = [
            entry(n, **draw(st.fixed_dictionaries({}, optional={"task_id": _TEXT})))
            if body_type is TimeEntriesBody
            else {
                "expense_id": f"X{n}",
                "engagement_id": "E1",
                "obligation_id": "tm",
                "resource_id": "r",
                "category": "travel",
                "incurred_on": "2026-03-04",
                "amount": "1.00",
                "currency": "EUR",
            }
            for n in range(draw(st.integers(1, 3)))
        ]
        document = {list_name: items}
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (",", " : ")]))
    text = json.dumps(document, separators=separators, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # repeat one key where it stands: `"k":v` becomes `"k":v,"k":v`
        key = draw(st.sampled_from([*_FIELDS[body_type], *_INNER]))
        head, found, tail = text.partition(f'"{key}"')
        if found:
            value_end = _value_end(tail)
            pair = found + tail[:value_end]
            text = head + pair + "," + pair + tail[value_end:]
    return text.encode()


def _value_end(tail: str) -> int:
    """Where the value that starts `tail` (after its colon) ends, read by the JSON decoder itself.

    Scanning by hand for brackets miscounted a bracket inside a string value (`"task_id":"["`).
    """
    start = tail.index(":") + 1
    while tail[start] in " \n\t\r":
        start += 1
    _, end = json.JSONDecoder().raw_decode(tail, start)
    return end


def _any_body(body_type: type) -> st.SearchStrategy[bytes]:
    made_up = _object(_FIELDS[body_type], 0).map(str.encode)
    return _near_valid(body_type) | made_up


@pytest.mark.parametrize("body_type", BODY_TYPES, ids=lambda t: t.__name__)
@given(data=st.data())
def test_the_one_pass_reads_only_what_the_old_reading_accepts_and_reads_it_the_same(
    body_type: type, data: st.DataObject
) -> None:
    body = data.draw(_any_body(body_type))
    reader = typed_reader(body_type)
    assert reader is not None

    struct = reader(body)

    if struct is not None:
        assert struct == old_reading(body, body_type)
