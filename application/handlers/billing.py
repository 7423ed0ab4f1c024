"""Billing run → drafts → maker-checker approval → issue → hand-over to the ERP.

The dry run and the commit call the same pure `run_billing` on the same inputs; the commit
optionally checks the preview's fingerprint, so what a controller reviewed is what is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import timedelta

import attrs

from application import commands as c
from application.books import balances_from_journal, load_books, period_lock
from application.context import RequestContext
from application.errors import ConflictError, DownstreamUnavailableError, PostingMismatchError
from application.handlers.common import audit, raise_exception
from application.journal import document_tax_code, post_entry, scope_for_contract
from application.messagebus import Dependencies
from application.operations import BillingRunRecord
from application.payment_terms import terms_for
from application.records import ExceptionKind
from application.split_billing import billed_in_period
from application.unit_of_work import UnitOfWork
from domain.billing import Disposition, Exclusion, LedgerEntry, SourceKind
from domain.billing_run import (
    BillingProposal,
    BillingRunInput,
    ObligationDiff,
    diff_against_ledger,
    run_billing,
)
from domain.engagement import EngagementState
from domain.ids import ContractId, InvoiceId
from domain.invoice import DocumentKind, Invoice, InvoiceState
from domain.ledger import post_credit_memo, post_invoice_issue
from domain.milestone import MilestoneState
from domain.plausibility import check_period_started
from domain.tax import TaxQuestion, TaxTreatment, TaxUnresolved, tax_questions

BILLABLE_ENGAGEMENT_STATES = (
    EngagementState.ACTIVE,
    EngagementState.SUSPENDED,
    EngagementState.CLOSING,
)


@attrs.frozen
class BillingRunResult:
    proposal: BillingProposal
    diff: tuple[ObligationDiff, ...]
    fingerprint: str  # of the proposal; empty for a commit that was not given one to check
    invoice_ids: tuple[InvoiceId, ...] = ()
    #: Contracts not billed because their engagement is not billable (and its state).
    skipped: tuple[tuple[ContractId, str], ...] = ()


def fingerprint(proposal: BillingProposal) -> str:
    """A stable digest of a proposal (frozen values have a deterministic repr)."""
    return hashlib.sha256(repr(proposal).encode()).hexdigest()


def run_billing_command(
    cmd: c.RunBilling, ctx: RequestContext, deps: Dependencies
) -> BillingRunResult:
    """Dry run: the proposal and its diff. Commit: the same proposal stored as drafts, and
    a record of the run (what it drafted, how long it took) in the same transaction. Either
    way, only for a period that has begun (ADR 0025)."""
    check_period_started(cmd.period, deps.clock.now().date())
    started = deps.stopwatch.seconds()
    with deps.uow(ctx, read_only=cmd.dry_run) as uow:
        chosen = [uow.contracts.get(cid) for cid in cmd.contract_ids] or uow.contracts.all()
        engagements = uow.engagements.for_contracts(c.contract_id for c in chosen)
        billable, skipped = [], []
        for contract in chosen:
            engagement = engagements.get(contract.contract_id)
            if engagement is not None and engagement.state in BILLABLE_ENGAGEMENT_STATES:
                billable.append(contract)
            else:
                state = engagement.state.value if engagement else "no_engagement"
                skipped.append((contract.contract_id, f"engagement_{state}"))
        if not cmd.dry_run:
            uow.ledger.lock(c.contract_id for c in billable)
        books = load_books(uow, billable)
        run_input = BillingRunInput(
            cmd.period,
            books.contracts,
            books.rate_cards,
            books.time_entries,
            books.expenses,
            books.milestones,
            books.ledger,
            uow.master_data.tax_profiles(),
            uow.master_data.tax_rates(),
            cmd.invoice_date,
            billed_in_period=billed_in_period(uow, books.contracts, cmd.period),
        )
        proposal = run_billing(attrs.evolve(run_input, tax_answers=_tax_answers(deps, run_input)))
        diff = tuple(diff_against_ledger(proposal, books.ledger))
        if cmd.dry_run:
            return BillingRunResult(proposal, diff, fingerprint(proposal), (), tuple(skipped))
        expect = cmd.expected_fingerprint
        digest = fingerprint(proposal) if expect is not None else ""
        if expect is not None and expect != digest:
            raise ConflictError(
                "the billing proposal changed since it was previewed; preview it again"
            )
        period_lock(uow).check(cmd.invoice_date or cmd.period.end, "commit a billing run")
        invoice_ids = _store_drafts(uow, ctx, deps, proposal)
        _record_exclusions(uow, ctx, deps, proposal.exclusions)
        audit(
            uow,
            ctx,
            deps,
            f"billing_run:{cmd.period.key}",
            "commit",
            None,
            None,
            f"{len(invoice_ids)} documents, {len(proposal.exclusions)} exclusions",
        )
        uow.billing_runs.add(_run_record(cmd, ctx, deps, proposal, started))
        uow.commit()
    return BillingRunResult(proposal, diff, digest, invoice_ids, tuple(skipped))


def _tax_answers(
    deps: Dependencies, run: BillingRunInput
) -> Mapping[TaxQuestion, TaxTreatment | TaxUnresolved] | None:
    """What the tax engine says of every category the run may bill to each payer on its tax
    date (ADR 0030); None without an engine, and the run reads the tax table itself."""
    if deps.tax_engine is None:
        return None
    payers = {
        key: run.tax_profiles[key]
        for c in run.contracts
        for key in ((payer, c.legal_entity_id) for payer in c.payer_ids())
        if key in run.tax_profiles
    }
    questions = tax_questions(payers, (x.category for x in run.expenses), run.tax_date)
    return deps.tax_engine.treatments(questions, payers, run.tax_rates)


def _run_record(
    cmd: c.RunBilling,
    ctx: RequestContext,
    deps: Dependencies,
    proposal: BillingProposal,
    started: float,
) -> BillingRunRecord:
    """What operations is told about a committed run (timed up to its commit)."""
    return BillingRunRecord(
        period=cmd.period.key,
        invoices=len(proposal.invoices),
        adjustments=len(proposal.adjustments),
        duration=timedelta(seconds=max(0.0, deps.stopwatch.seconds() - started)),
        finished_at=deps.clock.now(),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def _store_drafts(
    uow: UnitOfWork, ctx: RequestContext, deps: Dependencies, proposal: BillingProposal
) -> tuple[InvoiceId, ...]:
    now = deps.clock.now()
    ids = []
    allocations: dict[ContractId, list[LedgerEntry]] = {}
    for draft in proposal.invoices:
        invoice_id = InvoiceId(deps.ids.next_id("INV"))
        invoice = Invoice.from_proposal(invoice_id, draft, ctx.actor, now)
        uow.invoices.add(invoice)
        allocations.setdefault(draft.contract_id, []).extend(draft.ledger_entries(invoice_id))
        audit(uow, ctx, deps, f"invoice:{invoice_id}", "draft", None, invoice.state)
        ids.append(invoice_id)
    for adjustment in proposal.adjustments:
        invoice_id = InvoiceId(deps.ids.next_id("ADJ"))
        invoice = Invoice.from_proposal(invoice_id, adjustment, ctx.actor, now, proposal.period)
        uow.invoices.add(invoice)
        allocations.setdefault(adjustment.contract_id, []).extend(
            adjustment.ledger_entries(invoice_id)
        )
        audit(
            uow,
            ctx,
            deps,
            f"invoice:{invoice_id}",
            "draft",
            None,
            invoice.state,
            f"{invoice.kind.value} re-rating {adjustment.references}",
        )
        ids.append(invoice_id)
    uow.ledger.add_all(allocations)
    return tuple(ids)


def _record_exclusions(
    uow: UnitOfWork, ctx: RequestContext, deps: Dependencies, exclusions: Sequence[Exclusion]
) -> None:
    """Held quantities wait for a decision; written-off ones are recorded as leakage."""
    now = deps.clock.now()
    for exclusion in exclusions:
        item_id = exclusion.source.source_id
        item = uow.delivery.time_entry(item_id) or uow.delivery.expense(item_id)
        if item is None:
            continue
        before = item.state
        if exclusion.disposition is Disposition.HELD:
            item.hold(exclusion.quantity, exclusion.reason, now)
        else:
            item.write_off_over_cap(exclusion.quantity, exclusion.reason, now)
        uow.delivery.save(item)
        audit(
            uow,
            ctx,
            deps,
            f"item:{item_id}",
            exclusion.disposition.value,
            before,
            item.state,
            exclusion.reason,
        )


def approve_invoice(cmd: c.ApproveInvoice, ctx: RequestContext, deps: Dependencies) -> None:
    """Maker-checker: the approver is not whoever created the draft."""
    with deps.uow(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        invoice.approve(ctx.actor, deps.clock.now())
        audit(
            uow,
            ctx,
            deps,
            f"invoice:{cmd.invoice_id}",
            "approve",
            InvoiceState.DRAFT,
            invoice.state,
        )
        uow.commit()


def discard_invoice(cmd: c.DiscardInvoice, ctx: RequestContext, deps: Dependencies) -> None:
    """A discarded draft releases every quantity it allocated back to unbilled."""
    with deps.uow(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        invoice.discard(cmd.reason, deps.clock.now())
        uow.ledger.remove_document(cmd.invoice_id)
        audit(
            uow,
            ctx,
            deps,
            f"invoice:{cmd.invoice_id}",
            "discard",
            InvoiceState.DRAFT,
            invoice.state,
            cmd.reason,
        )
        uow.commit()


def issue_invoice(cmd: c.IssueInvoice, ctx: RequestContext, deps: Dependencies) -> str:
    """Number the invoice, post it to the journal, then hand it over to the ERP."""
    with deps.uow(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        lock = period_lock(uow)
        number = uow.sequences.next_number("invoice", cmd.issue_date)
        before = invoice.state
        terms = terms_for(uow, deps.customer_master, invoice)
        invoice.issue(number, cmd.issue_date, deps.clock.now(), lock, terms)
        nets = invoice.totals.net_by_obligation(invoice.lines)
        balances = balances_from_journal(uow.journal.all(), nets, invoice.currency)
        if invoice.kind is DocumentKind.CREDIT_ADJUSTMENT:
            magnitudes = {oid: -amount for oid, amount in nets.items()}
            entry = post_credit_memo(
                deps.ids.next_id("JE"),
                number,
                cmd.issue_date,
                magnitudes,
                -invoice.totals.tax,
                balances,
                lock,
            )
        else:
            entry = post_invoice_issue(
                deps.ids.next_id("JE"),
                number,
                cmd.issue_date,
                nets,
                invoice.totals.tax,
                balances,
                lock,
            )
        contract = uow.contracts.get(invoice.contract_id)
        scope = attrs.evolve(
            scope_for_contract(uow, contract),
            legal_entity_id=invoice.legal_entity_id,
            customer_id=invoice.payer,
            tax_code=document_tax_code(invoice.totals),
        )
        post_entry(uow, ctx, deps.clock.now(), deps.charts, entry, scope)
        _mark_milestones_invoiced(uow, ctx, deps, invoice)
        audit(uow, ctx, deps, f"invoice:{cmd.invoice_id}", "issue", before, invoice.state, number)
        uow.commit()
    hand_over_invoice(c.HandOverInvoice(cmd.invoice_id), ctx, deps)
    return number


def _mark_milestones_invoiced(
    uow: UnitOfWork, ctx: RequestContext, deps: Dependencies, invoice: Invoice
) -> None:
    """An issued invoice that bills a milestone moves it from accepted to invoiced."""
    for line in invoice.lines:
        for allocation in line.allocations:
            if allocation.source.kind is not SourceKind.MILESTONE:
                continue
            milestone = uow.milestones.find(allocation.source.source_id)
            if milestone is not None and milestone.state is MilestoneState.ACCEPTED:
                milestone.mark_invoiced(deps.clock.now())
                uow.milestones.save(milestone)
                audit(
                    uow,
                    ctx,
                    deps,
                    f"milestone:{milestone.milestone_id}",
                    "mark_invoiced",
                    MilestoneState.ACCEPTED,
                    milestone.state,
                    invoice.number or "",
                )


def hand_over_invoice(cmd: c.HandOverInvoice, ctx: RequestContext, deps: Dependencies) -> bool:
    """Give the issued invoice to the ERP/billing platform; an outage goes to the retry queue."""
    with deps.uow(ctx) as uow:
        invoice = uow.invoices.get(cmd.invoice_id)
        subject = f"invoice:{cmd.invoice_id}"
        try:
            deps.handover.hand_over(f"{cmd.invoice_id}:handover", invoice)
            deps.crm.notify(
                f"{cmd.invoice_id}:issued",
                invoice.customer_id,
                "invoice_issued",
                {"invoice": invoice.number or "", "gross": str(invoice.totals.gross)},
            )
        except DownstreamUnavailableError as error:
            raise_exception(
                uow,
                ctx,
                deps,
                kind=ExceptionKind.DOWNSTREAM_UNAVAILABLE,
                workflow="invoice_handover",
                subject=subject,
                reason_code="downstream_unavailable",
                detail=str(error),
                replay={"command": "HandOverInvoice", "args": {"invoice_id": cmd.invoice_id}},
            )
            uow.commit()
            return False
        for item in uow.exceptions.open_for(subject):
            item.resolved(ctx.actor, deps.clock.now())
            uow.exceptions.save(item)
        uow.commit()
        return True


def confirm_invoice_posted(
    cmd: c.ConfirmInvoicePosted, ctx: RequestContext, deps: Dependencies
) -> None:
    """The ERP posted the invoice: the hand-over is complete (an open hand-over failure is
    resolved, since the invoice evidently arrived). A posting of something we did not issue,
    or under another number or gross, is refused for someone to reconcile."""
    with deps.uow(ctx) as uow:
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
                item.resolved(ctx.actor, deps.clock.now())
                uow.exceptions.save(item)
        audit(
            uow,
            ctx,
            deps,
            subject,
            "erp_posted",
            invoice.state,
            invoice.state,
            f"{cmd.erp_reference} on {cmd.posted_on.isoformat()}",
        )
        uow.commit()
