"""A request's Idempotency-Key fingerprint reads the same canonical text of its body whichever
path writes it: a retry must match the first request, before and after an upgrade."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from application import idempotency
from entrypoints.http.body_fingerprint import body_fingerprint, canonical_text, quick_path_for
from entrypoints.http.routes.delivery import TimeEntriesBody


class Line(msgspec.Struct):
    text: str
    count: int
    flag: bool | None
    amount: Decimal
    on: date
    tags: list[str]
    notes: dict[str, str]


class Measured(msgspec.Struct):
    text: str
    ratio: float


texts = st.text(max_size=12)
lines = st.builds(
    Line,
    text=texts,
    count=st.integers(),
    flag=st.none() | st.booleans(),
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=2),
    on=st.dates(),
    tags=st.lists(texts, max_size=3),
    notes=st.dictionaries(texts, texts, max_size=3),
)


def standard_library_text(body: object) -> str:
    """The canonical text as the fingerprint has always written it."""
    return idempotency.canonical_json(msgspec.to_builtins(body))


@given(lines)
def test_a_body_of_text_numbers_and_dates_reads_the_same_whatever_its_characters(
    line: Line,
) -> None:
    assert canonical_text(line) == standard_library_text(line)


@given(texts, st.floats(allow_nan=False, allow_infinity=False))
def test_a_body_holding_a_float_reads_the_same(text: str, ratio: float) -> None:
    body = Measured(text, ratio)
    assert canonical_text(body) == standard_library_text(body)


@pytest.mark.parametrize("task", ["T-1", "Tâche"])
def test_a_batch_of_time_entries_keeps_the_fingerprint_it_had_before(task: str) -> None:
    fields = ("entry_id", "engagement_id", "obligation_id", "resource_id", "role")
    entries = [
        {**{name: f"{name[:3]}-{n}" for name in fields}, "work_date": f"2026-03-0{n}",
         "hours": "7.5", "task_id": task if n == 2 else "T-1"}
        for n in (1, 2, 3)
    ]  # fmt: skip
    body = msgspec.json.decode(json.dumps({"entries": entries}), type=TimeEntriesBody)
    before = idempotency.fingerprint("POST", "/time-entries", msgspec.to_builtins(body))
    assert body_fingerprint("POST", "/time-entries", body) == before
    assert quick_path_for(TimeEntriesBody)  # the batch route's body takes the quicker path


class Renamed(msgspec.Struct, rename="camel", omit_defaults=True):
    zone_name: str
    line: Line
    also_known_as: list[str] = []
    on_hold: bool = False


@given(texts, lines, st.lists(texts, max_size=2), st.booleans())
def test_a_struct_written_as_it_is_reads_as_its_plain_values_do(
    name: str, line: Line, aliases: list[str], held: bool
) -> None:
    # The names on the wire, sorted; defaults left out where the struct leaves them out.
    body = Renamed(name, line, aliases, held)
    assert canonical_text(body) == standard_library_text(body)


def test_a_body_holding_a_float_or_anything_goes_the_standard_librarys_way() -> None:
    assert not quick_path_for(Measured)
    assert not quick_path_for(dict)


def test_no_body_reads_as_an_empty_object() -> None:
    assert canonical_text(None) == "{}"
