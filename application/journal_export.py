"""What a journal export holds (ADR 0039): the entries posted to the ERP in a range of months,
for one legal entity or all of them, exactly as the ERP received them.

The export reads the posted journal (`posted_entries`), never the domain's unmapped entries: a
finance team checks the file against the ERP and against our trial balance, and both know only
the posting the ERP was handed, with its accounts and dimensions. The files themselves are
written by the renderers in `adapters.ledger_export`.
"""

from __future__ import annotations

import re

import attrs

from application.errors import ApplicationError
from application.journal import JournalFilter, posted_entries
from application.records import PostedEntry
from application.unit_of_work import UnitOfWork
from domain.period import Period

#: What a file name keeps as it is; anything else (a ':' in an id) becomes '-'.
_SAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class EmptyExportRangeError(ApplicationError):
    """An export runs from a month to the same or a later month."""

    code = "empty_export_range"


class UnexportableJournalError(ApplicationError):
    """A posted entry the export format cannot say faithfully (an amount with more decimals
    than its currency has, a role without an account class, two accounts one name)."""

    code = "unexportable_journal"


@attrs.frozen
class JournalExport:
    """The months to export, first to last inclusive, and optionally one legal entity."""

    first: Period
    last: Period
    legal_entity_id: str | None = None

    @classmethod
    def months(
        cls, first: Period, last: Period, legal_entity_id: str | None = None
    ) -> JournalExport:
        """From the first month's first day to the last month's last day; a range that ends
        before it starts is refused."""
        first, last = Period.month_of(first.start), Period.month_of(last.start)
        if last.start < first.start:
            raise EmptyExportRangeError(
                f"the export runs from {first.key} to {last.key}: the first month comes after "
                "the last"
            )
        return cls(first, last, legal_entity_id)

    @property
    def period(self) -> Period:
        """Every day the export covers."""
        return Period(self.first.start, self.last.end)

    @property
    def label(self) -> str:
        """`2026-01..2026-03`, or `2026-03` for one month; with the legal entity if one."""
        months = self.first.key if self.first == self.last else f"{self.first}..{self.last}"
        return months if self.legal_entity_id is None else f"{months} {self.legal_entity_id}"

    @property
    def file_stem(self) -> str:
        """A file name without extension: `journal-2026-01-2026-03[-HR-FR]`."""
        parts = ["journal", self.first.key, self.last.key]
        if self.legal_entity_id is not None:
            parts.append(self.legal_entity_id)
        return _SAFE_IN_FILE_NAME.sub("-", "-".join(parts))


def entries_to_export(uow: UnitOfWork, export: JournalExport) -> list[PostedEntry]:
    """The posted entries of the range (and legal entity), by date, then in posting order."""
    return posted_entries(uow, JournalFilter(export.period, export.legal_entity_id))
