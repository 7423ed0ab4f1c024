"""Financial closure: payments, disputes, credit memos, revenue recognition, period close.

Every posting asks the period lock first, so nothing dated in a closed period is posted,
voided or credited, by any actor, background jobs and imports included. A payment (and a
dispute that carries its billing-platform id) is admitted by its natural key first, so the
same fact arriving again, by any channel, is a replay and never a second effect (ADR 0024).
"""

from __future__ import annotations

from application import commands as c
from application.books import ContractBooks, balances_from_journal, load_books, period_lock
from application.changes import RecordMoved, RunCompleted
from application.context import RequestContext
from application.delivery_records import delivery_of
from application.errors import NotFoundError
from application.journal import (
    document_tax_by_code,
    post_entry,
    posting_chart,
    scope_for_contract,
    scope_for_invoice,
)
from application.messagebus import UnitOfWorkFactory
from application.natural_keys import DISPUTE, PAYMENT, Admission, Fact, admit
from application.ports import Clock, IdGenerator
from application.status_feedback import StatusFeedback
from application.unit_of_work import UnitOfWork
from domain.accounting_period import AccountingPeriod, PeriodLock
from domain.chart_of_accounts import ChartsOfAccounts, UnmappedLegalEntityError
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.delivery_kinds import DeliveryRecords
from domain.ids import ObligationId, UserId
from domain.invoice import Invoice, InvoiceState
from domain.ledger import (
    JournalEntry,
    check_recognition_order,
    moves_nothing,
    post_credit_memo,
    post_payment,
    post_recognition,
)
from domain.money import Money
from domain.obligation import RevenueContext
from domain.plausibility import PlausibilityPolicy, check_period_started
from domain.revenue import recognised_to_date


def _payment(cmd: c.RecordPayment) -> Fact:
    amount = cmd.amount
    return PAYMENT.fact(
        cmd.payment_id,
        invoice_id=cmd.invoice_id,
        amount=amount,
        currency=amount.currency.code,
        received_on=cmd.received_on,
    )


def record_payment(
    cmd: c.RecordPayment,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
    plausibility: PlausibilityPolicy,
    feedback: StatusFeedback,
) -> None:
    """A payment is applied once per ERP payment id; the same payment again changes nothing
    but is told to the CRM and the project again (their calls are idempotent by key, so a
    notification that failed the first time is made good)."""
    plausibility.refuse_future(cmd.received_on, clock.now().date(), "the payment date")
    with unit_of_work(ctx) as uow:
        admission = admit(uow, _payment(cmd), ctx, clock.now())
        invoice = uow.invoices.get(cmd.invoice_id)
        if admission is Admission.NEW:
            _apply_payment(uow, ctx, cmd, invoice, clock, ids, charts)
            uow.commit()
    kind, amount = "payment_received", str(cmd.amount)
    feedback.tell(f"{cmd.payment_id}:crm", invoice, kind, amount=amount)


def _apply_payment(
    uow: UnitOfWork,
    ctx: RequestContext,
    cmd: c.RecordPayment,
    invoice: Invoice,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
) -> None:
    """The payment on the invoice and its entry in the journal, in one transaction."""
    lock = period_lock(uow)
    invoice.record_payment(cmd.payment_id, cmd.amount, cmd.received_on, clock.now(), lock)
    entry = post_payment(ids.next_id("JE"), cmd.payment_id, cmd.received_on, cmd.amount, lock)
    post_entry(uow, ctx, clock.now(), charts, entry, scope_for_invoice(uow, invoice))


def open_dispute(
    cmd: c.OpenDispute,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    feedback: StatusFeedback,
) -> None:
    """The dispute is recorded on the invoice and fed back to the project and the CRM account.
    A dispute the billing platform numbered is opened once: the same one again changes nothing
    and tells no one (by then the dispute may have moved on)."""
    with unit_of_work(ctx) as uow:
        if _known_dispute(uow, cmd, ctx, clock):
            return
        invoice = uow.invoices.get(cmd.invoice_id)
        invoice.open_dispute(cmd.reason, clock.now())
        uow.commit()
    key = f"{cmd.invoice_id}:dispute:{invoice.revision}"
    feedback.tell(key, invoice, "invoice_disputed", reason=cmd.reason)


def _known_dispute(uow: UnitOfWork, cmd: c.OpenDispute, ctx: RequestContext, clock: Clock) -> bool:
    """True when the billing platform's dispute was opened before (same invoice, same reason)."""
    if cmd.dispute_id is None:
        return False
    fact = DISPUTE.fact(cmd.dispute_id, invoice_id=cmd.invoice_id, reason=cmd.reason)
    return admit(uow, fact, ctx, clock.now()) is Admission.REPLAY


def resolve_dispute(
    cmd: c.ResolveDispute,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    feedback: StatusFeedback,
) -> None:
    with unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        invoice.resolve_dispute(cmd.resolution, clock.now())
        uow.commit()
    key, kind = f"{cmd.invoice_id}:resolved:{invoice.revision}", "dispute_resolved"
    feedback.tell(key, invoice, kind, resolution=cmd.resolution)


def draft_credit_memo(
    cmd: c.DraftCreditMemo, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    """Draft a credit against an invoice; it reserves what it credits (two aggregates, one
    transaction: the memo and the invoice's credit reservations, see ADR 0014)."""
    requests = [
        CreditRequest(r.line_no, r.source, r.quantity, r.amount, r.releases) for r in cmd.requests
    ]
    with unit_of_work(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
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
        subject, state = f"credit_memo:{cmd.credit_memo_id}", memo.state.value
        uow.record(RecordMoved(subject, "draft", None, state, cmd.reason))
        uow.commit()


def approve_credit_memo(
    cmd: c.ApproveCreditMemo, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Maker-checker: whoever drafted the credit cannot approve it."""
    with unit_of_work(ctx) as uow:
        memo = uow.credit_memos.get(cmd.credit_memo_id)
        before = memo.state.value
        memo.approve(ctx.actor, clock.now())
        subject = f"credit_memo:{cmd.credit_memo_id}"
        uow.record(RecordMoved(subject, "approve", before, memo.state.value))
        uow.commit()


def discard_credit_memo(
    cmd: c.DiscardCreditMemo, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    """A draft or approved credit is dropped with its reason; what it reserved on the invoice
    can be credited again. An issued credit is never discarded: a further credit or a new
    invoice corrects it."""
    with unit_of_work(ctx) as uow:
        memo = uow.credit_memos.get(cmd.credit_memo_id)
        before = memo.state.value
        memo.discard(uow.invoices.get(memo.invoice_id), cmd.reason)
        subject = f"credit_memo:{cmd.credit_memo_id}"
        uow.record(RecordMoved(subject, "discard", before, memo.state.value, cmd.reason))
        uow.commit()


def issue_credit_memo(
    cmd: c.IssueCreditMemo,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
    plausibility: PlausibilityPolicy,
    feedback: StatusFeedback,
) -> str:
    """Issue: the invoice owes less, the credited quantities return to unbilled (or are written
    off), and the reverse of what it credits is posted. A credit that ends the invoice's
    dispute is audited on the invoice and told to the CRM account and the project. Like an
    invoice, a credit memo is not dated after today (beyond the deployment's tolerance)."""
    plausibility.refuse_future(cmd.issue_date, clock.now().date(), "the issue date")
    with unit_of_work(ctx) as uow:
        memo = uow.credit_memos.get(cmd.credit_memo_id)
        invoice = uow.invoices.get(memo.invoice_id)
        disputed = invoice.state is InvoiceState.DISPUTED
        number = _issue(uow, ctx, cmd, memo, invoice, clock, ids, charts)
        uow.commit()
    resolution = _dispute_ended_by_credit(invoice, disputed)
    _tell_credit(feedback, cmd, memo, invoice, resolution)
    return number


def _issue(
    uow: UnitOfWork,
    ctx: RequestContext,
    cmd: c.IssueCreditMemo,
    memo: CreditMemo,
    invoice: Invoice,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
) -> str:
    """The memo issued against the invoice, its ledger entries, and the reverse of what it
    credits posted; the memo's number."""
    lock = period_lock(uow)
    number = uow.sequences.next_number("credit_memo", cmd.issue_date)
    memo.issue(invoice, number, cmd.issue_date, clock.now(), lock)
    uow.ledger.add(invoice.contract_id, memo.ledger_entries())
    nets = memo.totals.net_by_obligation(memo.lines)
    if moves_nothing(nets, memo.totals.tax):
        return number
    balances = balances_from_journal(uow.journal.all(), nets, invoice.currency)
    entry = post_credit_memo(
        ids.next_id("JE"),
        number,
        cmd.issue_date,
        nets,
        memo.totals.tax,
        balances,
        lock,
        tax_by_code=document_tax_by_code(memo.totals),
    )
    post_entry(uow, ctx, clock.now(), charts, entry, scope_for_invoice(uow, invoice))
    return number


def _tell_credit(
    feedback: StatusFeedback,
    cmd: c.IssueCreditMemo,
    memo: CreditMemo,
    invoice: Invoice,
    resolution: str | None,
) -> None:
    """The credit, and the end of a dispute it brought, told to the CRM and the project."""
    number, gross = memo.number or "", str(memo.totals.gross)
    key = f"{cmd.credit_memo_id}:issued"
    feedback.tell(key, invoice, "credit_memo_issued", credit_memo=number, gross=gross)
    if resolution is not None:
        key, kind = f"{cmd.credit_memo_id}:resolved", "dispute_resolved"
        feedback.tell(key, invoice, kind, resolution=resolution, credit_memo=number)


def _dispute_ended_by_credit(invoice: Invoice, was_disputed: bool) -> str | None:
    """The resolution recorded when issuing a credit ended the invoice's open dispute."""
    if not was_disputed or invoice.current_dispute is not None:
        return None
    return invoice.disputes[-1].resolution


def recognise_revenue(
    cmd: c.RecogniseRevenue,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
) -> c.RevenueRun:
    """Post each obligation's cumulative catch-up: earned to the period end minus what the
    journal already recognised. Running it twice posts nothing the second time. A contract
    whose legal entity has no chart of accounts is held back, not the whole run."""
    check_period_started(cmd.period, clock.now().date())
    with unit_of_work(ctx) as uow:
        lock = period_lock(uow)
        lock.check(cmd.period.end, "recognise revenue")
        contracts = uow.contracts.all()
        # Two runs at once would each read the journal before the other's entries and post
        # the same catch-up twice: the second waits here, then reads what the first posted.
        uow.ledger.lock(contract.contract_id for contract in contracts)
        run = _post_catch_ups(uow, ctx, cmd, lock, clock, ids, charts, contracts)
        reason = f"{len(run.posted)} obligations"
        if run.held:
            reason += f", {len(run.held)} contracts held (no chart of accounts)"
        uow.record(RunCompleted(f"revenue:{cmd.period.key}", "recognise", None, reason))
        uow.commit()
    return run


def _post_catch_ups(
    uow: UnitOfWork,
    ctx: RequestContext,
    cmd: c.RecogniseRevenue,
    lock: PeriodLock,
    clock: Clock,
    ids: IdGenerator,
    charts: ChartsOfAccounts | None,
    contracts: list[Contract],
) -> c.RevenueRun:
    """One recognition entry per contract that earned something since the last run."""
    posted: dict[ObligationId, Money] = {}
    held: list[c.RecognitionHeld] = []
    books = load_books(uow, contracts)
    delivery = delivery_of(uow, books.contracts)
    journal = uow.journal.all()
    check_recognition_order(cmd.period.end, journal)
    for contract in books.contracts:
        revenue = _catch_up(contract, books, cmd, journal, delivery)
        revenue = {oid: amount for oid, amount in revenue.items() if not amount.is_zero()}
        if not revenue:
            continue
        scope = scope_for_contract(uow, contract)
        try:
            posting_chart(uow, charts, scope.legal_entity_id)
        except UnmappedLegalEntityError as gap:
            held.append(c.RecognitionHeld(contract.contract_id, scope.legal_entity_id, str(gap)))
            continue
        balances = balances_from_journal(journal, revenue, contract.currency)
        entry = post_recognition(ids.next_id("JE"), cmd.period.end, revenue, balances, lock)
        post_entry(uow, ctx, clock.now(), charts, entry, scope)
        journal.append(entry)
        posted.update(revenue)
    return c.RevenueRun(posted, tuple(held))


def _catch_up(
    contract: Contract,
    books: ContractBooks,
    cmd: c.RecogniseRevenue,
    journal: list[JournalEntry],
    delivery: DeliveryRecords,
) -> dict[ObligationId, Money]:
    ids = contract.obligation_ids()
    ctx = RevenueContext(
        as_of=cmd.period.end,
        currency=contract.currency,
        rate_cards=books.rate_cards,
        time_entries=books.time_entries,
        expenses=books.expenses,
        milestones=books.milestones,
        ledger=books.ledger,
        delivery=delivery.for_obligations(ids),
    )
    already = balances_from_journal(journal, ids, contract.currency)
    return {
        oid: recognised_to_date(contract.obligation_history(oid), ctx.for_obligation(oid))
        - already[oid].recognised
        for oid in ids
    }


def close_period(
    cmd: c.ClosePeriod, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """A period that ended is closed by a named person; one never opened is opened to close."""
    now = clock.now()
    with unit_of_work(ctx) as uow:
        uow.periods.hold_for_closing()  # postings dated in it finish first, later ones see it
        period = uow.periods.get(cmd.period)
        if period is None:
            period = AccountingPeriod.open(cmd.period)
            uow.periods.add(period)
        period.close(UserId(ctx.actor), now.date(), now)
        uow.commit()


def reopen_period(
    cmd: c.ReopenPeriod, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Reopening is its own permissioned, audited action with a reason."""
    with unit_of_work(ctx) as uow:
        uow.periods.hold_for_closing()
        period = uow.periods.get(cmd.period)
        if period is None:
            raise NotFoundError(f"period {cmd.period.key} was never closed")
        period.reopen(UserId(ctx.actor), cmd.reason, clock.now())
        uow.commit()
