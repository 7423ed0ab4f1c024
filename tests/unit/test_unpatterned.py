"""A body decoded through its twin (no patterns, every other constraint kept) and its patterns
searched afterwards is the body decoding into the route's struct makes, or nothing where that
decoding refuses; and the keys a decoded body certainly came with are never more than it
wrote."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.routes.delivery import ExpensesBody, TimeEntriesBody
from entrypoints.http.typed_body import keys_written
from entrypoints.http.unpatterned import lower_bound, reader
from tests.unit.test_typed_body import BODY_TYPES, Nested, _any_body, batch, entry


def strict(body: bytes, body_type: type) -> Any:
    """The body decoded into the struct itself, or None where that refuses it."""
    try:
        return msgspec.json.decode(body, type=body_type)
    except msgspec.MsgspecError:
        return None


def test_a_batch_read_through_its_twin_is_the_struct_itself() -> None:
    body = batch(entry(1), entry(2, task_id="T-1", billable=False, cost_rate="80.00"))
    read = reader(TimeEntriesBody)
    assert read is not None

    struct = read(body)

    assert type(struct) is TimeEntriesBody
    assert struct == strict(body, TimeEntriesBody)
    assert [type(e).__name__ for e in struct.entries] == ["TimeEntryIn", "TimeEntryIn"]


@pytest.mark.parametrize(
    "wrong",
    [
        {"entry_id": "-starts-with-a-dash"},
        {"engagement_id": "E 1"},
        {"obligation_id": "tm/2"},
        {"resource_id": "r" * 101},
        {"hours": "7.5h"},
        {"cost_rate": "1e3"},
    ],
    ids=lambda wrong: next(iter(wrong)),
)
def test_a_value_that_misses_its_pattern_is_not_read_through_the_twin(
    wrong: dict[str, str],
) -> None:
    body = batch(entry(1), entry(2, **wrong), entry(3))
    read = reader(TimeEntriesBody)
    assert read is not None

    assert strict(body, TimeEntriesBody) is None
    assert read(body) is None


def test_the_keys_certainly_written_are_the_required_and_those_unlike_their_default() -> None:
    count = lower_bound(TimeEntriesBody)
    assert count is not None
    plain = entry(1)  # the documented entry: 7 required keys and a task id
    sent_default = entry(2, billable=True)  # sent, but as the default: maybe not sent
    other = entry(3, billable=False, cost_rate="80.00")
    body = batch(plain, sent_default, other)
    struct = strict(body, TimeEntriesBody)

    # "entries", 7 required keys per entry, the task id of each (not the default ""),
    # and the third entry's flag and cost rate.
    assert count(struct) == 1 + 3 * 7 + 3 + 2
    assert keys_written(body) == count(struct) + 1  # the second entry's `billable`


@pytest.mark.parametrize("body_type", [*BODY_TYPES, ExpensesBody], ids=lambda t: t.__name__)
@given(data=st.data())
def test_the_twin_reads_what_the_struct_reads_and_refuses_what_it_refuses(
    body_type: type, data: st.DataObject
) -> None:
    body = data.draw(_any_body(body_type))
    read, count = reader(body_type), lower_bound(body_type)
    assert read is not None
    assert count is not None

    struct = read(body)

    assert struct == strict(body, body_type)
    if struct is not None and b"\\" not in body:
        assert count(struct) <= keys_written(body)


def test_nested_objects_and_lists_of_text_have_a_twin_too() -> None:
    body = json.dumps({"ref": "R1", "note": {"text": "hi", "pinned": True}, "tags": ["a"]})
    read = reader(Nested)
    assert read is not None

    assert read(body.encode()) == strict(body.encode(), Nested)
    assert read(body.replace("R1", "R 1").encode()) is None
