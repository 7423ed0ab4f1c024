"""Sending a read CSV file of time through the bus in batches, and the report of what
happened to every row: accepted, duplicate (already recorded, or repeated in the file, with the
same content) or rejected with its line number and reason code (an id recorded with other
content is an `entry_conflict`; the plausibility rules of ADR 0025 have their own codes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
from rich.console import Console

from application import commands as c
from application.context import RequestContext
from application.handlers.delivery import IngestionReport
from application.messagebus import MessageBus
from entrypoints.cli.support import progress
from entrypoints.cli.time_import import RowRejection, TimeFile, TimeRow
from entrypoints.cli.views import RowsImported, render_rejections
from entrypoints.demo.report import titled_table

#: Duplicates listed one by one up to this many (all of them with -v).
DUPLICATES_SHOWN = 20


@attrs.frozen
class Duplicate:
    line: int
    entry_id: str
    why: str


@attrs.define
class ImportOutcome(RowsImported[Duplicate]):
    def absorb(self, batch: Sequence[TimeRow], report: IngestionReport, earlier: set[str]) -> None:
        """Give each row of the batch its fate (the handler reports by entry id, and by place
        in the batch where a repeated id is refused: it says something else than the first)."""
        accepted = set(report.accepted)
        at = {r.position: r for r in report.rejected if r.position is not None}
        refused = {r.item_id: r for r in report.rejected if r.position is None}
        in_batch: set[str] = set()
        for position, row in enumerate(batch):
            entry_id = row.entry.entry_id
            first = entry_id not in in_batch
            if position in at:
                r = at[position]
                self.rejected.append(RowRejection(row.line, entry_id, r.reason_code, r.detail))
            elif first and entry_id in accepted:
                self.accepted.append(row.line)
            elif first and entry_id in refused:
                r = refused[entry_id]
                self.rejected.append(RowRejection(row.line, entry_id, r.reason_code, r.detail))
            else:
                why = "repeated in the file" if entry_id in earlier else "already recorded"
                self.duplicates.append(Duplicate(row.line, entry_id, why))
            in_batch.add(entry_id)
            earlier.add(entry_id)

    def render(self, console: Console, file: Path, *, verbose: bool) -> None:
        console.print(self.summary(file), markup=False)
        if self.duplicates:
            shown = self.duplicates if verbose else self.duplicates[:DUPLICATES_SHOWN]
            table = titled_table("Duplicates (nothing changed)", "Line", "Entry", "Why")
            for d in shown:
                table.add_row(str(d.line), d.entry_id, d.why)
            console.print(table)
            if len(shown) < len(self.duplicates):
                console.print(f"... and {len(self.duplicates) - len(shown)} more (-v lists all)")
        if self.rejected:
            render_rejections(console, self.rejected)


def import_rows(
    bus: MessageBus, ctx: RequestContext, parsed: TimeFile, approved_by: str, batch_size: int
) -> ImportOutcome:
    """One `RecordTimeEntries` per batch, each its own transaction: an interrupted import
    keeps the batches done, and running it again reports them as duplicates."""
    outcome = ImportOutcome(parsed.size, rejected=list(parsed.rejected))
    rows = parsed.rows
    earlier: set[str] = set()
    with progress("Importing time") as bar:
        task = bar.add_task("import", total=len(rows))
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            command = c.RecordTimeEntries(tuple(r.entry for r in batch), approved_by)
            report: IngestionReport = bus.handle(command, ctx)
            outcome.absorb(batch, report, earlier)
            bar.advance(task, len(batch))
    return outcome
