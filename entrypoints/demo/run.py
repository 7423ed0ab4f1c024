"""Sending the reference scenarios' steps through the message bus.

`ScenarioRun` offers the verbs a scenario script uses (propose, sign, record time, bill, pay,
dispute, credit...), each a command handled by the application layer exactly as the CRM, the
contract system, the time app, finance and the ERP would send it, and notes what happened in
the scenario's own words. `entrypoints.demo.bus.Loader` is the plumbing they share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from application import commands as c
from application.context import RequestContext
from application.handlers.billing import BillingRunResult
from application.handlers.delivery import IngestionReport
from application.ports import CustomerRecord
from application.queries.snapshot import UnitOfWorkSnapshot
from domain.billing import SourceRef
from domain.engagement import EngagementState
from domain.ids import (
    ContractId,
    CreditMemoId,
    CustomerId,
    EngagementId,
    LegalEntityId,
    MilestoneId,
    ObligationId,
    PaymentId,
    TaskId,
    TimeEntryId,
)
from domain.milestone_billing import MilestoneTerms
from domain.money import Money
from domain.period import Period
from entrypoints.demo.bus import IssuedInvoice, Loader, ScenarioLoad
from entrypoints.demo.firm import (
    AR_CLERK,
    BILLING_CLERK,
    CONTROLLER,
    ENGAGEMENT_MANAGER,
    LEGAL,
    MASTER_DATA,
    SALES,
    SETUP,
    TIME_APP,
)
from entrypoints.demo.result import BlockedView, ExclusionView
from entrypoints.demo.steps import Step, StepKind, Work

#: The metering system that reports usage (a declared delivery kind, ADR 0050).
METERING = "metering"


class ScenarioRun:
    """One scenario's view of the loader: its commands, its notes, its engagements."""

    def __init__(self, loader: Loader, number: int, title: str, summary: str) -> None:
        self.loader, self.number, self.title, self.summary = loader, number, title, summary
        self.steps: list[Step] = []
        self.engagements: dict[EngagementId, CustomerId] = {}
        self.finished: date | None = None
        self.planned: dict[EngagementId, list[str]] = {}
        self.contract_of: dict[ObligationId, ContractId] = {}
        self.exclusions: list[ExclusionView] = []
        self.blocked: list[BlockedView] = []
        self._counters: defaultdict[str, int] = defaultdict(int)

    # Plumbing -----------------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self.loader.today

    def do(self, actor: str, command: object) -> Any:
        return self.loader.do(actor, command, f"s{self.number}")

    def note(self, actor: str, kind: StepKind, text: str) -> None:
        self.steps.append(Step(self.today, actor, kind, text))

    def next_id(self, prefix: str) -> str:
        self._counters[prefix] += 1
        return f"{prefix}-{self.number}{self._counters[prefix]:03d}"

    def _ctx(self, actor: str) -> RequestContext:
        return self.loader.context(actor, f"s{self.number}")

    # Deals, contracts, setup --------------------------------------------------------------

    @staticmethod
    def contract(
        contract_id: str, customer: str, entity: LegalEntityId, currency: str, name: str
    ) -> c.RegisterContract:
        """The contract as the contract system registers it."""
        return c.RegisterContract(
            ContractId(contract_id), CustomerId(customer), entity, currency, name
        )

    def propose(self, engagement_id: str, customer: str, contract_id: str, text: str) -> None:
        eid = EngagementId(engagement_id)
        self.do(SALES, c.ProposeEngagement(eid, CustomerId(customer), ContractId(contract_id)))
        self.engagements[eid] = CustomerId(customer)
        self.note(SALES, StepKind.LIFECYCLE, f"{text}: engagement {eid} proposed")

    def sign(
        self,
        engagement_id: str,
        contract: c.RegisterContract,
        obligations: Sequence[Any],
        label: str,
        text: str,
    ) -> str | None:
        """The contract system registers the contract, drafts and approves its first version;
        approval sets the engagement up. Returns the exception id when the setup is blocked."""
        self.do(LEGAL, contract)
        self.do(
            LEGAL,
            c.DraftContractVersion(contract.contract_id, self.today, tuple(obligations), label),
        )
        self.do(LEGAL, c.ApproveContractVersion(contract.contract_id, 1))
        for terms in obligations:
            self.loader.owners[terms.obligation_id] = self
            self.contract_of[terms.obligation_id] = contract.contract_id
        self.note(LEGAL, StepKind.CONTRACT, f"{contract.contract_id} {label} approved: {text}")
        milestones = [
            m.name for t in obligations if isinstance(t, MilestoneTerms) for m in t.milestones
        ]
        self.planned[EngagementId(engagement_id)] = milestones
        return self._setup_outcome(EngagementId(engagement_id), replayed=False)

    def _setup_outcome(self, eid: EngagementId, *, replayed: bool) -> str | None:
        engagement = UnitOfWorkSnapshot(self.loader.read, self._ctx(SETUP)).engagement(eid)
        did = "replayed" if replayed else "ran"
        if engagement.state is EngagementState.ACTIVE:
            milestones = self.planned.get(eid)
            planned = f", milestones planned ({', '.join(milestones)})" if milestones else ""
            self.note(
                SETUP,
                StepKind.LIFECYCLE,
                f"Setup of {eid} {did}: customer validated against the ERP master, tax profile "
                f"stored, project provisioned in the PSA{planned}; engagement active",
            )
            return None
        (item,) = UnitOfWorkSnapshot(self.loader.read, self._ctx(SETUP)).open_exceptions_for(
            f"engagement:{eid}"
        )
        self.note(
            SETUP,
            StepKind.BLOCKED,
            f"Setup of {eid} {did}, then {engagement.state.value}: exception {item.exception_id} "
            f"[{item.kind.value} / {item.reason_code}] in the finance queue: {item.detail}",
        )
        return item.exception_id

    def amend(
        self, contract_id: str, version: int, obligations: Sequence[Any], label: str, text: str
    ) -> None:
        cid = ContractId(contract_id)
        self.do(LEGAL, c.DraftContractVersion(cid, self.today, tuple(obligations), label))
        self.do(LEGAL, c.ApproveContractVersion(cid, version))
        for terms in obligations:
            self.loader.owners[terms.obligation_id] = self
            self.contract_of[terms.obligation_id] = cid
        self.note(LEGAL, StepKind.CONTRACT, f"{contract_id} {label} approved: {text}")

    def fix_customer_master(self, record: CustomerRecord, text: str) -> None:
        """Finance corrects the ERP (the system of record), not Throughline."""
        self.loader.master.records[(record.customer_id, record.legal_entity_id)] = record
        self.note(MASTER_DATA, StepKind.MASTER_DATA, text)

    def replay(self, exception_id: str, engagement_id: str) -> None:
        healed = self.do(MASTER_DATA, c.ReplayException(exception_id))
        self.note(
            MASTER_DATA,
            StepKind.MASTER_DATA,
            f"Exception {exception_id} replayed by finance: "
            f"{'resolved' if healed else 'still failing'}",
        )
        self._setup_outcome(EngagementId(engagement_id), replayed=True)

    # Delivery -----------------------------------------------------------------------------

    def milestone(self, milestone_id: str, evidence: str) -> None:
        self.do(
            ENGAGEMENT_MANAGER, c.CompleteMilestone(MilestoneId(milestone_id), evidence, self.today)
        )
        self.note(
            ENGAGEMENT_MANAGER, StepKind.DELIVERY, f"{milestone_id} completed, evidence: {evidence}"
        )

    def accept(self, milestone_id: str, by: str) -> None:
        self.do(by, c.AcceptMilestone(MilestoneId(milestone_id), self.today))
        self.note(by, StepKind.DELIVERY, f"{milestone_id} accepted by the client")

    def report(self, kind: str, records: Sequence[Any], what: str) -> None:
        """A PSA or a metering system reports a batch of a declared delivery kind's records;
        each is accepted, a duplicate, a correction of its earlier revision, or refused."""
        report: c.DeliveryRecordsReport = self.do(
            METERING, c.RecordDeliveryRecords(kind, tuple(records), reported_by=METERING)
        )
        for rejection in report.rejected:
            self.note(
                METERING,
                StepKind.REFUSED,
                f"{kind} record {rejection.item_id} refused [{rejection.reason_code}]: "
                f"{rejection.detail}",
            )
        told = [
            f"{len(ids)} {word}"
            for ids, word in ((report.accepted, "new"), (report.corrected, "corrected"))
            if ids
        ]
        if told:
            self.note(METERING, StepKind.DELIVERY, f"{what}: {', '.join(told)}")

    def time(
        self, engagement_id: str, obligation: ObligationId, work: Sequence[Work], what: str
    ) -> IngestionReport:
        """The time app sends a batch of approved time; each entry is accepted or refused."""
        entries = tuple(
            c.TimeEntryInput(
                TimeEntryId(w.entry_id),
                EngagementId(engagement_id),
                obligation,
                w.who.resource_id,
                w.who.role,
                w.day,
                Decimal(w.hours),
                TaskId("DELIVERY" if w.billable else "INTERNAL"),
                w.billable,
            )
            for w in work
        )
        report: IngestionReport = self.do(
            TIME_APP, c.RecordTimeEntries(entries, ENGAGEMENT_MANAGER)
        )
        by_id = {w.entry_id: w for w in work}
        for rejection in report.rejected:
            w = by_id[rejection.item_id]
            self.note(
                TIME_APP,
                StepKind.REFUSED,
                f"Time entry {w.entry_id} ({w.who.name}, {w.hours} h on {w.day.isoformat()}) "
                f"refused [{rejection.reason_code}]: {rejection.detail}",
            )
        if report.accepted:
            accepted = [by_id[i] for i in report.accepted]
            billable = sum((Decimal(w.hours) for w in accepted if w.billable), Decimal(0))
            other = sum((Decimal(w.hours) for w in accepted if not w.billable), Decimal(0))
            text = (
                f"{len(accepted)} time entr{'y' if len(accepted) == 1 else 'ies'} accepted "
                f"and approved ({what}): {billable.normalize():f} h billable"
            )
            if other:
                text += f", plus {other.normalize():f} h on a non-billable task"
            self.note(ENGAGEMENT_MANAGER, StepKind.TIME, text)
        return report

    # Billing and cash ---------------------------------------------------------------------

    def bill(
        self, period: Period, contracts: Sequence[str], *, dry_run: bool = False
    ) -> list[IssuedInvoice]:
        """A billing run for this scenario's contracts, then each draft approved by the
        controller (not its maker), issued, posted and handed over to the ERP."""
        run = c.RunBilling(period, dry_run, tuple(ContractId(x) for x in contracts), self.today)
        result: BillingRunResult = self.do(BILLING_CLERK, run)
        proposal = result.proposal
        label = f"Billing run {period.key}{' (dry run)' if dry_run else ''}"
        if proposal.adjustments:
            raise RuntimeError("no reference scenario re-rates billed work")
        self._keep_what_was_not_billed(result, dry_run=dry_run)
        for blocked in proposal.blocked:
            self.note(
                BILLING_CLERK,
                StepKind.BLOCKED,
                f"{label}: contract {blocked.contract_id} blocked [{blocked.reason}]: "
                f"{blocked.detail}",
            )
        for x in proposal.exclusions:
            self.note(
                BILLING_CLERK,
                StepKind.BILLING,
                f"{label}: {x.quantity.normalize():f} h of {x.source.source_id} not billed "
                f"({x.disposition.value}, {x.reason}), worth {x.value.quantized()}",
            )
        if not proposal.invoices and not proposal.blocked:
            self.note(
                BILLING_CLERK,
                StepKind.BILLING,
                f"{label}: nothing to bill for {', '.join(contracts)}",
            )
        if dry_run:
            for draft in proposal.invoices:
                self.note(
                    BILLING_CLERK,
                    StepKind.BILLING,
                    f"{label}: would invoice {draft.contract_id} {draft.totals.gross}",
                )
            return []
        issued = []
        for invoice_id, draft in zip(result.invoice_ids, proposal.invoices, strict=False):
            self.do(CONTROLLER, c.ApproveInvoice(invoice_id))
            number = self.do(BILLING_CLERK, c.IssueInvoice(invoice_id, self.today))
            issued.append(IssuedInvoice(invoice_id, number, draft))
            totals = draft.totals
            self.note(
                f"{BILLING_CLERK} -> {CONTROLLER}",
                StepKind.INVOICE,
                f"Invoice {number} to {self.loader.customer(draft.customer_id)} drafted by "
                f"{BILLING_CLERK}, approved by {CONTROLLER}, issued, posted and handed over to "
                f"the ERP: {len(draft.lines)} line{'s' if len(draft.lines) != 1 else ''}, "
                f"net {totals.net}, tax {totals.tax}, gross {totals.gross}",
            )
        return issued

    def _keep_what_was_not_billed(self, result: BillingRunResult, *, dry_run: bool) -> None:
        """The run's exclusions and blocked contracts, for the report (a dry run's exclusions
        are those of the real run that follows, so only its blocked contracts are kept)."""
        proposal = result.proposal
        for blocked in proposal.blocked:
            self.blocked.append(
                BlockedView(self.today, blocked.contract_id, blocked.reason, blocked.detail)
            )
        if dry_run:
            return
        for x in proposal.exclusions:
            self.exclusions.append(
                ExclusionView(
                    self.today,
                    self.contract_of[x.obligation_id],
                    x.obligation_id,
                    str(x.source),
                    x.quantity,
                    x.value.quantized(),
                    x.disposition.value,
                    x.reason,
                )
            )

    def pay(self, invoice: IssuedInvoice, amount: Decimal | None = None, payer: str = "") -> None:
        ctx = self._ctx(AR_CLERK)
        due = (
            amount
            if amount is not None
            else UnitOfWorkSnapshot(self.loader.read, ctx)
            .invoice(invoice.invoice_id)
            .outstanding.amount
        )
        money = Money(due, invoice.gross.currency)
        payment = PaymentId(self.next_id("PAY"))
        self.do(AR_CLERK, c.RecordPayment(invoice.invoice_id, payment, money, self.today))
        after = UnitOfWorkSnapshot(self.loader.read, ctx).invoice(invoice.invoice_id)
        who = payer or self.loader.customer(invoice.proposal.customer_id)
        self.note(
            AR_CLERK,
            StepKind.PAYMENT,
            f"Payment {payment} of {money} from {who} applied to {invoice.number}; invoice "
            f"{after.state.value}, {after.outstanding} open; the CRM account is told",
        )

    def dispute(self, invoice: IssuedInvoice, reason: str) -> None:
        self.do(AR_CLERK, c.OpenDispute(invoice.invoice_id, reason))
        self.note(
            AR_CLERK,
            StepKind.DISPUTE,
            f"{self.loader.customer(invoice.proposal.customer_id)} disputes {invoice.number}: "
            f"{reason}. Recorded on the invoice and sent to the CRM account",
        )

    def credit(
        self,
        invoice: IssuedInvoice,
        sources: Sequence[SourceRef],
        reason: str,
        *,
        write_off: bool,
        resolves_dispute: bool = False,
    ) -> str:
        """A credit memo for exactly these sources of the invoice, drafted by accounts
        receivable, approved by the controller, issued and posted (resolving the invoice's
        dispute when it says so)."""
        requests = tuple(
            c.CreditRequestInput(line.line_no, a.source)
            for line in invoice.proposal.lines
            for a in line.allocations
            if a.source in sources
        )
        memo = CreditMemoId(self.next_id("CM"))
        draft = c.DraftCreditMemo(
            memo, invoice.invoice_id, requests, reason, write_off, resolves_dispute
        )
        self.do(AR_CLERK, draft)
        self.do(CONTROLLER, c.ApproveCreditMemo(memo))
        number: str = self.do(AR_CLERK, c.IssueCreditMemo(memo, self.today))
        after = UnitOfWorkSnapshot(self.loader.read, self._ctx(AR_CLERK)).invoice(
            invoice.invoice_id
        )
        settled = ", written off (never billed again)" if write_off else ""
        self.note(
            f"{AR_CLERK} -> {CONTROLLER}",
            StepKind.CREDIT,
            f"Credit memo {number} against {invoice.number} drafted by {AR_CLERK}, approved by "
            f"{CONTROLLER}, issued and posted{settled}; {invoice.number} is "
            f"{after.state.value} with {after.outstanding} open",
        )
        return number

    def account_status(self) -> None:
        ctx = self._ctx(AR_CLERK)
        open_by: dict[str, Money] = {}
        for invoice in UnitOfWorkSnapshot(self.loader.read, ctx).books().invoices:
            if invoice.customer_id in self.engagements.values() and invoice.number:
                code = invoice.currency.code
                open_by[code] = (
                    open_by.get(code, Money.zero(invoice.currency)) + invoice.outstanding
                )
        status = ", ".join(str(m) for _, m in sorted(open_by.items()))
        self.note(AR_CLERK, StepKind.PAYMENT, f"CRM account open: {status}")

    def result(self) -> ScenarioLoad:
        ctx = self._ctx(SETUP)
        engagements = tuple(
            (
                eid,
                self.loader.customer(customer),
                UnitOfWorkSnapshot(self.loader.read, ctx).lifecycle_path(eid),
            )
            for eid, customer in self.engagements.items()
        )
        steps = tuple(sorted(self.steps, key=lambda s: s.on))
        return ScenarioLoad(self.number, self.title, self.summary, steps, engagements)
