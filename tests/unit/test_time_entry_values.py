"""New time entries go to the driver converted by hand on the ingest path: exactly what the
columns' own types would have written, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, localcontext

import attrs
import pytest
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.time_entry_rows import TIME_ENTRY_NAMES, time_entry_values
from domain.ids import ObligationId, ResourceId, Role, TaskId, TimeEntryId
from domain.time_entry import TimeEntry

ENTRIES = [
    TimeEntry.received_approved(
        TimeEntryId(f"t{n}"),
        ObligationId("tm"),
        ResourceId("r1"),
        Role("consultant"),
        date(2026, 3, n + 1),
        hours,
        task_id=TaskId("T1"),
        billable=billable,
        cost_rate=cost,
    )
    for n, (hours, billable, cost) in enumerate(
        [
            (Decimal("8"), True, None),
            (Decimal("7.50"), False, Decimal("61.25")),
            (Decimal("0.25"), True, Decimal("0")),
            (Decimal("1E+1"), True, Decimal("80.000")),
        ]
    )
]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_the_hand_conversion_writes_what_the_column_types_write(dialect: object) -> None:
    processors = [
        t.time_entries.c[name].type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[arg-type]
        for name in TIME_ENTRY_NAMES
    ]
    by_types = [
        tuple(
            row[name] if p is None else p(row[name])
            for name, p in zip(TIME_ENTRY_NAMES, processors, strict=True)
        )
        for row in (codec.time_entry_row(e) for e in ENTRIES)
    ]
    by_hand = time_entry_values(ENTRIES, sqlite=dialect.name == "sqlite")  # type: ignore[attr-defined]
    assert by_hand == by_types
    assert [type(v) for row in by_hand for v in row] == [type(v) for row in by_types for v in row]


def test_every_time_entry_column_is_written() -> None:
    assert set(TIME_ENTRY_NAMES) == set(codec.time_entry_row(ENTRIES[0]))


def test_a_float_in_an_exact_column_is_refused() -> None:
    entry = ENTRIES[0]
    entry.hours = 8.0  # type: ignore[assignment]
    try:
        with pytest.raises(TypeError):
            time_entry_values([entry], sqlite=True)
    finally:
        entry.hours = Decimal("8")


def test_a_timestamp_as_work_date_is_refused_even_beside_the_same_day_as_a_date() -> None:
    first, second = ENTRIES[0], attrs.evolve(ENTRIES[0], entry_id=TimeEntryId("t-stamped"))
    second.work_date = datetime.combine(first.work_date, time())
    with pytest.raises(TypeError):
        time_entry_values([first, second], sqlite=True)


def test_amounts_of_their_own_are_converted_with_them_beside_the_shared_zeros() -> None:
    decided = TimeEntry.received_approved(
        TimeEntryId("t-held"),
        ObligationId("tm"),
        ResourceId("r1"),
        Role("consultant"),
        date(2026, 3, 9),
        Decimal("6"),
    )
    decided.hold(Decimal("1.50"), "over the cap", datetime(2026, 3, 9, tzinfo=UTC))
    rows = time_entry_values([ENTRIES[0], decided, ENTRIES[1]], sqlite=True)
    held = TIME_ENTRY_NAMES.index("held")
    assert [row[held] for row in rows] == ["0", "1.50", "0"]
    assert [row[TIME_ENTRY_NAMES.index("state")] for row in rows] == [
        "approved",
        "held",
        "approved",
    ]


@pytest.mark.parametrize(
    "text", ["1E+1", "2.5E+2", "1E-7", "0E-7", "0E+2", "-0", "0.000001", "7.50", "123456789.125"]
)
def test_sqlite_gets_plain_digits_whatever_notation_the_decimal_chose(text: str) -> None:
    entry = attrs.evolve(ENTRIES[0], hours=Decimal(text), cost_rate=Decimal(text))
    plain = format(Decimal(text), "f")
    for capitals in (1, 0):  # `str` writes "e" under a context without capitals
        with localcontext() as context:
            context.capitals = capitals
            (row,) = time_entry_values([entry], sqlite=True)
        assert (row[TIME_ENTRY_NAMES.index("hours")], row[TIME_ENTRY_NAMES.index("cost_rate")]) == (
            plain,
            plain,
        )


def test_entries_sharing_their_hours_each_get_them_and_equal_hours_keep_their_own_text() -> None:
    shared = Decimal("1.5")
    entries = [
        attrs.evolve(ENTRIES[0], entry_id=TimeEntryId(f"s{n}"), hours=hours)
        for n, hours in enumerate([shared, shared, Decimal("1.50"), shared, Decimal("1.5")])
    ]
    at = TIME_ENTRY_NAMES.index("hours")

    rows = time_entry_values(entries, sqlite=True)

    assert [row[at] for row in rows] == ["1.5", "1.5", "1.50", "1.5", "1.5"]
