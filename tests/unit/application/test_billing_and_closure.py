"""Billing run → drafts → maker-checker → issue → hand-over; payments, disputes, credits,
revenue, period lock, outbox and the audit chain, through the application layer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from application import commands as c
from application.audit import verify_chain
from application.errors import ConflictError
from application.records import ExceptionKind
from domain.billing import SourceKind, SourceRef
from domain.errors import MakerCheckerError, PeriodClosedError
from domain.ids import CreditMemoId, InvoiceId, PaymentId, RateCardId, Role
from domain.invoice import InvoiceState
from domain.ledger import trial_balance
from domain.money import Money
from domain.period import Period
from domain.ratecard import RateCardVersion
from tests.unit.application.conftest import EUR, App, set_up_tm_contract, sign_contract, time_entry

MARCH = Period.month(2026, 3)
APRIL = Period.month(2026, 4)


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def billed_month(app: App) -> InvoiceId:
    set_up_tm_contract(app)
    app.do(
        c.RecordTimeEntries(
            (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
        )
    )
    result = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    (invoice_id,) = result.invoice_ids
    return InvoiceId(invoice_id)


def invoice(app: App, invoice_id: str):  # type: ignore[no-untyped-def]
    return app.data.aggregates["invoice"][invoice_id]


def test_the_dry_run_proposes_exactly_what_the_commit_stores(app: App) -> None:
    set_up_tm_contract(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    preview = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert preview.invoice_ids == ()
    assert app.data.aggregates["invoice"] == {}  # a preview stores nothing
    (row,) = preview.diff
    assert (row.already_invoiced, row.proposed) == (eur("0.00"), eur("800.00"))
    ctx = app.as_("billing-clerk")
    committed = app.bus.handle(
        c.RunBilling(MARCH, dry_run=False, expected_fingerprint=preview.fingerprint), ctx
    )
    assert committed.proposal == preview.proposal
    stored = invoice(app, committed.invoice_ids[0])
    assert stored.lines == preview.proposal.invoices[0].lines
    assert app.do(c.RunBilling(MARCH)).proposal.is_empty  # nothing is billed twice


def test_a_commit_refuses_a_proposal_that_changed_since_its_preview(app: App) -> None:
    set_up_tm_contract(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    preview = app.do(c.RunBilling(MARCH))
    app.do(c.RecordTimeEntries((time_entry("t2", date(2026, 3, 9), "1"),)))
    with pytest.raises(ConflictError, match="changed since it was previewed"):
        app.do(c.RunBilling(MARCH, dry_run=False, expected_fingerprint=preview.fingerprint))
    assert app.data.aggregates["invoice"] == {}


def test_issue_needs_a_second_person_then_posts_and_hands_over_once(app: App) -> None:
    invoice_id = billed_month(app)
    with pytest.raises(MakerCheckerError):
        app.do(c.ApproveInvoice(invoice_id), actor="billing-clerk")
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    number = app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    assert number == "INV-2026-000001"
    issued = invoice(app, invoice_id)
    assert issued.state is InvoiceState.ISSUED
    assert issued.totals.gross == eur("1440.00")  # 12 h x 100 + 20 % VAT
    (entry,) = app.data.journal
    balances = trial_balance([entry])
    assert sum((v.amount for v in balances.values()), Decimal(0)) == 0
    assert list(app.handover.received) == [f"{invoice_id}:handover"]
    assert app.crm.updates[f"{invoice_id}:issued"][1] == "invoice_issued"


def test_an_erp_outage_at_hand_over_queues_a_retry_and_the_invoice_stays_issued(app: App) -> None:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.handover.available = False
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    assert invoice(app, invoice_id).state is InvoiceState.ISSUED
    exception = app.the_exception(ExceptionKind.DOWNSTREAM_UNAVAILABLE)
    app.handover.available = True
    app.clock.advance(minutes=1)
    assert app.do(c.RetryDueExceptions()) == [exception.exception_id]
    assert list(app.handover.received) == [f"{invoice_id}:handover"]


def test_payments_disputes_and_a_partial_credit_flow_back_to_the_crm(app: App) -> None:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    app.do(c.OpenDispute(invoice_id, "4 h not delivered"), actor="ar-clerk")
    assert invoice(app, invoice_id).state is InvoiceState.DISPUTED
    t2 = SourceRef(SourceKind.TIME_ENTRY, "t2")
    app.do(
        c.DraftCreditMemo(
            CreditMemoId("CM-1"),
            invoice_id,
            (c.CreditRequestInput(1, t2),),
            "4 h not delivered",
            resolves_dispute=True,
        ),
        actor="ar-clerk",
    )
    app.do(c.ApproveCreditMemo(CreditMemoId("CM-1")), actor="finance-lead")
    number = app.do(c.IssueCreditMemo(CreditMemoId("CM-1"), date(2026, 4, 3)), actor="finance-lead")
    assert number == "CN-2026-000001"
    after = invoice(app, invoice_id)
    assert after.state is InvoiceState.ISSUED  # the credit resolved the dispute
    assert after.outstanding == eur("960.00")  # 1,440.00 - (400.00 + 80.00)
    app.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("960.00"), date(2026, 4, 20)))
    assert invoice(app, invoice_id).state is InvoiceState.PAID
    kinds = [kind for _, kind, _ in app.crm.updates.values()]
    assert kinds == [
        "invoice_issued",
        "invoice_disputed",
        "credit_memo_issued",
        "dispute_resolved",
        "payment_received",
    ]
    # the project team hears about the dispute, the credit, its resolution and the payment too:
    # all the CRM hears after the issue
    project = [kind for _, kind, _ in app.projects.reports.values()]
    assert project == kinds[1:]
    # the credited 4 h, and only those, are billable again
    app.clock.advance(days=31)  # April has begun: a run may bill it
    rebill = app.do(c.RunBilling(APRIL)).proposal
    allocations = [a for line in rebill.invoices[0].lines for a in line.allocations]
    assert [(a.source, a.quantity) for a in allocations] == [(t2, Decimal("4"))]
    assert sum((v.amount for v in trial_balance(app.data.journal).values()), Decimal(0)) == 0


def test_nothing_is_posted_in_a_closed_period_by_anyone(app: App) -> None:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    app.clock.advance(days=31)  # it is April now: March has ended and can be closed
    app.do(c.ClosePeriod(MARCH), actor="controller")
    with pytest.raises(PeriodClosedError):
        app.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("10.00"), date(2026, 3, 31)))
    with pytest.raises(PeriodClosedError):
        app.do(c.RecogniseRevenue(MARCH), actor="revenue-job")  # a background job too
    app.do(c.RecordTimeEntries((time_entry("t3", date(2026, 3, 20), "1"),)))
    with pytest.raises(PeriodClosedError):
        app.do(c.RunBilling(MARCH, dry_run=False, invoice_date=date(2026, 3, 31)), actor="import")
    app.do(c.ReopenPeriod(MARCH, "late supplier invoice"), actor="controller")
    app.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("10.00"), date(2026, 3, 31)))
    reopen = next(r for r in app.data.audit if r.action == "reopen")
    assert (reopen.actor, reopen.reason) == ("controller", "late supplier invoice")


def test_a_period_ending_in_the_future_cannot_be_closed(app: App) -> None:
    from domain.accounting_period import PeriodNotEndedError

    with pytest.raises(PeriodNotEndedError):
        app.do(c.ClosePeriod(MARCH), actor="controller")  # the clock says 1 March


def test_revenue_recognition_posts_the_catch_up_once(app: App) -> None:
    billed_month(app)
    first = app.do(c.RecogniseRevenue(MARCH), actor="revenue-job")
    assert [str(v) for v in first.posted.values()] == ["1,200.00 EUR"]  # 12 h x 100 incurred
    assert first.held == ()
    assert app.do(c.RecogniseRevenue(MARCH), actor="revenue-job") == c.RevenueRun({})


def test_every_change_writes_its_events_to_the_outbox_with_the_correlation_id(app: App) -> None:
    set_up_tm_contract(app)
    types = [e.event_type for e in app.data.outbox]
    assert "EngagementProposed" in types
    assert "EngagementActivated" in types or "Activated" in types
    assert {e.correlation_id for e in app.data.outbox} == {"corr-1"}
    assert len({e.event_id for e in app.data.outbox}) == len(app.data.outbox)


def test_the_audit_verifier_names_the_first_tampered_record(app: App) -> None:
    billed_month(app)
    records = list(app.data.audit)
    assert verify_chain(records).intact
    tampered = list(records)
    tampered[3] = attrs.evolve(tampered[3], actor="someone-else")
    report = verify_chain(tampered)
    assert report.first_broken == records[3].sequence
    removed = records[:2] + records[3:]
    assert verify_chain(removed).first_broken == records[3].sequence


def test_reconciliation_lists_each_exception_with_control_totals_and_a_clean_rerun_is_empty(
    app: App,
) -> None:
    invoice_id = billed_month(app)  # t1 8 h and t2 4 h, billed
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    number = app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    app.psa.rows = [
        ("t1", date(2026, 3, 2), Decimal("8")),
        ("t2", date(2026, 3, 3), Decimal("5")),  # the PSA says 5 h, we hold 4 h
        ("t9", date(2026, 3, 4), Decimal("2")),  # never reached us
        ("t9", date(2026, 3, 4), Decimal("2")),  # and exported twice
    ]
    app.erp.rows = [
        (number, date(2026, 3, 31), eur("1400.00")),  # 1,440.00 issued
        ("INV-2026-999999", date(2026, 3, 31), eur("10.00")),  # not ours
    ]
    report = app.do(c.Reconcile(MARCH), actor="controller")
    found = {(x.area, x.kind, x.subject) for x in report.exceptions}
    assert found == {
        ("hours", "duplicate_in_psa", "t9"),
        ("hours", "hours_mismatch", "t2"),
        ("hours", "missing_in_throughline", "t9"),
        ("receivables", "amount_mismatch", number),
        ("receivables", "missing_in_throughline", "INV-2026-999999"),
    }
    totals = report.totals
    assert (totals.psa_hours, totals.approved_hours, totals.billed_hours) == (
        Decimal("15"),  # 8 + 5 + 2 (the duplicate counted once)
        Decimal("12"),
        Decimal("12"),
    )
    assert totals.issued_gross == (eur("1440.00"),)
    assert totals.erp_gross == (eur("1410.00"),)
    app.psa.rows = [("t1", date(2026, 3, 2), Decimal("8")), ("t2", date(2026, 3, 3), Decimal("4"))]
    app.erp.rows = [(number, date(2026, 3, 31), eur("1440.00"))]
    assert app.do(c.Reconcile(MARCH), actor="controller").clean


def test_setup_plans_the_milestones_and_passive_acceptance_makes_them_billable(app: App) -> None:
    from domain.ids import ContractId, MilestoneId, ObligationId
    from domain.milestone import MilestoneState
    from domain.milestone_billing import MilestoneSpec, MilestoneTerms

    set_up_tm_contract(app)  # rates, tax and a first engagement
    terms = MilestoneTerms(
        ObligationId("ms"), "Programme", EUR, Decimal("1000.00"),
        (MilestoneSpec(MilestoneId("M1"), "Design", percentage=Decimal("40")),
         MilestoneSpec(MilestoneId("M2"), "Build", percentage=Decimal("60"), final=True)),
        passive_acceptance_days=10,
    )  # fmt: skip
    sign_contract(app, "E2", "C2", "Programme", [terms])
    planned = app.data.aggregates["milestone"]
    assert {m: planned[m].state for m in planned} == {
        "M1": MilestoneState.PLANNED,
        "M2": MilestoneState.PLANNED,
    }
    app.do(c.CompleteMilestone(MilestoneId("M1"), "design pack signed", date(2026, 3, 2)))
    assert app.do(c.AcceptDueMilestones(date(2026, 3, 11))) == []  # 9 days: not yet
    assert app.do(c.AcceptDueMilestones(date(2026, 3, 12)), actor="acceptance-job") == ["M1"]
    proposal = app.do(c.RunBilling(MARCH, contract_ids=(ContractId("C2"),))).proposal
    assert proposal.invoices[0].totals.net == eur("400.00")  # 40 % of 1,000.00


def test_an_amendment_touches_only_what_it_changes(app: App) -> None:
    from domain.ids import ContractId, MilestoneId, ObligationId, RateCardId
    from domain.milestone_billing import MilestoneSpec, MilestoneTerms
    from domain.time_and_materials import TimeAndMaterialsTerms

    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    issued_before = attrs.asdict(invoice(app, invoice_id), recurse=False)["lines"]
    phase = MilestoneTerms(
        ObligationId("ph2"), "Phase 2", EUR, Decimal("5000.00"),
        (MilestoneSpec(MilestoneId("P2-1"), "Go-live", percentage=Decimal("100")),),
    )  # fmt: skip
    same_tm = TimeAndMaterialsTerms(ObligationId("tm"), "Advisory", EUR, RateCardId("RC"))
    app.do(c.DraftContractVersion(ContractId("C1"), date(2026, 4, 1), (same_tm, phase)))
    app.do(c.ApproveContractVersion(ContractId("C1"), 2), actor="legal")
    amend = next(r for r in app.data.audit if r.action == "amend")
    assert amend.reason == "added ['ph2'], removed [], changed []"
    assert "P2-1" in app.data.aggregates["milestone"]  # the new milestone is planned
    assert invoice(app, invoice_id).lines == issued_before  # the issued invoice is untouched


def test_held_items_wait_for_a_decision_then_bill_or_leak(app: App) -> None:
    from domain.time_and_materials import NotToExceed, OveragePolicy

    set_up_tm_contract(app, cap=NotToExceed(amount=Decimal("1000"), policy=OveragePolicy.HOLD))
    app.do(
        c.RecordTimeEntries(
            (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
        )
    )
    first = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    assert first.proposal.invoices[0].totals.net == eur("1000.00")  # 8 h + 2 h up to the cap
    assert app.data.time_entries["t2"].held == Decimal("2")  # the commit recorded the hold
    assert app.do(c.RunBilling(MARCH)).proposal.is_empty
    app.do(c.ReleaseHeldItem("t2"), actor="engagement-partner")
    second = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    (line,) = second.proposal.invoices[0].lines
    assert (line.quantity, line.flags) == (Decimal("2"), ("approved_over_cap",))
    actions = [r.action for r in app.data.audit if r.subject == "item:t2"]
    assert actions == ["held", "release"]


def issued_at_a_quarter_an_hour(app: App, hours: str) -> tuple[str, str]:
    """t1 of `hours` in March, rated 0.25 an hour from 1 March, billed, approved and issued on
    31 March: the invoice's id and number."""
    set_up_tm_contract(app)
    cheap = RateCardVersion(2, date(2026, 3, 1), EUR, {Role("consultant"): Decimal("0.25")})
    app.do(c.PublishRateCardVersion(RateCardId("RC"), cheap))
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), hours),)))
    (invoice_id,) = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk").invoice_ids
    app.do(c.ApproveInvoice(InvoiceId(invoice_id)), actor="finance-lead")
    number = app.do(c.IssueInvoice(InvoiceId(invoice_id), date(2026, 3, 31)), actor="finance-lead")
    return invoice_id, number


def test_a_credit_that_comes_to_nothing_is_issued_and_posts_no_entry(app: App) -> None:
    """0.02 h at 0.25 an hour bills 0.01 (0.005 rounded half up); crediting 0.01 h of it takes
    0.0025, which cumulative rounding makes 0.00. The memo is numbered for what it releases,
    and no journal entry is posted for it; the next 0.01 h credits the cent."""
    invoice_id, _ = issued_at_a_quarter_an_hour(app, "0.02")
    assert invoice(app, invoice_id).totals.gross == eur("0.01")
    t1 = SourceRef(SourceKind.TIME_ENTRY, "t1")
    numbers, posted = [], []
    for memo_id in ("CM-1", "CM-2"):
        line = c.CreditRequestInput(1, t1, Decimal("0.01"))
        app.do(c.DraftCreditMemo(CreditMemoId(memo_id), InvoiceId(invoice_id), (line,), "slip"),
               actor="ar-clerk")  # fmt: skip
        app.do(c.ApproveCreditMemo(CreditMemoId(memo_id)), actor="finance-lead")
        journal_before = len(app.data.journal)
        issue = c.IssueCreditMemo(CreditMemoId(memo_id), date(2026, 4, 3))
        numbers.append(app.do(issue, actor="finance-lead"))
        posted.append(len(app.data.journal) - journal_before)
    assert numbers == ["CN-2026-000001", "CN-2026-000002"]
    assert posted == [0, 1]  # the memo of 0.00 moved no account
    gross = [app.data.aggregates["credit_memo"][m].totals.gross for m in ("CM-1", "CM-2")]
    assert gross == [eur("0.00"), eur("0.01")]
    assert invoice(app, invoice_id).outstanding == eur("0.00")
    assert sum((v.amount for v in trial_balance(app.data.journal).values()), Decimal(0)) == 0


def test_an_invoice_that_comes_to_nothing_is_issued_and_posts_no_entry(app: App) -> None:
    """0.01 h at 0.25 an hour is worth 0.0025: a line of 0.00. The invoice is numbered for the
    hour it bills, and its issue posts nothing instead of failing on an empty entry."""
    invoice_id, number = issued_at_a_quarter_an_hour(app, "0.01")
    assert number == "INV-2026-000001"
    assert invoice(app, invoice_id).totals.gross == eur("0.00")
    assert invoice(app, invoice_id).state is InvoiceState.ISSUED
    assert app.data.journal == []
