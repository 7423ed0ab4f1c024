"""Billing run → drafts → maker-checker approval → issue → hand-over to the ERP.

The run itself is in `application.handlers.billing_run`; this module keeps what happens to a
draft after it (approval, discard, issue, hand-over, the ERP's confirmation).
"""

from __future__ import annotations

from datetime import date

import attrs

from application import commands as c
from application.books import balances_from_journal, period_lock
from application.changes import RecordMoved
from application.context import RequestContext
from application.errors import DownstreamUnavailableError, PostingMismatchError
from application.handlers.billing_run import BillingRunResult as BillingRunResult
from application.handlers.billing_run import fingerprint as fingerprint
from application.handlers.billing_run import run_billing_command as run_billing_command
from application.handlers.common import queue_exception, resolve_open_exceptions
from application.journal import document_tax_by_code, post_entry, scope_for_contract
from application.messagebus import Dispatch, UnitOfWorkFactory
from application.payment_terms import terms_for
from application.ports import Clock, CrmFeedback, CustomerMaster, IdGenerator, InvoiceHandover
from application.records import ExceptionKind
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.billing import SourceKind
from domain.chart_of_accounts import ChartsOfAccounts
from domain.invoice import DocumentKind, Invoice, InvoiceState
from domain.ledger import JournalEntry, moves_nothing, post_credit_memo, post_invoice_issue
from domain.milestone import MilestoneState
from domain.plausibility import PlausibilityPolicy


def approve_invoice(
    cmd: c.ApproveInvoice, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Maker-checker: the approver is not whoever created the draft."""
    with unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        invoice.approve(ctx.actor, clock.now())
        subject = f"invoice:{cmd.invoice_id}"
        uow.record(RecordMoved(subject, "approve", InvoiceState.DRAFT, invoice.state))
        uow.commit()


def discard_invoice(
    cmd: c.DiscardInvoice, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """A discarded draft releases every quantity it allocated back to unbilled (under the
    contract's lock, as a billing run of it takes: ADR 0048)."""
    with unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        uow.ledger.lock([invoice.contract_id])
        invoice.discard(cmd.reason, clock.now())
        uow.ledger.remove_document(cmd.invoice_id)
        subject, before = f"invoice:{cmd.invoice_id}", InvoiceState.DRAFT
        uow.record(RecordMoved(subject, "discard", before, invoice.state, cmd.reason))
        uow.commit()


def issue_invoice(
    cmd: c.IssueInvoice,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    customer_master: CustomerMaster,
    charts: ChartsOfAccounts | None,
    plausibility: PlausibilityPolicy,
    dispatch: Dispatch,
) -> str:
    """Number the invoice, post it to the journal, then hand it over to the ERP (after the
    commit: the ERP is never called inside the transaction). An invoice is not dated after
    today (beyond the deployment's tolerance): its date takes a number of that year."""
    plausibility.refuse_future(cmd.issue_date, clock.now().date(), "the issue date")
    number = _issue(cmd, ctx, Issuing(unit_of_work, clock, ids, customer_master, charts))
    dispatch(c.HandOverInvoice(cmd.invoice_id), ctx)
    return number


@attrs.frozen
class Issuing:
    """What numbering and posting an invoice uses."""

    unit_of_work: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    customer_master: CustomerMaster
    charts: ChartsOfAccounts | None


def _issue_posting(
    uow: UnitOfWork, deps: Issuing, invoice: Invoice, on: date, lock: PeriodLock
) -> JournalEntry | None:
    """The journal entry of the issued invoice (a credit adjustment posts as a credit memo),
    or None when it comes to zero everywhere and moves no account."""
    nets = invoice.totals.net_by_obligation(invoice.lines)
    tax = invoice.totals.tax
    if moves_nothing(nets, tax):
        return None
    balances = balances_from_journal(uow.journal.all(), nets, invoice.currency)
    number = invoice.number or ""
    if invoice.kind is DocumentKind.CREDIT_ADJUSTMENT:
        magnitudes = {oid: -amount for oid, amount in nets.items()}
        by_code = document_tax_by_code(invoice.totals, sign=-1)
        return post_credit_memo(deps.ids.next_id("JE"), number, on, magnitudes, -tax, balances,
                                lock, tax_by_code=by_code)  # fmt: skip
    by_code = document_tax_by_code(invoice.totals)
    return post_invoice_issue(deps.ids.next_id("JE"), number, on, nets, tax, balances, lock,
                              tax_by_code=by_code)  # fmt: skip


def _issue(cmd: c.IssueInvoice, ctx: RequestContext, deps: Issuing) -> str:
    """Number, post and stamp the invoice in one transaction."""
    with deps.unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        lock = period_lock(uow)
        number = uow.sequences.next_number("invoice", cmd.issue_date)
        before = invoice.state
        terms = terms_for(uow, deps.customer_master, invoice)
        invoice.issue(number, cmd.issue_date, deps.clock.now(), lock, terms)
        entry = _issue_posting(uow, deps, invoice, cmd.issue_date, lock)
        if entry is not None:
            contract = uow.contracts.get(invoice.contract_id)
            scope = attrs.evolve(
                scope_for_contract(uow, contract),
                legal_entity_id=invoice.legal_entity_id,
                customer_id=invoice.payer,
            )
            post_entry(uow, ctx, deps.clock.now(), deps.charts, entry, scope)
        _mark_milestones_invoiced(uow, deps.clock, invoice)
        subject = f"invoice:{cmd.invoice_id}"
        uow.record(RecordMoved(subject, "issue", before, invoice.state, number))
        uow.commit()
    return number


def _mark_milestones_invoiced(uow: UnitOfWork, clock: Clock, invoice: Invoice) -> None:
    """An issued invoice that bills a milestone moves it from accepted to invoiced."""
    for line in invoice.lines:
        for allocation in line.allocations:
            if allocation.source.kind is not SourceKind.MILESTONE:
                continue
            milestone = uow.milestones.find(allocation.source.source_id)
            if milestone is not None and milestone.state is MilestoneState.ACCEPTED:
                milestone.mark_invoiced(clock.now())
                uow.milestones.save(milestone)
                subject = f"milestone:{milestone.milestone_id}"
                accepted, now = MilestoneState.ACCEPTED, milestone.state
                uow.record(
                    RecordMoved(subject, "mark_invoiced", accepted, now, invoice.number or "")
                )


def hand_over_invoice(
    cmd: c.HandOverInvoice,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    handover: InvoiceHandover,
    crm: CrmFeedback,
) -> bool:
    """Give the issued invoice to the ERP/billing platform, with no transaction open while it
    is called; an outage goes to the retry queue, a success resolves what waited there."""
    with unit_of_work(ctx, read_only=True) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
    try:
        handover.hand_over(f"{cmd.invoice_id}:handover", invoice)
        crm.notify(
            f"{cmd.invoice_id}:issued",
            invoice.customer_id,
            "invoice_issued",
            {"invoice": invoice.number or "", "gross": str(invoice.totals.gross)},
        )
    except DownstreamUnavailableError as error:
        _handover_failed(unit_of_work, ctx, (clock, ids), cmd.invoice_id, str(error))
        return False
    with unit_of_work(ctx) as uow:
        resolve_open_exceptions(uow, f"invoice:{cmd.invoice_id}", ctx.actor, clock)
        uow.commit()
    return True


def _handover_failed(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    stamps: tuple[Clock, IdGenerator],
    invoice_id: str,
    why: str,
) -> None:
    with unit_of_work(ctx) as uow:
        queue_exception(
            uow,
            ctx,
            *stamps,
            kind=ExceptionKind.DOWNSTREAM_UNAVAILABLE,
            workflow="invoice_handover",
            subject=f"invoice:{invoice_id}",
            reason_code="downstream_unavailable",
            detail=why,
            replay={"command": "HandOverInvoice", "args": {"invoice_id": invoice_id}},
        )
        uow.commit()


def confirm_invoice_posted(
    cmd: c.ConfirmInvoicePosted,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    """The ERP posted the invoice: the hand-over is complete (an open hand-over failure is
    resolved, since the invoice evidently arrived). A posting of something we did not issue,
    or under another number or gross, is refused for someone to reconcile."""
    with unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        subject = f"invoice:{cmd.invoice_id}"
        if invoice.number is None:
            raise PostingMismatchError(
                f"the ERP posted invoice {cmd.invoice_id}, which is {invoice.state.value}, "
                "not issued"
            )
        if cmd.invoice_number != invoice.number or cmd.gross != invoice.totals.gross:
            raise PostingMismatchError(
                f"the ERP posted {cmd.invoice_number} for {cmd.gross}; invoice "
                f"{cmd.invoice_id} was issued as {invoice.number} for {invoice.totals.gross}"
            )
        for item in uow.exceptions.open_for(subject):
            if item.workflow == "invoice_handover":
                item.resolved(ctx.actor, clock.now())
                uow.exceptions.save(item)
        posted = f"{cmd.erp_reference} on {cmd.posted_on.isoformat()}"
        uow.record(RecordMoved(subject, "erp_posted", invoice.state, invoice.state, posted))
        uow.commit()
