"""`throughline import-delivery KIND FILE.csv`: records of a declared delivery kind from a CSV
file (ADR 0050), in batches, idempotently.

The header names the kind's record fields (any order; fields with a default may be left out,
and an empty cell takes the default, or null where the field allows it). A cell is read as the
field's type asks: integers and booleans (true/false, yes/no, 1/0) from their text, everything
else (decimals, dates, text) as written. A row whose field cannot be read, or that the record's
class refuses, is rejected with its line number, the column and a reason code, never dropped;
the rest are recorded. A file that cannot be used at all (missing, empty, a header that names
an unknown field or leaves out a required one) raises `DeliveryFileError`.
"""

from __future__ import annotations

import csv
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
from rich.console import Console

from adapters.delivery_intake import outcomes, structure_records
from application import commands as c
from application.context import RequestContext
from application.messagebus import MessageBus
from domain.delivery_kinds import DeliveryKind, DeliveryRecord
from entrypoints.cli.time_import import ParsedFile, RowRejection, file_text
from entrypoints.cli.views import RowsImported, render_rejections

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


class DeliveryFileError(Exception):
    """The file as a whole cannot be imported."""


@attrs.frozen
class Column:
    """One field of the kind's record class, as a CSV column."""

    name: str
    kind: str  # "int", "bool" or "text"
    required: bool
    nullable: bool


def columns_of(kind: DeliveryKind[Any]) -> tuple[Column, ...]:
    """The record class's fields, in declaration order."""
    hints = typing.get_type_hints(kind.record_type)
    found = []
    for field in attrs.fields(kind.record_type):
        hint = hints.get(field.name, str)
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        plain = [a for a in args if a is not type(None)]
        kind_of_cell = "bool" if bool in plain else "int" if int in plain else "text"
        found.append(
            Column(field.name, kind_of_cell, field.default is attrs.NOTHING, len(plain) < len(args))
        )
    return tuple(found)


def header_of(kind: DeliveryKind[Any]) -> str:
    return ",".join(column.name for column in columns_of(kind))


@attrs.frozen
class DeliveryRow:
    line: int
    record: DeliveryRecord


DeliveryFile = ParsedFile[DeliveryRow]


def read_delivery_file(kind: DeliveryKind[Any], path: Path) -> DeliveryFile:
    """Every data row of the file, built as the kind's record or rejected with its reason."""
    columns = {column.name: column for column in columns_of(kind)}
    lines, plain, rejected = [], [], []
    for line, raw in _records(kind, path, columns):
        if None in raw or any(value is None for value in raw.values()):
            record_id = (raw.get("record_id") or "").strip()
            detail = "the row does not have one value per column"
            rejected.append(RowRejection(line, record_id, "malformed_row", detail))
            continue
        lines.append(line)
        plain.append(_plain({str(k): (v or "").strip() for k, v in raw.items()}, columns))
    built = structure_records(kind, plain)
    bad: dict[int, list[str]] = {}
    for problem in built.problems:
        column = ".".join(problem.path) or "(row)"
        bad.setdefault(problem.position, []).append(f"column {column}: {problem.detail}")
    for position, details in bad.items():
        record_id = str(plain[position].get("record_id", ""))
        rejected.append(
            RowRejection(lines[position], record_id, "invalid_field", "; ".join(details))
        )
    for refusal in built.refused:
        line = lines[refusal.position or 0]
        rejected.append(RowRejection(line, refusal.item_id, refusal.reason_code, refusal.detail))
    kept = [
        p
        for p in range(len(plain))
        if p not in bad and p not in {r.position for r in built.refused}
    ]
    rows = tuple(
        DeliveryRow(lines[p], record) for p, record in zip(kept, built.records, strict=True)
    )
    if not rows and not rejected:
        raise DeliveryFileError(f"{path} has a header but no rows")
    return ParsedFile(rows, tuple(sorted(rejected, key=lambda r: r.line)))


def _plain(row: dict[str, str], columns: dict[str, Column]) -> dict[str, Any]:
    """The row as the plain data the converter builds a record from."""
    out: dict[str, Any] = {}
    for name, text in row.items():
        column = columns[name]
        if text == "":
            if column.nullable:
                out[name] = None
            continue  # a default applies; a required field is reported missing
        if column.kind == "int":
            out[name] = int(text) if text.lstrip("-").isdigit() else text
        elif column.kind == "bool":
            word = text.lower()
            out[name] = True if word in TRUE_WORDS else False if word in FALSE_WORDS else text
        else:
            out[name] = text
    return out


def _records(
    kind: DeliveryKind[Any], path: Path, columns: dict[str, Column]
) -> Iterator[tuple[int, dict[str | None, str | None]]]:
    text = file_text(path, DeliveryFileError)
    expected = ",".join(columns)
    if not text.strip():
        raise DeliveryFileError(f"{path} is empty; the first line must be the header {expected}")
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [n for n, col in columns.items() if col.required and n not in header]
    unknown = [n for n in header if n not in columns]
    repeated = sorted({n for n in header if header.count(n) > 1})
    if missing or unknown or repeated:
        problems = [
            f"{what} column(s) {', '.join(names)}"
            for what, names in (("missing", missing), ("unknown", unknown), ("repeated", repeated))
            if names
        ]
        raise DeliveryFileError(
            f"{path}: {'; '.join(problems)}; the {kind.name} header is {expected}"
        )
    reader.fieldnames = header
    for raw in reader:
        yield reader.line_num, raw


@attrs.define
class DeliveryImportOutcome(RowsImported[int]):
    #: The lines whose record replaced an earlier one of the same id.
    corrected: list[int] = attrs.field(factory=list)

    def absorb(self, batch: Sequence[DeliveryRow], report: c.DeliveryRecordsReport) -> None:
        """Give each row of the batch its fate."""
        sent = [row.record.record_id for row in batch]
        for row, (record_id, status, code, detail) in zip(
            batch, outcomes(sent, report), strict=True
        ):
            if status == "rejected":
                self.rejected.append(RowRejection(row.line, record_id, code or "", detail or ""))
            else:
                {"accepted": self.accepted, "corrected": self.corrected}.get(
                    status, self.duplicates
                ).append(row.line)

    def render(self, console: Console, file: Path) -> None:
        console.print(self.summary(file, f"{len(self.corrected)} corrected"), markup=False)
        if self.rejected:
            render_rejections(console, self.rejected)


def import_delivery_rows(
    bus: MessageBus,
    ctx: RequestContext,
    kind: DeliveryKind[Any],
    parsed: DeliveryFile,
    reported_by: str,
    batch_size: int,
) -> DeliveryImportOutcome:
    """One `RecordDeliveryRecords` per batch, each its own transaction: an interrupted import
    keeps the batches done, and running it again reports them as duplicates."""
    outcome = DeliveryImportOutcome(parsed.size, rejected=list(parsed.rejected))
    for start in range(0, len(parsed.rows), batch_size):
        batch = parsed.rows[start : start + batch_size]
        command = c.RecordDeliveryRecords(
            kind.name, tuple(r.record for r in batch), reported_by=reported_by
        )
        report: c.DeliveryRecordsReport = bus.handle(command, ctx)
        outcome.absorb(batch, report)
    outcome.rejected.sort(key=lambda r: r.line)
    return outcome


def kind_headers() -> str:
    """Each registered delivery kind and the CSV header its records are read from."""
    import domain.billing_models  # noqa: F401  (the models register their delivery kinds)
    from domain.delivery_kinds import delivery_kinds

    return "\n".join(
        f"  {kind.name}: {','.join(field.name for field in attrs.fields(kind.record_type))}"
        for kind in delivery_kinds()
    )
