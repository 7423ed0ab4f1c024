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
import operator
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Generic, TypeVar

import attrs

from adapters.serialization_hooks import NOT_PLAIN_DECIMAL, PLAIN_DECIMAL
from application.commands import TimeEntryInput
from application.gc_pause import paused_collection
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
#: Rows per transaction unless `--batch-size` says otherwise: each batch pays a begin, the
#: reads of its engagements and contracts and a commit, so larger batches import faster;
#: an interrupted import loses at most one batch, and SQLite's writer waits for one batch at
#: most (ADR 0058).
BATCH_SIZE = 5_000
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


Row = TypeVar("Row")


@attrs.frozen
class ParsedFile(Generic[Row]):
    """An import file as read: the rows to send and the rows refused, each with its line."""

    rows: tuple[Row, ...]
    rejected: tuple[RowRejection, ...]

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.rejected)


TimeFile = ParsedFile[TimeRow]


def file_text(path: Path, refused: type[Exception]) -> str:
    """The text of a file to import (a UTF-8 byte order mark dropped); a file that cannot be
    read raises `refused` with a message naming the path and why."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise refused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise refused(f"{path} is a directory, not a CSV file") from None
    except (PermissionError, UnicodeDecodeError) as error:
        raise refused(f"{path} cannot be read: {error}") from None


class _Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def read_time_file(path: Path) -> TimeFile:
    """Every data row of the file, either readable or rejected with a reason."""
    rows: list[TimeRow] = []
    rejected: list[RowRejection] = []
    header, lines, records = _records(path)
    read = _RowReader(header)
    # The rows are acyclic and all kept: the cyclic collector, paused while they are made,
    # would otherwise walk every row read so far again and again (ADR 0058).
    with paused_collection():
        for line, last, values in records:
            try:
                if last != line:
                    raise _Refused("malformed_row", _spanning(line, last, lines))
                rows.append(TimeRow(line, read.entry(values)))
            except _Refused as refused:
                entry_id = read.entry_id(values)
                rejected.append(RowRejection(line, entry_id, refused.code, refused.detail))
    if not rows and not rejected:
        raise TimeFileError(f"{path} has a header but no rows")
    return ParsedFile(tuple(rows), tuple(rejected))


def _spanning(line: int, last: int, lines: int) -> str:
    """Why a row read over several lines is refused: no value of this file holds a line break,
    so it is a quote left open, which swallows the rows after it."""
    reach = "the end of the file" if last == lines else f"line {last}"
    return (
        f'a quote (") opened on line {line} runs to {reach}: lines {line}-{last} were read as '
        "one row; close the quote and import again"
    )


def _records(path: Path) -> tuple[list[str], int, Iterator[tuple[int, int, list[str]]]]:
    """The file's header (names stripped), its number of lines, and its data rows, each with
    the lines it was read from (first and last: the same unless a quote spans lines)."""
    text = file_text(path, TimeFileError)
    if not text.strip():
        raise TimeFileError(f"{path} is empty; the first line must be the header {HEADER}")
    lines = text.splitlines()
    reader = csv.reader(lines)
    header = [name.strip() for name in next(reader, [])]
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

    def rows() -> Iterator[tuple[int, int, list[str]]]:
        last = reader.line_num
        for values in reader:
            first, last = last + 1, reader.line_num
            if values:  # a blank line is no row
                yield first, last, values

    return header, len(lines), rows()


class _RowReader:
    """The rows of one file, read by the places of its header's columns (a file of 100,000
    rows is read in one pass: no mapping per row); a work date or hours text met before
    gives the value it gave then."""

    def __init__(self, header: list[str]) -> None:
        at = {name: i for i, name in enumerate(header)}
        self._width = len(header)
        self._required = tuple((name, at[name]) for name in REQUIRED)
        self._entry_id = at["entry_id"]
        self._fields = operator.itemgetter(*(at[name] for name in REQUIRED))
        self._task, self._billable = at.get("task_id"), at.get("billable")
        self._dates: dict[str, date] = {}
        self._hours: dict[str, Decimal] = {}

    def entry_id(self, values: list[str]) -> str:
        """The row's entry id as written (empty when the row is too short to hold it)."""
        return values[self._entry_id].strip() if self._entry_id < len(values) else ""

    def entry(self, values: list[str]) -> TimeEntryInput:
        if len(values) != self._width:
            raise _Refused("malformed_row", "the row does not have one value per column")
        row = [value.strip() for value in values]
        entry_id, engagement, obligation, resource, role, day, hours = self._fields(row)
        if not (entry_id and engagement and obligation and resource and role and day and hours):
            empty = [name for name, i in self._required if not row[i]]
            raise _Refused("missing_field", f"empty {', '.join(empty)}")
        work_date = self._dates.get(day)
        if work_date is None:
            work_date = self._dates[day] = _work_date(day)
        amount = self._hours.get(hours)
        if amount is None:
            amount = self._hours[hours] = _hours(hours)
        task = NO_TASK if self._task is None else row[self._task]
        billable = "" if self._billable is None else row[self._billable]
        return TimeEntryInput.written(
            entry_id, engagement, obligation, resource, role, work_date, amount, task,
            _billable(billable),
        )  # fmt: skip


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
    """Hours as the API takes a decimal: `Decimal` alone would also read `1_0` as ten hours,
    `1e1`, `NaN` or digits of other scripts."""
    if PLAIN_DECIMAL.fullmatch(text) is None:
        raise _Refused("invalid_hours", f"hours {text!r} {NOT_PLAIN_DECIMAL}")
    return Decimal(text)


def _billable(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _Refused("invalid_billable", f"billable {text!r} is not true or false")
