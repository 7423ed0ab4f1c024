"""Financial closure: payments, disputes, credit memos, revenue recognition, period close.

Every posting asks the period lock first, so nothing dated in a closed period is posted,
voided or credited, by any actor, background jobs and imports included. A payment (and a
dispute that carries its billing-platform id) is admitted by its natural key first, so the
same fact arriving again, by any channel, is a replay and never a second effect (ADR 0024).
"""

from __future__ import annotations

import attrs

from application import commands as c
from application.books import ContractBooks, balances_from_journal, load_books, period_lock
from application.context import RequestContext
from application.errors import NotFoundError
from application.handlers.common import audit
from application.journal import document_tax_by_code, post_entry, scope_for_contract
from application.messagebus import Dependencies
from application.natural_keys import DISPUTE, PAYMENT, Admission, Fact, admit
from application.unit_of_work import UnitOfWork
from domain.accounting_period import AccountingPeriod
from domain.chart_of_accounts import PostingScope
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.ids import ObligationId, UserId
from domain.invoice import Invoice, InvoiceState
from domain.ledger import JournalEntry, post_credit_memo, post_payment, post_recognition
from domain.money import Money
from domain.obligation import RevenueContext
from domain.revenue import recognised_to_date


def _notify(deps: Dependencies, key: str, invoice: Invoice, kind: str, **data: str) -> None:
    """Billing status goes back to the CRM account and to the project in the PSA."""
    status = {"invoice": invoice.number or "", **data}
    deps.crm.notify(key, invoice.customer_id, kind, status)
    deps.projects.report(key, invoice.contract_id, kind, status)


def _payment(cmd: c.RecordPayment) -> Fact:
    amount = cmd.amount
    return PAYMENT.fact(
        cmd.payment_id,
        invoice_id=cmd.invoice_id,
        amount=amount,
        currency=amount.currency.code,
        received_on=cmd.received_on,
    )


def record_payment(cmd: c.RecordPayment, ctx: RequestContext, deps: Dependencies) -> None:
    """A payment is applied once per ERP payment id; the same payment again changes nothing
    but is told to the CRM and the project again (their calls are idempotent by key, so a
    notification that failed the first time is made good)."""
    deps.plausibility.refuse_future(cmd.received_on, deps.clock.now().date(), "the payment date")
    with deps.uow(ctx) as uow:
        admission = admit(uow, _payment(cmd), ctx, deps.clock.now())
        invoice = uow.invoices.get(cmd.invoice_id)
        if admission is Admission.NEW:
            _apply_payment(uow, cmd, ctx, deps, invoice)
            uow.commit()
    _notify(deps, f"{cmd.payment_id}:crm", invoice, "payment_received", amount=str(cmd.amount))


def _invoice_scope(uow: UnitOfWork, invoice: Invoice) -> PostingScope:
    """The dimensions of an entry about one document: its contract's, billed to its payer
    by its legal entity."""
    contract_scope = scope_for_contract(uow, uow.contracts.get(invoice.contract_id))
    return attrs.evolve(
        contract_scope, legal_entity_id=invoice.legal_entity_id, customer_id=invoice.payer
    )


def _apply_payment(
    uow: UnitOfWork, cmd: c.RecordPayment, ctx: RequestContext, deps: Dependencies, invoice: Invoice
) -> None:
    lock = period_lock(uow)
    before = invoice.state
    invoice.record_payment(cmd.payment_id, cmd.amount, cmd.received_on, deps.clock.now(), lock)
    entry = post_payment(deps.ids.next_id("JE"), cmd.payment_id, cmd.received_on, cmd.amount, lock)
    post_entry(uow, ctx, deps.clock.now(), deps.charts, entry, _invoice_scope(uow, invoice))
    audit(
        uow,
        ctx,
        deps,
        f"invoice:{cmd.invoice_id}",
        "record_payment",
        before,
        invoice.state,
        f"{cmd.payment_id} {cmd.amount}",
    )


def open_dispute(cmd: c.OpenDispute, ctx: RequestContext, deps: Dependencies) -> None:
    """The dispute is recorded on the invoice and fed back to the project and the CRM account.
    A dispute the billing platform numbered is opened once: the same one again changes nothing
    and tells no one (by then the dispute may have moved on)."""
    with deps.uow(ctx) as uow:
        if _known_dispute(uow, cmd, ctx, deps):
            return
        invoice = uow.invoices.get(cmd.invoice_id)
        before = invoice.state
        invoice.open_dispute(cmd.reason, deps.clock.now())
        audit(
            uow,
            ctx,
            deps,
            f"invoice:{cmd.invoice_id}",
            "dispute",
            before,
            invoice.state,
            cmd.reason,
        )
        uow.commit()
    _notify(
        deps,
        f"{cmd.invoice_id}:dispute:{invoice.revision}",
        invoice,
        "invoice_disputed",
        reason=cmd.reason,
    )


def _known_dispute(
    uow: UnitOfWork, cmd: c.OpenDispute, ctx: RequestContext, deps: Dependencies
) -> bool:
    """True when the billing platform's dispute was opened before (same invoice, same reason)."""
    if cmd.dispute_id is None:
        return False
    fact = DISPUTE.fact(cmd.dispute_id, invoice_id=cmd.invoice_id, reason=cmd.reason)
    return admit(uow, fact, ctx, deps.clock.now()) is Admission.REPLAY


def resolve_dispute(cmd: c.ResolveDispute, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        before = invoice.state
        invoice.resolve_dispute(cmd.resolution, deps.clock.now())
        audit(
            uow,
            ctx,
            deps,
            f"invoice:{cmd.invoice_id}",
            "resolve_dispute",
            before,
            invoice.state,
            cmd.resolution,
        )
        uow.commit()
    _notify(
        deps,
        f"{cmd.invoice_id}:resolved:{invoice.revision}",
        invoice,
        "dispute_resolved",
        resolution=cmd.resolution,
    )


def draft_credit_memo(cmd: c.DraftCreditMemo, ctx: RequestContext, deps: Dependencies) -> None:
    """Draft a credit against an invoice; it reserves what it credits (two aggregates, one
    transaction: the memo and the invoice's credit reservations, see ADR 0014)."""
    with deps.uow(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        requests = [
            CreditRequest(r.line_no, r.source, r.quantity, r.amount, r.releases)
            for r in cmd.requests
        ]
        memo = CreditMemo.against(
            cmd.credit_memo_id,
            invoice,
            requests,
            cmd.reason,
            ctx.actor,
            cmd.write_off,
            cmd.resolves_dispute,
        )
        uow.credit_memos.add(memo)
        audit(
            uow,
            ctx,
            deps,
            f"credit_memo:{cmd.credit_memo_id}",
            "draft",
            None,
            memo.state,
            cmd.reason,
        )
        uow.commit()


def approve_credit_memo(cmd: c.ApproveCreditMemo, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        memo = uow.credit_memos.get(cmd.credit_memo_id)
        before = memo.state
        memo.approve(ctx.actor, deps.clock.now())
        audit(uow, ctx, deps, f"credit_memo:{cmd.credit_memo_id}", "approve", before, memo.state)
        uow.commit()


def issue_credit_memo(cmd: c.IssueCreditMemo, ctx: RequestContext, deps: Dependencies) -> str:
    """Issue: the invoice owes less, the credited quantities return to unbilled (or are written
    off), and the reverse of what it credits is posted. A credit that ends the invoice's
    dispute is audited on the invoice and told to the CRM account and the project."""
    with deps.uow(ctx) as uow:
        memo = uow.credit_memos.get(cmd.credit_memo_id)
        invoice = uow.invoices.get(memo.invoice_id)
        lock = period_lock(uow)
        number = uow.sequences.next_number("credit_memo", cmd.issue_date)
        before, invoice_before = memo.state, invoice.state
        memo.issue(invoice, number, cmd.issue_date, deps.clock.now(), lock)
        resolution = _dispute_ended_by_credit(invoice, invoice_before)
        if invoice.state is not invoice_before:
            action = "credit_in_full" if resolution is None else "resolve_dispute"
            subject = f"invoice:{invoice.invoice_id}"
            reason = f"credit memo {number}" + (f": {resolution}" if resolution else "")
            audit(uow, ctx, deps, subject, action, invoice_before, invoice.state, reason)
        uow.ledger.add(invoice.contract_id, memo.ledger_entries())
        nets = memo.totals.net_by_obligation(memo.lines)
        balances = balances_from_journal(uow.journal.all(), nets, invoice.currency)
        entry = post_credit_memo(
            deps.ids.next_id("JE"),
            number,
            cmd.issue_date,
            nets,
            memo.totals.tax,
            balances,
            lock,
            tax_by_code=document_tax_by_code(memo.totals),
        )
        post_entry(uow, ctx, deps.clock.now(), deps.charts, entry, _invoice_scope(uow, invoice))
        audit(
            uow, ctx, deps, f"credit_memo:{cmd.credit_memo_id}", "issue", before, memo.state, number
        )
        uow.commit()
    _notify(
        deps,
        f"{cmd.credit_memo_id}:issued",
        invoice,
        "credit_memo_issued",
        credit_memo=number,
        gross=str(memo.totals.gross),
    )
    if resolution is not None:
        _notify(
            deps,
            f"{cmd.credit_memo_id}:resolved",
            invoice,
            "dispute_resolved",
            resolution=resolution,
            credit_memo=number,
        )
    return number


def _dispute_ended_by_credit(invoice: Invoice, before: InvoiceState) -> str | None:
    """The resolution recorded when issuing a credit ended the invoice's open dispute."""
    if before is not InvoiceState.DISPUTED or invoice.current_dispute is not None:
        return None
    return invoice.disputes[-1].resolution


def recognise_revenue(
    cmd: c.RecogniseRevenue, ctx: RequestContext, deps: Dependencies
) -> dict[ObligationId, Money]:
    """Post each obligation's cumulative catch-up: earned to the period end minus what the
    journal already recognised. Running it twice posts nothing the second time."""
    posted: dict[ObligationId, Money] = {}
    with deps.uow(ctx) as uow:
        lock = period_lock(uow)
        lock.check(cmd.period.end, "recognise revenue")
        contracts = uow.contracts.all()
        books = load_books(uow, contracts)
        journal = uow.journal.all()
        for contract in books.contracts:
            revenue = _catch_up(contract, books, cmd, journal)
            revenue = {oid: amount for oid, amount in revenue.items() if not amount.is_zero()}
            if not revenue:
                continue
            balances = balances_from_journal(journal, revenue, contract.currency)
            entry = post_recognition(
                deps.ids.next_id("JE"), cmd.period.end, revenue, balances, lock
            )
            scope = scope_for_contract(uow, contract)
            post_entry(uow, ctx, deps.clock.now(), deps.charts, entry, scope)
            journal.append(entry)
            posted.update(revenue)
        audit(
            uow,
            ctx,
            deps,
            f"revenue:{cmd.period.key}",
            "recognise",
            None,
            None,
            f"{len(posted)} obligations",
        )
        uow.commit()
    return posted


def _catch_up(
    contract: Contract, books: ContractBooks, cmd: c.RecogniseRevenue, journal: list[JournalEntry]
) -> dict[ObligationId, Money]:
    ctx = RevenueContext(
        cmd.period.end,
        contract.currency,
        books.rate_cards,
        books.time_entries,
        books.expenses,
        books.milestones,
        books.ledger,
    )
    ids = contract.obligation_ids()
    already = balances_from_journal(journal, ids, contract.currency)
    return {
        oid: recognised_to_date(contract.obligation_history(oid), ctx) - already[oid].recognised
        for oid in ids
    }


def close_period(cmd: c.ClosePeriod, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        period = uow.periods.get(cmd.period)
        if period is None:
            period = AccountingPeriod.open(cmd.period)
            uow.periods.add(period)
        before = period.state
        now = deps.clock.now()
        period.close(UserId(ctx.actor), now.date(), now)
        audit(uow, ctx, deps, f"period:{cmd.period.key}", "close", before, period.state)
        uow.commit()


def reopen_period(cmd: c.ReopenPeriod, ctx: RequestContext, deps: Dependencies) -> None:
    """Reopening is its own permissioned, audited action with a reason."""
    with deps.uow(ctx) as uow:
        period = uow.periods.get(cmd.period)
        if period is None:
            raise NotFoundError(f"period {cmd.period.key} was never closed")
        before = period.state
        period.reopen(UserId(ctx.actor), cmd.reason, deps.clock.now())
        audit(
            uow, ctx, deps, f"period:{cmd.period.key}", "reopen", before, period.state, cmd.reason
        )
        uow.commit()
