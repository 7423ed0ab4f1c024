"""What the demo load and its report ask of the books once the scenarios ran: the documents
and the journal, one invoice or engagement, the states an engagement went through, the
exception queue, the audit trail's verification, whether a period is closed.

These answers are the aggregates themselves (the report prints their figures), so one
implementation serves every storage: it reads through read-only units of work, which never
commit and, on SQLite, never queue behind the writer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs

from application.audit import ChainReport, verify_chain
from application.context import RequestContext
from application.queries.engagements import lifecycle_path, subject_of
from application.records import ExceptionState, IntegrationException
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodState
from domain.credit_memo import CreditMemo
from domain.engagement import Engagement
from domain.invoice import Invoice
from domain.ledger import JournalEntry
from domain.period import Period

#: Read-only units of work for a caller (they never commit).
ReadOnlyUnitOfWork = Callable[[RequestContext], UnitOfWork]


@attrs.frozen
class BooksSnapshot:
    """The documents and the journal as they stand."""

    invoices: tuple[Invoice, ...]
    credit_memos: tuple[CreditMemo, ...]
    journal: tuple[JournalEntry, ...]
    audit_records: int
    outbox_pending: int


class SnapshotQueries(Protocol):
    """The demo's questions of the books, one call each."""

    def books(self) -> BooksSnapshot: ...

    def invoice(self, invoice_id: str) -> Invoice: ...

    def engagement(self, engagement_id: str) -> Engagement: ...

    def lifecycle_path(self, engagement_id: str) -> tuple[str, ...]: ...

    def exceptions(self, *, include_resolved: bool = False) -> list[IntegrationException]: ...

    def open_exceptions_for(self, subject: str) -> list[IntegrationException]: ...

    def audit_trail(self) -> ChainReport: ...

    def is_period_closed(self, period: Period) -> bool: ...

    def rate_card_exists(self, rate_card_id: str) -> bool: ...


class UnitOfWorkSnapshot:
    """`SnapshotQueries` through read-only units of work, for whoever `ctx` names."""

    def __init__(self, read: ReadOnlyUnitOfWork, ctx: RequestContext) -> None:
        self._read, self._ctx = read, ctx

    def books(self) -> BooksSnapshot:
        with self._read(self._ctx) as uow:
            return BooksSnapshot(
                tuple(uow.invoices.all()),
                tuple(uow.credit_memos.all()),
                tuple(uow.journal.all()),
                len(uow.audit.all()),
                len(uow.outbox.pending(1_000_000)),
            )

    def invoice(self, invoice_id: str) -> Invoice:
        with self._read(self._ctx) as uow:
            return uow.invoices.get(invoice_id)

    def engagement(self, engagement_id: str) -> Engagement:
        with self._read(self._ctx) as uow:
            return uow.engagements.get(engagement_id)

    def lifecycle_path(self, engagement_id: str) -> tuple[str, ...]:
        with self._read(self._ctx) as uow:
            records = uow.audit.for_subject(subject_of(engagement_id))
        return lifecycle_path((r.before, r.after) for r in records)

    def exceptions(self, *, include_resolved: bool = False) -> list[IntegrationException]:
        """The exception queue, oldest first; resolved ones only when asked for."""
        with self._read(self._ctx) as uow:
            items = uow.exceptions.all()
        if not include_resolved:
            items = [x for x in items if x.state is not ExceptionState.RESOLVED]
        return sorted(items, key=lambda x: (x.created_at, x.exception_id))

    def open_exceptions_for(self, subject: str) -> list[IntegrationException]:
        with self._read(self._ctx) as uow:
            return uow.exceptions.open_for(subject)

    def audit_trail(self) -> ChainReport:
        """Recompute the audit trail's hash chain from the first record."""
        with self._read(self._ctx) as uow:
            records = uow.audit.all()
        return verify_chain(records)

    def is_period_closed(self, period: Period) -> bool:
        with self._read(self._ctx) as uow:
            found = uow.periods.get(period)
        return found is not None and found.state is PeriodState.CLOSED

    def rate_card_exists(self, rate_card_id: str) -> bool:
        with self._read(self._ctx) as uow:
            return uow.rate_cards.find(rate_card_id) is not None
