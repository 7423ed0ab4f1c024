"""Read-only questions the CLI asks of the books, through a unit of work that never commits.

These belong in the application layer as query ports; until they exist, the entry points read
the repositories here, in one place, through read-only units of work.
"""

from __future__ import annotations

import attrs

from application.audit import ChainReport, verify_chain
from application.context import RequestContext
from application.records import ExceptionState, IntegrationException
from domain.accounting_period import PeriodState
from domain.credit_memo import CreditMemo
from domain.engagement import Engagement
from domain.invoice import Invoice
from domain.ledger import JournalEntry
from domain.period import Period
from entrypoints.composition.bootstrap import Reader


def integration_exceptions(
    read: Reader, ctx: RequestContext, *, include_resolved: bool = False
) -> list[IntegrationException]:
    """The exception queue, oldest first; resolved ones only when asked for."""
    with read(ctx) as uow:
        items = uow.exceptions.all()
    if not include_resolved:
        items = [x for x in items if x.state is not ExceptionState.RESOLVED]
    return sorted(items, key=lambda x: (x.created_at, x.exception_id))


def open_exceptions_for(
    read: Reader, ctx: RequestContext, subject: str
) -> list[IntegrationException]:
    with read(ctx) as uow:
        return uow.exceptions.open_for(subject)


def verify_audit_trail(read: Reader, ctx: RequestContext) -> ChainReport:
    """Recompute the audit trail's hash chain from the first record."""
    with read(ctx) as uow:
        records = uow.audit.all()
    return verify_chain(records)


def engagement(read: Reader, ctx: RequestContext, engagement_id: str) -> Engagement:
    with read(ctx) as uow:
        return uow.engagements.get(engagement_id)


@attrs.frozen
class Books:
    """The documents and the journal as they stand."""

    invoices: tuple[Invoice, ...]
    credit_memos: tuple[CreditMemo, ...]
    journal: tuple[JournalEntry, ...]
    audit_records: int
    outbox_pending: int


def books(read: Reader, ctx: RequestContext) -> Books:
    with read(ctx) as uow:
        return Books(
            tuple(uow.invoices.all()),
            tuple(uow.credit_memos.all()),
            tuple(uow.journal.all()),
            len(uow.audit.all()),
            len(uow.outbox.pending(1_000_000)),
        )


def invoice(read: Reader, ctx: RequestContext, invoice_id: str) -> Invoice:
    with read(ctx) as uow:
        return uow.invoices.get(invoice_id)


def engagement_path(read: Reader, ctx: RequestContext, engagement_id: str) -> tuple[str, ...]:
    """The states an engagement went through, as its audit records tell them."""
    subject = f"engagement:{engagement_id}"
    path: list[str] = []
    with read(ctx) as uow:
        records = [r for r in uow.audit.all() if r.subject == subject]
    for record in records:
        if record.before is not None and (not path or path[-1] != record.before):
            path.append(record.before)
        if record.after is not None and (not path or path[-1] != record.after):
            path.append(record.after)
    return tuple(path)


def is_period_closed(read: Reader, ctx: RequestContext, period: Period) -> bool:
    with read(ctx) as uow:
        found = uow.periods.get(period)
    return found is not None and found.state is PeriodState.CLOSED


def rate_card_exists(read: Reader, ctx: RequestContext, rate_card_id: str) -> bool:
    with read(ctx) as uow:
        return uow.rate_cards.find(rate_card_id) is not None
