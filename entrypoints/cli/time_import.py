"""Reading a CSV file of approved time for `throughline import-time`.

The header (columns in any order; `task_id` and `billable` may be left out):

    entry_id,engagement_id,obligation_id,resource_id,role,work_date,hours,task_id,billable

`work_date` is ISO (`2026-03-09`), `hours` a decimal (`7.5`), `billable` true/false, yes/no or
1/0 (empty: true), an empty `task_id` means no task. A row that cannot be read is rejected with
its line number and a reason code, never dropped; a file that cannot be read at all (missing,
empty, wrong header) raises `TimeFileError`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from application.commands import TimeEntryInput
from domain.ids import EngagementId, ObligationId, ResourceId, Role, TaskId, TimeEntryId
from domain.time_entry import NO_TASK

COLUMNS = (
    "entry_id",
    "engagement_id",
    "obligation_id",
    "resource_id",
    "role",
    "work_date",
    "hours",
    "task_id",
    "billable",
)
REQUIRED = COLUMNS[:7]
HEADER = ",".join(COLUMNS)
TRUE_WORDS = frozenset({"true", "yes", "y", "1", ""})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


class TimeFileError(Exception):
    """The file as a whole cannot be imported."""


@attrs.frozen
class TimeRow:
    line: int
    entry: TimeEntryInput


@attrs.frozen
class RowRejection:
    """A row refused with its line number and a stable reason code."""

    line: int
    entry_id: str
    reason_code: str
    detail: str


@attrs.frozen
class TimeFile:
    rows: tuple[TimeRow, ...]
    rejected: tuple[RowRejection, ...]

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.rejected)


class _Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def read_time_file(path: Path) -> TimeFile:
    """Every data row of the file, either readable or rejected with a reason."""
    rows: list[TimeRow] = []
    rejected: list[RowRejection] = []
    for line, raw in _records(path):
        entry_id = (raw.get("entry_id") or "").strip()
        try:
            rows.append(TimeRow(line, _entry(raw)))
        except _Refused as refused:
            rejected.append(RowRejection(line, entry_id, refused.code, refused.detail))
    if not rows and not rejected:
        raise TimeFileError(f"{path} has a header but no rows")
    return TimeFile(tuple(rows), tuple(rejected))


def _records(path: Path) -> Iterator[tuple[int, dict[str | None, str | None]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TimeFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TimeFileError(f"{path} is a directory, not a CSV file") from None
    except (PermissionError, UnicodeDecodeError) as error:
        raise TimeFileError(f"{path} cannot be read: {error}") from None
    if not text.strip():
        raise TimeFileError(f"{path} is empty; the first line must be the header {HEADER}")
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or duplicated:
        problems = [
            f"{what} column(s) {', '.join(names)}"
            for what, names in (
                ("missing", missing),
                ("unknown", unknown),
                ("repeated", duplicated),
            )
            if names
        ]
        raise TimeFileError(f"{path}: {'; '.join(problems)}; the header is {HEADER}")
    reader.fieldnames = header
    for raw in reader:
        yield reader.line_num, raw


def _entry(raw: dict[str | None, str | None]) -> TimeEntryInput:
    if None in raw or any(value is None for value in raw.values()):
        raise _Refused("malformed_row", "the row does not have one value per column")
    row = {str(k): (v or "").strip() for k, v in raw.items()}
    empty = [c for c in REQUIRED if not row.get(c)]
    if empty:
        raise _Refused("missing_field", f"empty {', '.join(empty)}")
    return TimeEntryInput(
        TimeEntryId(row["entry_id"]),
        EngagementId(row["engagement_id"]),
        ObligationId(row["obligation_id"]),
        ResourceId(row["resource_id"]),
        Role(row["role"]),
        _work_date(row["work_date"]),
        _hours(row["hours"]),
        TaskId(row.get("task_id") or NO_TASK),
        _billable(row.get("billable", "")),
    )


def _work_date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _Refused(
            "invalid_date", f"work_date {text!r} is not a date in the form YYYY-MM-DD"
        ) from None


def _hours(text: str) -> Decimal:
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise _Refused("invalid_hours", f"hours {text!r} is not a number") from None
    if not hours.is_finite():
        raise _Refused("invalid_hours", f"hours {text!r} is not a number")
    return hours


def _billable(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _Refused("invalid_billable", f"billable {text!r} is not true or false")
