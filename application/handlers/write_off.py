"""Receivables written off (ADR 0040): finance gives up what an issued or partly paid invoice
still owes as uncollectable (bad debt), for a stated reason.

The invoice keeps what was written off (what it still owes drops by as much), the write-off
posts Dr write-off expense / Cr receivables through the posting path of ADR 0034, and the
`invoice.written_off` event and the audit record go out in the same transaction, or none of
them does. A repeated request with the same idempotency key is answered from its first run
and changes nothing; writing off an invoice with nothing left to give up is refused.
"""

from __future__ import annotations

from datetime import datetime

from application import commands as c
from application.books import period_lock
from application.context import RequestContext
from application.journal import post_entry, scope_for_invoice
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock, IdGenerator
from application.status_feedback import StatusFeedback
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.chart_of_accounts import ChartsOfAccounts
from domain.invoice import Invoice
from domain.ledger import post_write_off
from domain.money import Money


def write_off_invoice(
    cmd: c.WriteOffInvoice,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
    feedback: StatusFeedback,
) -> Money:
    """Write off part or all of what is owed, dated today, and post it; the amount given up
    is told to the CRM account and the project like any billing status."""
    now = clock.now()
    with unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        lock = period_lock(uow)
        amount = invoice.write_off(cmd.amount, cmd.reason, now.date(), now, lock)
        _post(uow, ctx, invoice, amount, lock, now, ids.next_id("JE"), charts)
        uow.commit()
    _tell(feedback, cmd, invoice, amount)
    return amount


def _post(
    uow: UnitOfWork,
    ctx: RequestContext,
    invoice: Invoice,
    amount: Money,
    lock: PeriodLock,
    now: datetime,
    entry_id: str,
    charts: ChartsOfAccounts | None,
) -> None:
    """Dr write-off expense / Cr receivables, dated the day it is written off."""
    document = invoice.number or invoice.invoice_id
    entry = post_write_off(entry_id, document, now.date(), amount, lock)
    post_entry(uow, ctx, now, charts, entry, scope_for_invoice(uow, invoice))


def _tell(
    feedback: StatusFeedback,
    cmd: c.WriteOffInvoice,
    invoice: Invoice,
    amount: Money,
) -> None:
    """The amount given up goes to the CRM account and the project like any billing status."""
    document = invoice.number or invoice.invoice_id
    status = {"invoice": document, "amount": str(amount), "reason": cmd.reason.strip()}
    key = f"{cmd.invoice_id}:written_off:{invoice.revision}"
    feedback.send(f"{key}:crm", f"{key}:psa", invoice, "invoice_written_off", status)
