"""Reading the CSV file `throughline import-time` takes: every row is either an entry or a
rejection with its line number and reason code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.time_entry import NO_TASK
from entrypoints.cli.time_import import HEADER, TimeFileError, read_time_file


def time_file(tmp_path: Path, *rows: str, header: str = HEADER, bom: bool = False) -> Path:
    path = tmp_path / "time.csv"
    text = "\n".join((header, *rows)) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def test_columns_may_come_in_any_order_and_task_and_billable_may_be_left_out(
    tmp_path: Path,
) -> None:
    path = time_file(
        tmp_path,
        "7.5,2026-03-09,T1,E1,O1,r1,consultant",
        header="hours,work_date,entry_id,engagement_id,obligation_id,resource_id,role",
        bom=True,  # as spreadsheets save it
    )
    (row,) = read_time_file(path).rows
    assert row.line == 2
    entry = row.entry
    assert (entry.entry_id, entry.work_date, entry.hours) == (
        "T1",
        date(2026, 3, 9),
        Decimal("7.5"),
    )
    assert (entry.task_id, entry.billable) == (NO_TASK, True)


def test_each_unreadable_row_is_rejected_with_its_line_and_a_reason_code(tmp_path: Path) -> None:
    path = time_file(
        tmp_path,
        "T1,E1,O1,r1,consultant,2026-03-09,8,DEV,no",
        "T2,E1,O1,r1,consultant,09/03/2026,8,DEV,yes",
        "T3,E1,O1,r1,consultant,2026-03-09,NaN,DEV,yes",
        "T4,E1,O1,r1,consultant,2026-03-09,8,DEV,maybe",
        "T5,E1,,r1,consultant,2026-03-09,8,DEV,yes",
        "T6,E1,O1,r1,consultant,2026-03-09,8,DEV,yes,extra",
        "T7,E1,O1,r1",
    )
    parsed = read_time_file(path)
    assert [(r.line, r.entry.billable) for r in parsed.rows] == [(2, False)]
    assert [(r.line, r.entry_id, r.reason_code) for r in parsed.rejected] == [
        (3, "T2", "invalid_date"),
        (4, "T3", "invalid_hours"),
        (5, "T4", "invalid_billable"),
        (6, "T5", "missing_field"),
        (7, "T6", "malformed_row"),
        (8, "T7", "malformed_row"),
    ]
    assert parsed.size == 7


@pytest.mark.parametrize("hours", ["1_0", "1e0", "25E-1", "+1", ".5", "07.5", "\u0661", "Infinity"])
def test_hours_are_a_plain_decimal_as_the_api_takes_them(tmp_path: Path, hours: str) -> None:
    # Decimal() alone reads each of these, "1_0" as ten hours and "\u0661" (an Arabic-Indic one)
    # as one: a careless or exotic export must be refused with its line, never guessed at.
    path = time_file(tmp_path, f"T1,E1,O1,r1,consultant,2026-03-09,{hours},DEV,yes")
    parsed = read_time_file(path)
    assert not parsed.rows
    ((line, entry_id, reason, detail),) = [
        (r.line, r.entry_id, r.reason_code, r.detail) for r in parsed.rejected
    ]
    assert (line, entry_id, reason) == (2, "T1", "invalid_hours")
    assert detail.startswith(f"hours {hours!r} is not a plain decimal like 7.5")


def test_a_quote_left_open_is_one_rejected_row_at_the_line_it_opens_naming_the_lines_it_took(
    tmp_path: Path,
) -> None:
    path = time_file(
        tmp_path,
        "T1,E1,O1,r1,consultant,2026-03-09,8,DEV,yes",
        '"T2,E1,O1,r1,consultant,2026-03-09,8,DEV,yes',
        'T3",E1,O1,r1,consultant,2026-03-09,8,DEV,yes',
        "T4,E1,O1,r1,consultant,2026-03-09,8,DEV,yes",
        '"T5,E1,O1,r1,consultant,2026-03-09,8,DEV,yes',
        "T6,E1,O1,r1,consultant,2026-03-09,8,DEV,yes",
    )
    parsed = read_time_file(path)
    assert [(r.line, r.entry.entry_id) for r in parsed.rows] == [(2, "T1"), (5, "T4")]
    assert [(r.line, r.reason_code, r.detail) for r in parsed.rejected] == [
        (
            3,
            "malformed_row",
            'a quote (") opened on line 3 runs to line 4: lines 3-4 were read '
            "as one row; close the quote and import again",
        ),
        (
            6,
            "malformed_row",
            'a quote (") opened on line 6 runs to the end of the file: lines '
            "6-7 were read as one row; close the quote and import again",
        ),
    ]


def test_a_header_with_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = time_file(tmp_path, header=HEADER + ",hours")
    with pytest.raises(TimeFileError, match=r"repeated column\(s\) hours"):
        read_time_file(path)


def test_a_directory_is_not_a_time_file(tmp_path: Path) -> None:
    with pytest.raises(TimeFileError, match="is a directory"):
        read_time_file(tmp_path)
