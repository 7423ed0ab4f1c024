"""Time entries as the driver takes and gives them, for the two paths that move them by the
hundred thousand: new entries as one tuple of column values each, converted by hand for the
ingest path (a test holds them equal to what the columns' own types write), and the billing
run's read of a chunk's entries as `TimeRow`s, built straight from the cursor's tuples (ADR
0069, amended): pricing reads those, and no entity is made for an entry the run only prices."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.sqlalchemy.driver_values import DAY_TEXT, EXACT_TEXT
from adapters.sqlalchemy.repository_base import Session
from domain.ids import ObligationId
from domain.time_entry import ItemState, TimeEntry
from domain.time_rows import TIME_ROW_NAMES, TimeRow

#: The columns of a new time entry, in the order `time_entry_values` gives them.
TIME_ENTRY_NAMES = (
    "entry_id", "obligation_id", "resource_id", "role", "task_id", "work_date", "hours",
    "billable", "cost_rate", "state", "held", "released", "written_off", "rejection_reason",
    "revision", "written_off_over_cap",
)  # fmt: skip


def time_entry_values(entries: Sequence[TimeEntry], sqlite: bool) -> list[tuple[Any, ...]]:
    """New time entries as the driver takes them, one tuple each: the conversions of the
    columns' own types (`ExactDecimal`'s plain decimal text and SQLite's ISO date and 0/1 on
    SQLite, the values themselves for PostgreSQL's COPY), written out for the one path that
    inserts entries by the hundred thousand; a test holds them equal to the types' own.

    The state and the held, released and written-off amounts of new entries are nearly always
    the same objects (the approved state, the fields' zero defaults): each is converted again
    only when it is another object than the previous entry's (found by identity: safe, the
    entries hold them; an enum's value and a tuple of ids per entry cost more than the rest of
    its row). So are the hours, when they are the previous entry's object (a batch decoded
    from a request shares one Decimal per distinct value sent; never compared by value:
    equal decimals may be written differently, as "1.5" and "1.50")."""
    exact = _exact_text if sqlite else _exact
    hours: object = None
    hours_value: Any = None
    #: SQLite's ISO text of each work date (a batch spans few dates; only plain dates kept).
    days: dict[date, str] = {}
    values: list[tuple[Any, ...]] = []
    append = values.append
    state: object = None
    state_value = ""
    amounts: tuple[Decimal, ...] = ()
    held_value = released_value = written_off_value = over_cap_value = None
    for e in entries:
        day: Any = e.work_date
        if sqlite:
            text = days.get(day) if day.__class__ is date else None
            if text is None:
                text = days[day] = _iso_date(day)  # refuses anything but a date
            day = text
        if e.state is not state:
            state = e.state
            state_value = e.state.value
        if e.hours is not hours:
            hours = e.hours
            hours_value = exact(e.hours)
        held, released, written_off, over_cap = (
            e.held, e.released, e.written_off, e.written_off_over_cap
        )  # fmt: skip
        if not amounts or not (
            held is amounts[0]
            and released is amounts[1]
            and written_off is amounts[2]
            and over_cap is amounts[3]
        ):
            amounts = (held, released, written_off, over_cap)
            held_value, released_value, written_off_value, over_cap_value = map(exact, amounts)
        append((
            e.entry_id, e.obligation_id, e.resource_id, e.role, e.task_id,
            day,
            hours_value,
            (1 if e.billable else 0) if sqlite else bool(e.billable),
            None if e.cost_rate is None else exact(e.cost_rate),
            state_value, held_value, released_value, written_off_value,
            e.rejection_reason, e.revision, over_cap_value,
        ))  # fmt: skip
    return values


def _exact(value: Decimal) -> Decimal:
    if value.__class__ is not Decimal or not value.is_finite():
        raise TypeError(f"an exact column takes a finite Decimal, not {value!r}")
    return value


def _exact_text(value: Decimal) -> str:
    if value.__class__ is not Decimal or not value.is_finite():
        raise TypeError(f"an exact column takes a finite Decimal, not {value!r}")
    # `str` writes the plain decimal text `format(value, "f")` does, at a third of its cost,
    # unless it chose an exponent ("1E+1", "1E-7"; "e" under a context without capitals).
    text = str(value)
    return text if "E" not in text and "e" not in text else format(value, "f")


def _iso_date(day: date) -> str:
    if day.__class__ is not date:
        raise TypeError(f"a date column takes a date, not {day!r}")
    return day.isoformat()


_ROW_COLUMNS = ", ".join(TIME_ROW_NAMES)
#: A chunk's rows, each obligation's in entry-id order (the obligations as one parameter, so
#: the statement's text never changes: a JSON array on SQLite, an array on PostgreSQL).
_ROWS_SQLITE = (
    f"SELECT {_ROW_COLUMNS} FROM time_entries"
    " WHERE obligation_id IN (SELECT value FROM json_each(?)) ORDER BY entry_id"
)
_ROWS_POSTGRESQL = (
    f"SELECT {_ROW_COLUMNS} FROM time_entries WHERE obligation_id = ANY(%s) ORDER BY entry_id"
)
_STATES = {state.value: state for state in ItemState}


def time_rows_for(session: Session, obligations: Iterable[ObligationId]) -> list[TimeRow]:
    """Every time entry of the obligations as a `TimeRow`, in entry-id order: one statement
    to the driver, each day and decimal text parsed once (`driver_values`), nothing tracked."""
    wanted = sorted(set(obligations))
    if not wanted:
        return []
    cursor = session.connection.connection.cursor()
    try:
        if session.dialect == "sqlite":
            cursor.execute(_ROWS_SQLITE, (json.dumps(wanted),))
        else:
            cursor.execute(_ROWS_POSTGRESQL, (wanted,))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    day, exact, states, new = DAY_TEXT, EXACT_TEXT, _STATES, tuple.__new__
    return [
        new(TimeRow, (
            r[0], r[1], day[r[2]], exact[r[3]], r[4], r[5], bool(r[6]), states[r[7]],
            exact[r[8]], exact[r[9]], exact[r[10]], exact[r[11]],
        ))
        for r in rows
    ]  # fmt: skip
