"""The four reference scenarios of the domain guide (section 9), run through the domain alone.

There is no database yet, so each scenario keeps its own books in memory (`_Books`): master
data, contracts, delivery, documents and the journal. It advances in date order, month by month,
exactly as the application layer will: a billing run proposes, one person drafts, another
approves, the invoice is issued with a number and posted; revenue is recognised at each month
end as the cumulative catch-up; payments and credit memos post their journal entries; each
month is closed once its postings are done.

Everything is fixed: dates, people, figures and ids. There is no clock and no randomness, so
`run_demo()` returns the same result every time.

The firm is Halden & Rowe, a consulting firm with a French company (EUR, French VAT) and a US
company (USD). Each scenario has its own books, so its documents are numbered in their own
range: scenario n issues invoices TL-2026-n001, TL-2026-n002, ... and credit notes
CN-2026-n001, ...; its journal entries are JE-n001, ...
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import attrs

from domain.accounting_period import AccountingPeriod, PeriodLock
from domain.billing import BilledLedger, LedgerEntry, LineKind, SourceKind, SourceRef
from domain.billing_run import BillingProposal, BillingRunInput, run_billing
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.engagement import Engagement, TimeNotAcceptedError
from domain.ids import (
    ContractId,
    CreditMemoId,
    CustomerId,
    EngagementId,
    InvoiceId,
    LegalEntityId,
    MilestoneId,
    ObligationId,
    PaymentId,
    RateCardId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
    UserId,
)
from domain.invoice import Invoice
from domain.ledger import (
    Account,
    JournalEntry,
    ObligationBalance,
    post_credit_memo,
    post_invoice_issue,
    post_payment,
    post_recognition,
    trial_balance,
)
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency, Money, dsum, money_sum
from domain.obligation import RevenueContext, billing_model_for
from domain.period import Period
from domain.ratecard import RateCard, RateCardVersion
from domain.recurring import RecurringTerms
from domain.retainer import OveragePolicy as RetainerOveragePolicy
from domain.retainer import RetainerTerms, retainer_ledger
from domain.revenue import positions, recognised_to_date
from domain.tax import TaxProfile, TaxRate, TaxRateTable
from domain.time_and_materials import (
    IncrementRounding,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
)
from domain.time_entry import TimeEntry

# The result ------------------------------------------------------------------------------


class StepKind(StrEnum):
    """What kind of thing happened, so a report can group or colour it."""

    LIFECYCLE = "lifecycle"
    MASTER_DATA = "master_data"
    CONTRACT = "contract"
    DELIVERY = "delivery"
    TIME = "time"
    REFUSED = "refused"
    BILLING = "billing"
    BLOCKED = "blocked"
    INVOICE = "invoice"
    DISPUTE = "dispute"
    CREDIT = "credit"
    PAYMENT = "payment"
    REVENUE = "revenue"
    CLOSE = "close"


@attrs.frozen
class Step:
    """One dated thing that happened in a scenario, and who did it."""

    on: date
    actor: str
    kind: StepKind
    text: str


@attrs.frozen
class EngagementView:
    """An engagement and every state it went through, in order."""

    engagement_id: str
    contract_id: str
    customer: str
    path: tuple[str, ...]

    @property
    def state(self) -> str:
        return self.path[-1]


@attrs.frozen
class LineView:
    """One line of an invoice or a credit memo as printed."""

    line_no: int
    obligation_id: str
    kind: str
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    sources: tuple[str, ...]
    credits_line: int | None = None


@attrs.frozen
class TaxView:
    tax_code: str
    base: Money
    rate: Decimal
    amount: Money
    note: str


class DocumentType(StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit memo"


@attrs.frozen
class DocumentView:
    """An issued invoice or credit memo, as it stands at the end of the scenario."""

    type: DocumentType
    number: str
    document_id: str
    issued_on: date
    customer: str
    contract_id: str
    currency: str
    lines: tuple[LineView, ...]
    net: Money
    taxes: tuple[TaxView, ...]
    tax: Money
    gross: Money
    drafted_by: str
    approved_by: str
    state: str
    journal_entry: str
    paid: Money
    credited: Money
    outstanding: Money
    references: str | None = None
    reason: str = ""
    write_off: bool = False

    def net_by_obligation(self) -> dict[str, Money]:
        out: dict[str, Money] = {}
        for line in self.lines:
            out[line.obligation_id] = out.get(line.obligation_id, _zero(self.net)) + line.amount
        return out


@attrs.frozen
class ExclusionView:
    """A quantity a billing run did not bill, and why."""

    run_on: date
    contract_id: str
    obligation_id: str
    source: str
    quantity: Decimal
    value: Money
    disposition: str
    reason: str


@attrs.frozen
class BlockedView:
    """A contract a billing run could not bill, with the reason code and what to fix."""

    run_on: date
    contract_id: str
    reason: str
    detail: str


@attrs.frozen
class PositionView:
    """One obligation's revenue position at the end of the scenario."""

    contract_id: str
    obligation_id: str
    name: str
    model: str
    recognised: Money
    billed: Money
    unbilled_wip: Money
    deferred: Money


@attrs.frozen
class TrialBalanceRow:
    account: str
    debit: Money
    credit: Money


@attrs.frozen
class TrialBalanceView:
    """The balances of every account the scenario's journal touched, in one currency."""

    currency: str
    rows: tuple[TrialBalanceRow, ...]

    @property
    def total_debit(self) -> Money:
        return money_sum((r.debit for r in self.rows), Currency.of(self.currency))

    @property
    def total_credit(self) -> Money:
        return money_sum((r.credit for r in self.rows), Currency.of(self.currency))

    def balance(self, account: Account) -> Money:
        """Debit-positive balance of one account (zero if untouched)."""
        for row in self.rows:
            if row.account == account.value:
                return row.debit - row.credit
        return Money.zero(Currency.of(self.currency))


@attrs.frozen
class RetainerMonthView:
    """One retainer period's hours: bought, carried, used, over, carried out and lost."""

    period: str
    closed: bool
    purchased: Decimal
    carried_in: Decimal
    used_from_carry: Decimal
    used_from_current: Decimal
    overage: Decimal
    carried_out: Decimal
    breakage_not_carried: Decimal
    breakage_expired: Decimal

    @property
    def breakage(self) -> Decimal:
        return self.breakage_not_carried + self.breakage_expired


@attrs.frozen
class ScenarioResult:
    """Everything one scenario did and where it left the books."""

    number: int
    title: str
    summary: str
    as_of: date
    steps: tuple[Step, ...]
    engagements: tuple[EngagementView, ...]
    documents: tuple[DocumentView, ...]
    exclusions: tuple[ExclusionView, ...]
    blocked: tuple[BlockedView, ...]
    positions: tuple[PositionView, ...]
    journal: tuple[JournalEntry, ...]
    trial_balances: tuple[TrialBalanceView, ...]
    retainer_months: tuple[RetainerMonthView, ...] = ()

    @property
    def invoices(self) -> tuple[DocumentView, ...]:
        return tuple(d for d in self.documents if d.type is DocumentType.INVOICE)

    @property
    def credit_memos(self) -> tuple[DocumentView, ...]:
        return tuple(d for d in self.documents if d.type is DocumentType.CREDIT_MEMO)

    def document(self, number: str) -> DocumentView:
        for doc in self.documents:
            if doc.number == number:
                return doc
        raise KeyError(number)


@attrs.frozen
class DemoResult:
    scenarios: tuple[ScenarioResult, ...]

    def scenario(self, number: int) -> ScenarioResult:
        for scenario in self.scenarios:
            if scenario.number == number:
                return scenario
        raise KeyError(number)


# The firm: legal entities, tax, people, rate card -----------------------------------------

EUR = Currency.of("EUR")
USD = Currency.of("USD")

FR_ENTITY = LegalEntityId("HR-FR")  # Halden & Rowe Conseil SAS, Paris
US_ENTITY = LegalEntityId("HR-US")  # Halden & Rowe Consulting Inc., Boston

FR_VAT = "FR-VAT-20"
REVERSE_CHARGE = "VAT-AE"
US_NO_TAX = "US-NOTAX"
REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)"
)
TAX_RATES = TaxRateTable(
    (
        TaxRate(FR_VAT, date(2014, 1, 1), Decimal("0.20")),
        TaxRate(REVERSE_CHARGE, date(2014, 1, 1), Decimal("0")),
        TaxRate(US_NO_TAX, date(2014, 1, 1), Decimal("0")),
    )
)

# People. Who drafts a document never approves it (maker-checker).
SALES = "n.hughes"  # account executive (CRM)
LEGAL = "j.moreau"  # contract manager (CLM)
SETUP = "setup-orchestrator"  # the integration job that provisions engagements
MASTER_DATA = "n.bernard"  # finance master data (ERP)
ENGAGEMENT_MANAGER = "c.dubois"  # approves time, completes milestones
BILLING_CLERK = "s.laurent"  # drafts invoices
AR_CLERK = "a.petit"  # accounts receivable: disputes, credit memos, cash
CONTROLLER = "m.girard"  # approves invoices and credit memos, closes periods
TIME_APP = "time-capture"


@attrs.frozen
class _Consultant:
    resource_id: ResourceId
    name: str
    role: Role


PARTNER = _Consultant(ResourceId("plefevre"), "Paul Lefevre", Role("partner"))
MANAGER = _Consultant(ResourceId("cdubois"), "Claire Dubois", Role("senior manager"))
SENIOR = _Consultant(ResourceId("hmartin"), "Hugo Martin", Role("senior consultant"))
CONSULTANT = _Consultant(ResourceId("imoreau"), "Ines Moreau", Role("consultant"))
ADVISOR = _Consultant(ResourceId("lrousseau"), "Lea Rousseau", Role("senior consultant"))

FR_RATE_CARD = RateCardId("RC-FR-2026")
FR_RATES = {"partner": 320, "senior manager": 250, "senior consultant": 180, "consultant": 135}


def _france_rate_card() -> RateCard:
    """The French regional rate card: EUR per hour and role, from 1 January 2026."""
    card = RateCard(FR_RATE_CARD, "France regional rate card 2026", EUR)
    # Role is a NewType of str; the version's converter takes plain str keys.
    rates = {role: Decimal(rate) for role, rate in FR_RATES.items()}
    card.publish(RateCardVersion(1, date(2026, 1, 1), EUR, rates))
    return card


def _at(day: date, hour: int = 9) -> datetime:
    """The moment a dated action is recorded (fixed hour, UTC): the demo has no clock."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _zero(like: Money) -> Money:
    return Money.zero(like.currency)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _hours(value: Decimal) -> str:
    return f"{value.normalize():f} h"


# The books of one scenario ----------------------------------------------------------------


class _Books:
    """One scenario's world, advanced in date order through the domain's own operations."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.steps: list[Step] = []
        self.customers: dict[CustomerId, str] = {}
        self.tax_profiles: dict[tuple[CustomerId, LegalEntityId], TaxProfile] = {}
        self.rate_cards: dict[RateCardId, RateCard] = {}
        self.contracts: dict[ContractId, Contract] = {}
        self.engagements: dict[EngagementId, Engagement] = {}
        self.paths: dict[EngagementId, list[str]] = {}
        self.entries: list[TimeEntry] = []
        self.milestones: dict[MilestoneId, Milestone] = {}
        self.invoices: list[Invoice] = []
        self.credit_memos: list[CreditMemo] = []
        self.journal: list[JournalEntry] = []
        self.journal_of: dict[str, str] = {}
        self.recognised: dict[ObligationId, Money] = {}
        self.billed: dict[ObligationId, Money] = {}
        self.periods: dict[Period, AccountingPeriod] = {}
        self.exclusions: list[ExclusionView] = []
        self.blocked: list[BlockedView] = []
        self._counters: defaultdict[str, int] = defaultdict(int)

    # Records -----------------------------------------------------------------------------

    def note(self, on: date, actor: str, kind: StepKind, text: str) -> None:
        self.steps.append(Step(on, actor, kind, text))

    def _next(self, series: str) -> int:
        self._counters[series] += 1
        return self.number * 1000 + self._counters[series]

    def _journal_id(self) -> str:
        return f"JE-{self._next('journal')}"

    @property
    def lock(self) -> PeriodLock:
        return PeriodLock.of(self.periods.values())

    # Master data, contracts, engagements -------------------------------------------------

    def customer(
        self, customer_id: str, name: str, taxed: tuple[LegalEntityId, str] | None = None
    ) -> CustomerId:
        """A customer in the ERP master, with its tax profile for one of our companies (legal
        entity and tax code) when the master has one."""
        cid = CustomerId(customer_id)
        self.customers[cid] = name
        if taxed is not None:
            self.add_tax_profile(TaxProfile(cid, taxed[0], taxed[1]))
        return cid

    def add_tax_profile(self, profile: TaxProfile) -> None:
        self.tax_profiles[(profile.customer_id, profile.legal_entity_id)] = profile

    def propose(self, engagement_id: str, contract: Contract, on: date, text: str) -> EngagementId:
        eid = EngagementId(engagement_id)
        self.contracts[contract.contract_id] = contract
        engagement = Engagement.propose(eid, contract.customer_id, contract.contract_id, _at(on))
        self.engagements[eid] = engagement
        self.paths[eid] = [engagement.state.value]
        self.note(on, SALES, StepKind.LIFECYCLE, f"{text}: engagement {eid} proposed")
        return eid

    def _moved(self, eid: EngagementId) -> str:
        state = self.engagements[eid].state.value
        self.paths[eid].append(state)
        return state

    def approve_version(self, eid: EngagementId, version: int, on: date, text: str) -> None:
        engagement = self.engagements[eid]
        contract = self.contracts[engagement.contract_id]
        approved = contract.approve_version(version, LEGAL, _at(on))
        for oid in contract.obligation_ids():
            self.recognised.setdefault(oid, Money.zero(contract.currency))
            self.billed.setdefault(oid, Money.zero(contract.currency))
        if version == 1:
            engagement.contract(_at(on))
            text += f"; engagement {self._moved(eid)}"
        self.note(
            on,
            LEGAL,
            StepKind.CONTRACT,
            f"{contract.contract_id} {approved.label} approved: {text}",
        )

    def set_up(self, eid: EngagementId, on: date, *, replay: bool = False) -> None:
        """Provision the engagement: validate the customer's ERP master data, then activate;
        missing master data parks the setup in `setup_blocked` (a finance exception)."""
        engagement = self.engagements[eid]
        contract = self.contracts[engagement.contract_id]
        at = _at(on, 10)
        if replay:
            engagement.resume_provisioning(at)
        else:
            engagement.start_provisioning(at)
        self._moved(eid)
        key = (contract.customer_id, contract.legal_entity_id)
        profile = self.tax_profiles.get(key)
        customer = self.customers[contract.customer_id]
        if profile is None:
            reason = (
                f"missing_tax_profile: {customer} has no tax profile with legal entity "
                f"{contract.legal_entity_id} in the ERP master"
            )
            engagement.block_setup(reason, at)
            self.note(
                on,
                SETUP,
                StepKind.BLOCKED,
                f"Setup of {eid} {'replayed' if replay else 'started'}, then "
                f"{self._moved(eid)}: {reason}; exception sent to the finance queue",
            )
            return
        engagement.activate(_at(on, 11))
        self._moved(eid)
        self.note(
            on,
            SETUP,
            StepKind.LIFECYCLE,
            f"Setup of {eid} {'replayed' if replay else 'ran'}: customer validated against the "
            f"ERP master (tax code {profile.tax_code}), project provisioned; engagement "
            f"{' -> '.join(self.paths[eid][-2:])}",
        )

    def plan(self, obligation: MilestoneTerms, on: date) -> None:
        for spec in obligation.milestones:
            self.milestones[spec.milestone_id] = Milestone.plan(
                spec.milestone_id, obligation.obligation_id, spec.name, _at(on)
            )
        names = ", ".join(spec.name for spec in obligation.milestones)
        self.note(on, SETUP, StepKind.DELIVERY, f"Milestones planned in the PSA: {names}")

    def complete(self, milestone_id: str, evidence: str, on: date) -> None:
        milestone = self.milestones[MilestoneId(milestone_id)]
        milestone.complete(evidence, on, _at(on))
        self.note(
            on,
            ENGAGEMENT_MANAGER,
            StepKind.DELIVERY,
            f"{milestone.name} completed, evidence: {evidence}",
        )

    def accept(self, milestone_id: str, by: str, on: date) -> None:
        milestone = self.milestones[MilestoneId(milestone_id)]
        milestone.accept(by, on, _at(on, 15))
        self.note(on, by, StepKind.DELIVERY, f"{milestone.name} accepted by the client")

    # Time --------------------------------------------------------------------------------

    def log_time(
        self,
        eid: EngagementId,
        entry_id: str,
        obligation: ObligationId,
        who: _Consultant,
        day: date,
        hours: str,
        *,
        billable: bool = True,
        logged_on: date | None = None,
    ) -> TimeEntry | None:
        """Ingest one entry from the time app: refused unless the engagement accepts time."""
        engagement = self.engagements[eid]
        try:
            engagement.require_time_accepted(day)
        except TimeNotAcceptedError as refusal:
            self.note(
                logged_on or day,
                TIME_APP,
                StepKind.REFUSED,
                f"Time entry {entry_id} ({who.name}, {hours} h on {day.isoformat()}) refused "
                f"[{refusal.code}]: {refusal}",
            )
            return None
        entry = TimeEntry.submit(
            TimeEntryId(entry_id),
            obligation,
            who.resource_id,
            who.role,
            day,
            Decimal(hours),
            task_id=TaskId("DELIVERY" if billable else "INTERNAL"),
            billable=billable,
        )
        self.entries.append(entry)
        return entry

    def approve_time(self, entries: Sequence[TimeEntry | None], on: date, what: str) -> None:
        accepted = [e for e in entries if e is not None]
        for entry in accepted:
            entry.approve(ENGAGEMENT_MANAGER, _at(on, 17))
        billable = dsum(e.hours for e in accepted if e.billable)
        other = dsum(e.hours for e in accepted if not e.billable)
        text = (
            f"{_count(len(accepted), 'time entry', 'time entries')} accepted and approved "
            f"({what}): {_hours(billable)} billable"
        )
        if other:
            text += f", plus {_hours(other)} on a non-billable task (costed, never billed)"
        self.note(on, ENGAGEMENT_MANAGER, StepKind.TIME, text)

    # Billing -----------------------------------------------------------------------------

    def ledger(self) -> BilledLedger:
        entries: list[LedgerEntry] = []
        for invoice in self.invoices:
            entries += invoice.ledger_entries()
        for memo in self.credit_memos:
            entries += memo.ledger_entries()
        return BilledLedger(tuple(entries))

    def _balances(self) -> dict[ObligationId, ObligationBalance]:
        return {
            oid: ObligationBalance(oid, self.recognised[oid], self.billed[oid])
            for oid in self.recognised
        }

    def billing_run(self, period: Period, on: date, *, dry_run: bool = False) -> list[Invoice]:
        """Run billing for a period; unless it is a dry run, draft, approve, issue and post
        every proposed invoice."""
        proposal = run_billing(
            BillingRunInput(
                period,
                tuple(self.contracts.values()),
                dict(self.rate_cards),
                tuple(self.entries),
                (),
                tuple(self.milestones.values()),
                self.ledger(),
                dict(self.tax_profiles),
                TAX_RATES,
                invoice_date=on,
            )
        )
        if proposal.adjustments:
            raise RuntimeError("no demo scenario changes billed terms retroactively")
        self._note_run(proposal, period, on, dry_run)
        if dry_run:
            return []
        issued = []
        for draft in proposal.invoices:
            invoice = Invoice.draft(
                InvoiceId(f"INV-{self._next('invoice-id')}"),
                draft.customer_id,
                draft.contract_id,
                draft.legal_entity_id,
                draft.period,
                draft.lines,
                draft.totals,
                BILLING_CLERK,
                _at(on, 10),
            )
            invoice.approve(CONTROLLER, _at(on, 11))
            number = f"TL-{on.year}-{self._next('invoice')}"
            invoice.issue(number, on, _at(on, 12), self.lock)
            self._post_issue(invoice, on)
            self.invoices.append(invoice)
            issued.append(invoice)
            for line in invoice.lines:
                if line.kind is LineKind.MILESTONE:
                    for allocation in line.allocations:
                        self.milestones[MilestoneId(allocation.source.source_id)].mark_invoiced(
                            _at(on, 12)
                        )
            totals = invoice.totals
            tax = ", ".join(
                f"{t.tax_code} {_percent(t.rate)}" + (" reverse charge" if t.note else "")
                for t in totals.tax_lines
            )
            self.note(
                on,
                f"{BILLING_CLERK} -> {CONTROLLER}",
                StepKind.INVOICE,
                f"Invoice {number} to {self.customers[invoice.customer_id]} drafted by "
                f"{invoice.created_by}, approved by {invoice.approved_by}, issued and posted "
                f"({self.journal_of[number]}): {_count(len(invoice.lines), 'line', 'lines')}, "
                f"net {totals.net}, tax {totals.tax} ({tax}), gross {totals.gross}",
            )
        return issued

    def _note_run(self, proposal: BillingProposal, period: Period, on: date, dry: bool) -> None:
        for blocked in proposal.blocked:
            self.blocked.append(
                BlockedView(on, blocked.contract_id, blocked.reason, blocked.detail)
            )
            self.note(
                on,
                BILLING_CLERK,
                StepKind.BLOCKED,
                f"Billing run {period.key}{' (dry run)' if dry else ''}: contract "
                f"{blocked.contract_id} blocked [{blocked.reason}]: {blocked.detail}",
            )
        for exclusion in proposal.exclusions:
            contract = next(
                c for c in self.contracts.values() if exclusion.obligation_id in c.obligation_ids()
            )
            self.exclusions.append(
                ExclusionView(
                    on,
                    contract.contract_id,
                    exclusion.obligation_id,
                    str(exclusion.source),
                    exclusion.quantity,
                    exclusion.value.quantized(),
                    exclusion.disposition.value,
                    exclusion.reason,
                )
            )
            self.note(
                on,
                BILLING_CLERK,
                StepKind.BILLING,
                f"Billing run {period.key}: {_hours(exclusion.quantity)} of "
                f"{exclusion.source.source_id} not billed ({exclusion.disposition.value}, "
                f"{exclusion.reason}), worth {exclusion.value.quantized()}",
            )
        if not proposal.invoices and not proposal.blocked:
            self.note(on, BILLING_CLERK, StepKind.BILLING, f"Billing run {period.key}: nothing due")

    def _post_issue(self, invoice: Invoice, on: date) -> None:
        entry = post_invoice_issue(
            self._journal_id(),
            _number(invoice),
            on,
            invoice.totals.net_by_obligation(invoice.lines),
            invoice.totals.tax,
            self._balances(),
            self.lock,
        )
        self.journal.append(entry)
        self.journal_of[_number(invoice)] = entry.entry_id
        for oid, net in invoice.totals.net_by_obligation(invoice.lines).items():
            self.billed[oid] = self.billed[oid] + net

    # Cash, disputes and credits ----------------------------------------------------------

    def pay(self, invoice: Invoice, amount: str, on: date, payer: str = "") -> None:
        money = Money(Decimal(amount), invoice.currency)
        payment = PaymentId(f"PAY-{self._next('payment')}")
        invoice.record_payment(payment, money, on, _at(on, 14), self.lock)
        entry = post_payment(self._journal_id(), _number(invoice), on, money, self.lock)
        self.journal.append(entry)
        who = payer or self.customers[invoice.customer_id]
        self.note(
            on,
            AR_CLERK,
            StepKind.PAYMENT,
            f"Payment {payment} of {money} from {who} applied to {invoice.number} "
            f"({entry.entry_id}); invoice {invoice.state.value}, {invoice.outstanding} open",
        )

    def dispute(self, invoice: Invoice, reason: str, on: date) -> None:
        invoice.open_dispute(reason, _at(on))
        self.note(
            on,
            AR_CLERK,
            StepKind.DISPUTE,
            f"{self.customers[invoice.customer_id]} disputes {invoice.number}: {reason}. "
            "Dispute recorded on the invoice for the project team and the account owner",
        )

    def credit(
        self,
        invoice: Invoice,
        requests: Sequence[CreditRequest],
        reason: str,
        on: date,
        *,
        write_off: bool,
        resolves_dispute: bool = False,
    ) -> CreditMemo:
        memo = CreditMemo.against(
            CreditMemoId(f"CM-{self._next('credit-id')}"),
            invoice,
            requests,
            reason,
            AR_CLERK,
            write_off=write_off,
            resolves_dispute=resolves_dispute,
        )
        memo.approve(CONTROLLER, _at(on, 11))
        number = f"CN-{on.year}-{self._next('credit')}"
        memo.issue(invoice, number, on, _at(on, 12), self.lock)
        nets: dict[ObligationId, Money] = {}
        for line in memo.lines:
            nets[line.obligation_id] = (
                nets.get(line.obligation_id, _zero(line.amount)) + line.amount
            )
        entry = post_credit_memo(
            self._journal_id(), number, on, nets, memo.totals.tax, self._balances(), self.lock
        )
        self.journal.append(entry)
        self.journal_of[number] = entry.entry_id
        for oid, net in nets.items():
            self.billed[oid] = self.billed[oid] - net
        self.credit_memos.append(memo)
        self.note(
            on,
            f"{AR_CLERK} -> {CONTROLLER}",
            StepKind.CREDIT,
            f"Credit memo {number} against {invoice.number} drafted by {memo.created_by}, "
            f"approved by {memo.approved_by}, issued and posted ({entry.entry_id}): net "
            f"{memo.totals.net}, tax {memo.totals.tax}, gross {memo.totals.gross}"
            f"{', written off (never re-billed)' if write_off else ''}; {invoice.number} is "
            f"{invoice.state.value} with {invoice.outstanding} open",
        )
        return memo

    # Month end ---------------------------------------------------------------------------

    def _revenue_context(self, contract: Contract, as_of: date) -> RevenueContext:
        return RevenueContext(
            as_of,
            contract.currency,
            dict(self.rate_cards),
            tuple(self.entries),
            (),
            tuple(self.milestones.values()),
            self.ledger(),  # write-off credits give up revenue, as the application's run does
        )

    def recognise(self, period: Period) -> None:
        """Recognise the month's revenue: per obligation, what it has earned through the month
        end less what is already posted (the cumulative catch-up)."""
        on = period.end
        parts = []
        for contract in sorted(self.contracts.values(), key=lambda c: c.contract_id):
            ctx = self._revenue_context(contract, on)
            revenue: dict[ObligationId, Money] = {}
            for oid in contract.obligation_ids():
                earned = recognised_to_date(contract.obligation_history(oid), ctx)
                catch_up = earned - self.recognised[oid]
                if not catch_up.is_zero():
                    revenue[oid] = catch_up
            if not revenue:
                continue
            entry = post_recognition(self._journal_id(), on, revenue, self._balances(), self.lock)
            self.journal.append(entry)
            for oid, amount in revenue.items():
                self.recognised[oid] = self.recognised[oid] + amount
            moves = ", ".join(f"{oid} {_signed(amount)}" for oid, amount in revenue.items())
            parts.append(f"{moves} ({entry.entry_id})")
        recognised = "; ".join(parts) if parts else "nothing earned this month"
        self.note(on, CONTROLLER, StepKind.REVENUE, f"Revenue {period.key}: {recognised}")

    def close(self, period: Period) -> None:
        """Close the accounting period: nothing can be posted in it any more."""
        accounting = AccountingPeriod.open(period)
        accounting.close(UserId(CONTROLLER), period.end, _at(period.end, 18))
        self.periods[period] = accounting
        self.note(period.end, CONTROLLER, StepKind.CLOSE, f"Accounting period {period.key} closed")

    def month_end(self, period: Period) -> None:
        """Recognise the month's revenue, then close it (no billing on the last day)."""
        self.recognise(period)
        self.close(period)

    # The result --------------------------------------------------------------------------

    def result(
        self,
        title: str,
        summary: str,
        as_of: date,
        retainer: RetainerTerms | None = None,
    ) -> ScenarioResult:
        documents = [self._invoice_view(i) for i in self.invoices]
        documents += [self._credit_view(m) for m in self.credit_memos]
        documents.sort(key=lambda d: (d.issued_on, d.type is DocumentType.CREDIT_MEMO, d.number))
        return ScenarioResult(
            number=self.number,
            title=title,
            summary=summary,
            as_of=as_of,
            steps=tuple(sorted(self.steps, key=lambda s: s.on)),
            engagements=tuple(
                EngagementView(
                    eid,
                    e.contract_id,
                    self.customers[e.customer_id],
                    tuple(self.paths[eid]),
                )
                for eid, e in self.engagements.items()
            ),
            documents=tuple(documents),
            exclusions=tuple(self.exclusions),
            blocked=tuple(self.blocked),
            positions=self._positions(as_of),
            journal=tuple(self.journal),
            trial_balances=self._trial_balances(),
            retainer_months=self._retainer_months(retainer, as_of) if retainer else (),
        )

    def _positions(self, as_of: date) -> tuple[PositionView, ...]:
        out = []
        for contract in sorted(self.contracts.values(), key=lambda c: c.contract_id):
            histories = [contract.obligation_history(o) for o in contract.obligation_ids()]
            billed = {h.obligation_id: self.billed[h.obligation_id] for h in histories}
            ctx = self._revenue_context(contract, as_of)
            for history, position in zip(histories, positions(histories, ctx, billed), strict=True):
                terms: Any = history.latest.terms
                out.append(
                    PositionView(
                        contract.contract_id,
                        position.obligation_id,
                        terms.name,
                        billing_model_for(terms).name,
                        position.recognised,
                        position.billed,
                        position.unbilled_wip,
                        position.deferred,
                    )
                )
        return tuple(out)

    def _trial_balances(self) -> tuple[TrialBalanceView, ...]:
        by_currency: dict[str, list[JournalEntry]] = {}
        for entry in self.journal:
            by_currency.setdefault(entry.currency.code, []).append(entry)
        views = []
        for code, entries in sorted(by_currency.items()):
            rows = []
            for account, balance in trial_balance(entries).items():
                debit = balance if balance.is_positive() else _zero(balance)
                credit = -balance if balance.is_negative() else _zero(balance)
                rows.append(TrialBalanceRow(account.value, debit, credit))
            views.append(TrialBalanceView(code, tuple(rows)))
        return tuple(views)

    def _retainer_months(self, terms: RetainerTerms, as_of: date) -> tuple[RetainerMonthView, ...]:
        months = []
        for b in retainer_ledger(terms, self.entries, as_of):
            expired = dsum(c.hours for c in b.broken if c.origin != b.period)
            months.append(
                RetainerMonthView(
                    b.period.key,
                    b.closed,
                    b.purchased,
                    b.carried_in_hours,
                    b.used_from_carry_hours,
                    b.used_from_current,
                    b.overage_hours,
                    b.carried_out_hours,
                    b.broken_hours - expired,
                    expired,
                )
            )
        return tuple(months)

    def _invoice_view(self, invoice: Invoice) -> DocumentView:
        number = _number(invoice)
        return DocumentView(
            type=DocumentType.INVOICE,
            number=number,
            document_id=invoice.invoice_id,
            issued_on=_issue_date(invoice),
            customer=self.customers[invoice.customer_id],
            contract_id=invoice.contract_id,
            currency=invoice.currency.code,
            lines=tuple(_line_view(line) for line in invoice.lines),
            net=invoice.totals.net,
            taxes=_tax_views(invoice.totals.tax_lines),
            tax=invoice.totals.tax,
            gross=invoice.totals.gross,
            drafted_by=invoice.created_by,
            approved_by=invoice.approved_by or "",
            state=invoice.state.value,
            journal_entry=self.journal_of[number],
            paid=invoice.amount_paid,
            credited=invoice.amount_credited,
            outstanding=invoice.outstanding,
        )

    def _credit_view(self, memo: CreditMemo) -> DocumentView:
        number = _number(memo)
        invoice = next(i for i in self.invoices if i.invoice_id == memo.invoice_id)
        zero = _zero(memo.totals.net)
        return DocumentView(
            type=DocumentType.CREDIT_MEMO,
            number=number,
            document_id=memo.credit_memo_id,
            issued_on=_issue_date(memo),
            customer=self.customers[invoice.customer_id],
            contract_id=invoice.contract_id,
            currency=invoice.currency.code,
            lines=tuple(_line_view(line) for line in memo.lines),
            net=memo.totals.net,
            taxes=_tax_views(memo.totals.tax_lines),
            tax=memo.totals.tax,
            gross=memo.totals.gross,
            drafted_by=memo.created_by,
            approved_by=memo.approved_by or "",
            state=memo.state.value,
            journal_entry=self.journal_of[number],
            paid=zero,
            credited=zero,
            outstanding=zero,
            references=invoice.number,
            reason=memo.reason,
            write_off=memo.write_off,
        )


def _number(document: Invoice | CreditMemo) -> str:
    """The number of an issued document (the demo only reports issued ones)."""
    if document.number is None:
        raise RuntimeError(f"{document!r} has not been issued")
    return document.number


def _issue_date(document: Invoice | CreditMemo) -> date:
    if document.issue_date is None:
        raise RuntimeError(f"{document!r} has not been issued")
    return document.issue_date


def _line_view(line: Any) -> LineView:
    return LineView(
        line.line_no,
        line.obligation_id,
        line.kind.value,
        line.description,
        line.quantity,
        line.unit_price,
        line.amount,
        tuple(str(a.source) for a in line.allocations),
        line.credits_line,
    )


def _tax_views(lines: Iterable[Any]) -> tuple[TaxView, ...]:
    return tuple(TaxView(t.tax_code, t.base, t.rate, t.amount, t.note) for t in lines)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def _signed(amount: Money) -> str:
    return f"+{amount}" if amount.is_positive() else str(amount)


def _time_entries(
    books: _Books,
    eid: EngagementId,
    obligation: ObligationId,
    rows: Iterable[tuple[str, _Consultant, date, str]],
) -> list[TimeEntry | None]:
    return [books.log_time(eid, i, obligation, who, day, h) for i, who, day, h in rows]


# Scenario 1: global transformation program ------------------------------------------------

PROGRAM = ObligationId("LUM-PROGRAM")
CLIENT_SPONSOR = "e.fabre (Lumiere CIO)"
CHANGE_REQUEST = ObligationId("LUM-CR01")


LUMIERE_PROGRAM = MilestoneTerms(
    PROGRAM,
    "Transformation program",
    EUR,
    Decimal("400000.00"),
    (
        MilestoneSpec(MilestoneId("LUM-M1"), "M1 Discovery and target model", Decimal(25)),
        MilestoneSpec(MilestoneId("LUM-M2"), "M2 Design", Decimal(25)),
        MilestoneSpec(MilestoneId("LUM-M3"), "M3 Build and pilot", Decimal(25)),
        MilestoneSpec(MilestoneId("LUM-M4"), "M4 Rollout", Decimal(25), final=True),
    ),
    retention_percent=Decimal(10),
)

LUMIERE_CHANGE_REQUEST = TimeAndMaterialsTerms(
    CHANGE_REQUEST,
    "CR-01 loyalty data migration",
    EUR,
    FR_RATE_CARD,
    billing_increment=Decimal("0.25"),
    increment_rounding=IncrementRounding.UP,
)


def _scenario_1() -> ScenarioResult:
    books = _Books(1)
    books.rate_cards[FR_RATE_CARD] = _france_rate_card()
    lumiere = books.customer(
        "lumiere-retail",
        "Lumiere Retail Group SA",
        taxed=(FR_ENTITY, FR_VAT),
    )
    program = LUMIERE_PROGRAM
    change_request = LUMIERE_CHANGE_REQUEST
    contract = Contract(
        ContractId("C-LUM-2026-01"), lumiere, FR_ENTITY, EUR, "Global transformation program"
    )
    contract.draft_version(date(2026, 1, 15), [program], "SOW")
    eng = books.propose(
        "ENG-LUM-01", contract, date(2026, 1, 12), "Closed-won in the CRM: Lumiere Retail Group"
    )
    books.approve_version(
        eng,
        1,
        date(2026, 1, 15),
        "fixed-fee program of 400,000.00 EUR billed by four 25 % milestones, "
        "10 % retention released at final acceptance",
    )
    books.set_up(eng, date(2026, 1, 16))
    books.plan(program, date(2026, 1, 16))
    books.month_end(Period.month(2026, 1))

    # February: the first milestone is accepted and billed less its retention.
    february = Period.month(2026, 2)
    books.complete("LUM-M1", "target operating model signed off by the steering committee",
                   date(2026, 2, 20))  # fmt: skip
    books.accept("LUM-M1", CLIENT_SPONSOR, date(2026, 2, 26))
    books.recognise(february)
    (first,) = books.billing_run(february, february.end)
    books.close(february)

    # March: the change request is signed and worked; the second milestone is accepted.
    march = Period.month(2026, 3)
    contract.draft_version(date(2026, 3, 2), [program, change_request], "Amendment 1 (CR-01)")
    books.approve_version(
        eng,
        2,
        date(2026, 3, 2),
        "change request CR-01 added, time and materials on the France regional rate card "
        "(partner 320, senior manager 250, senior consultant 180, consultant 135 EUR/h; "
        "0.25 h increments)",
    )
    march_time = _time_entries(
        books,
        eng,
        CHANGE_REQUEST,
        [
            ("S1-T01", MANAGER, date(2026, 3, 9), "4"),
            ("S1-T02", SENIOR, date(2026, 3, 10), "7.5"),
            ("S1-T03", SENIOR, date(2026, 3, 11), "8"),
            ("S1-T04", CONSULTANT, date(2026, 3, 12), "7.5"),
        ],
    )
    march_time.append(
        books.log_time(
            eng, "S1-T05", CHANGE_REQUEST, CONSULTANT, date(2026, 3, 13), "2", billable=False
        )
    )
    march_time += _time_entries(
        books,
        eng,
        CHANGE_REQUEST,
        [("S1-T06", SENIOR, date(2026, 3, 24), "6"), ("S1-T07", SENIOR, date(2026, 3, 25), "6")],
    )
    books.complete("LUM-M2", "future-state design pack approved by the design authority",
                   date(2026, 3, 25))  # fmt: skip
    books.approve_time(march_time, date(2026, 3, 27), "CR-01, March")
    books.pay(first, "108000.00", date(2026, 3, 27))
    books.accept("LUM-M2", CLIENT_SPONSOR, date(2026, 3, 30))
    books.recognise(march)
    (second,) = books.billing_run(march, march.end)
    books.close(march)

    # April: the client disputes the March invoice; a partial credit memo resolves it.
    april = Period.month(2026, 4)
    april_time = _time_entries(
        books,
        eng,
        CHANGE_REQUEST,
        [
            ("S1-T08", SENIOR, date(2026, 4, 7), "8"),
            ("S1-T09", CONSULTANT, date(2026, 4, 8), "6.25"),
            ("S1-T10", MANAGER, date(2026, 4, 14), "3.5"),
        ],
    )
    disputed = [SourceRef(SourceKind.TIME_ENTRY, e) for e in ("S1-T06", "S1-T07")]
    books.dispute(
        second,
        "the 12 senior-consultant hours of 24 and 25 March (S1-T06, S1-T07) reworked the "
        "Design deliverable, which the fixed fee of milestone M2 already covers",
        date(2026, 4, 8),
    )
    line_no = next(
        line.line_no for line in second.lines if any(a.source in disputed for a in line.allocations)
    )
    books.credit(
        second,
        [CreditRequest(line_no, source) for source in disputed],
        "M2 rework billed as change-request time: 12 h credited and written off",
        date(2026, 4, 16),
        write_off=True,
        resolves_dispute=True,
    )
    # The write-off credit settles the 12 hours for good: a write-off on the entries as well
    # would give the same hours up twice (the domain refuses it).
    books.note(
        date(2026, 4, 16),
        ENGAGEMENT_MANAGER,
        StepKind.TIME,
        "S1-T06 and S1-T07 (12 h) written off as leakage: the change request stops "
        "recognising them and no later run bills them again",
    )
    books.approve_time(april_time, date(2026, 4, 24), "CR-01, April")
    books.complete("LUM-M3", "pilot stores live, pilot report accepted by the PMO",
                   date(2026, 4, 24))  # fmt: skip
    books.accept("LUM-M3", CLIENT_SPONSOR, date(2026, 4, 28))
    books.pay(second, str(second.outstanding.amount), date(2026, 4, 30))
    books.recognise(april)
    (third,) = books.billing_run(april, april.end)
    books.close(april)

    # May: the final milestone releases the retention of all four.
    may = Period.month(2026, 5)
    may_time = _time_entries(
        books, eng, CHANGE_REQUEST, [("S1-T11", SENIOR, date(2026, 5, 5), "5")]
    )
    books.approve_time(may_time, date(2026, 5, 8), "CR-01, May")
    books.complete("LUM-M4", "rollout to all 212 stores, handover to run signed",
                   date(2026, 5, 22))  # fmt: skip
    books.pay(third, str(third.totals.gross.amount), date(2026, 5, 28))
    books.accept("LUM-M4", CLIENT_SPONSOR, date(2026, 5, 29))
    books.recognise(may)
    books.billing_run(may, may.end)
    books.close(may)
    return books.result(
        "Global transformation program",
        "Lumiere Retail Group SA (France) buys a 400,000.00 EUR fixed-fee program billed by "
        "four milestones with a 10 % holdback, plus a T&M change request on the France "
        "regional rate card, with 20 % French VAT. The client disputes the March invoice "
        "(milestone M2); a partial credit memo for the disputed change-request hours resolves "
        "it.",
        date(2026, 5, 31),
    )


# Scenario 2: multi-country engagement -----------------------------------------------------

PHASES = ObligationId("KES-PHASES")
MANAGED = ObligationId("KES-MANAGED")
KESTREL_ACCOUNT = "Kestrel Pharma (CRM account)"


def _account_status(books: _Books) -> str:
    open_by: dict[str, Money] = {}
    for invoice in books.invoices:
        code = invoice.currency.code
        open_by[code] = open_by.get(code, Money.zero(invoice.currency)) + invoice.outstanding
    return ", ".join(f"{money}" for _, money in sorted(open_by.items()))


KESTREL_PHASES = MilestoneTerms(
    PHASES,
    "Lab analytics programme",
    EUR,
    Decimal("180000.00"),
    (
        MilestoneSpec(MilestoneId("KES-P1"), "Phase 1 Assessment", amount=Decimal(45000)),
        MilestoneSpec(MilestoneId("KES-P2"), "Phase 2 Design", amount=Decimal(60000)),
        MilestoneSpec(MilestoneId("KES-P3"), "Phase 3 Implementation", amount=Decimal(75000)),
    ),
)

KESTREL_MANAGED = RecurringTerms(
    MANAGED,
    "Managed analytics platform",
    USD,
    Decimal("12500.00"),
    service_start=date(2026, 3, 16),
    service_end=date(2027, 3, 15),
)


def _scenario_2() -> ScenarioResult:
    books = _Books(2)
    france = books.customer(
        "kestrel-fr",
        "Kestrel Pharma France SAS",
        taxed=(FR_ENTITY, FR_VAT),
    )
    usa = books.customer(
        "kestrel-us",
        "Kestrel Pharma Inc.",
        taxed=(US_ENTITY, US_NO_TAX),
    )
    phases = KESTREL_PHASES
    managed = KESTREL_MANAGED
    eu = Contract(ContractId("C-KES-EU-01"), france, FR_ENTITY, EUR, "Lab analytics programme")
    eu.draft_version(date(2026, 2, 16), [phases], "SOW")
    us = Contract(ContractId("C-KES-US-01"), usa, US_ENTITY, USD, "Managed analytics service")
    us.draft_version(date(2026, 2, 16), [managed], "Service order")
    won = "Closed-won in the CRM: Kestrel Pharma, France and United States"
    eng_eu = books.propose("ENG-KES-EU", eu, date(2026, 2, 9), won)
    eng_us = books.propose("ENG-KES-US", us, date(2026, 2, 9), won)
    books.approve_version(
        eng_eu,
        1,
        date(2026, 2, 16),
        "three phased fixed-fee milestones (45,000.00 + 60,000.00 + 75,000.00 = "
        "180,000.00 EUR) for Kestrel Pharma France SAS, French VAT",
    )
    books.approve_version(
        eng_us,
        1,
        date(2026, 2, 16),
        "managed service at 12,500.00 USD a month from 16 March 2026, billed monthly in "
        "advance by Halden & Rowe Consulting Inc. to Kestrel Pharma Inc.",
    )
    books.set_up(eng_eu, date(2026, 2, 17))
    books.set_up(eng_us, date(2026, 2, 17))
    books.plan(phases, date(2026, 2, 17))
    books.month_end(Period.month(2026, 2))

    march = Period.month(2026, 3)
    (usd_march,) = books.billing_run(march, date(2026, 3, 2))
    books.complete("KES-P1", "assessment report and roadmap delivered", date(2026, 3, 12))
    books.accept("KES-P1", "j.marchand (Kestrel VP Operations)", date(2026, 3, 13))
    books.pay(usd_march, str(usd_march.totals.gross.amount), date(2026, 3, 31))
    books.note(date(2026, 3, 31), AR_CLERK, StepKind.PAYMENT,
               f"{KESTREL_ACCOUNT} open: {_account_status(books)}")  # fmt: skip
    books.month_end(march)

    april = Period.month(2026, 4)
    eur_p1, usd_april = books.billing_run(april, date(2026, 4, 1))
    books.complete("KES-P2", "solution design signed by the Kestrel architecture board",
                   date(2026, 4, 23))  # fmt: skip
    books.accept("KES-P2", "j.marchand (Kestrel VP Operations)", date(2026, 4, 24))
    books.pay(eur_p1, str(eur_p1.totals.gross.amount), date(2026, 4, 29))
    books.pay(usd_april, str(usd_april.totals.gross.amount), date(2026, 4, 30))
    books.note(date(2026, 4, 30), AR_CLERK, StepKind.PAYMENT,
               f"{KESTREL_ACCOUNT} open: {_account_status(books)}")  # fmt: skip
    books.month_end(april)

    may = Period.month(2026, 5)
    eur_p2, _usd_may = books.billing_run(may, date(2026, 5, 1))
    books.complete("KES-P3", "platform live in the Lyon and Basel labs", date(2026, 5, 28))
    books.pay(eur_p2, "40000.00", date(2026, 5, 29), payer="Kestrel Pharma France SAS (part)")
    books.note(date(2026, 5, 29), AR_CLERK, StepKind.PAYMENT,
               f"{KESTREL_ACCOUNT} open: {_account_status(books)}")  # fmt: skip
    books.month_end(may)
    return books.result(
        "Multi-country engagement",
        "Kestrel Pharma buys phased fixed-fee milestones in EUR from the French company "
        "(French VAT) and a managed service in USD from the US company: two contracts, so two "
        "invoices per run. The first month of service is prorated by days; payments flow back "
        "to the CRM account.",
        date(2026, 5, 31),
    )


# Scenario 3: blocked setup ----------------------------------------------------------------

STUDY = ObligationId("VER-STUDY")


VERHAEGEN_STUDY = TimeAndMaterialsTerms(
    STUDY,
    "Warehouse network study",
    EUR,
    FR_RATE_CARD,
    billing_increment=Decimal("0.25"),
    cap=NotToExceed(hours=Decimal(60), policy=OveragePolicy.HOLD),
)


def _scenario_3() -> ScenarioResult:
    books = _Books(3)
    books.rate_cards[FR_RATE_CARD] = _france_rate_card()
    verhaegen = books.customer("verhaegen", "Verhaegen Logistics NV")  # no tax profile yet
    study = VERHAEGEN_STUDY
    contract = Contract(
        ContractId("C-VER-2026-01"), verhaegen, FR_ENTITY, EUR, "Warehouse network study"
    )
    contract.draft_version(date(2026, 3, 4), [study], "SOW")
    eng = books.propose(
        "ENG-VER-01", contract, date(2026, 3, 2), "Closed-won in the CRM: Verhaegen Logistics NV"
    )
    books.approve_version(
        eng,
        1,
        date(2026, 3, 4),
        "time and materials on the France regional rate card, not to exceed 60 hours "
        "(hours above the cap are held)",
    )
    books.set_up(eng, date(2026, 3, 4))
    march = Period.month(2026, 3)
    books.billing_run(march, date(2026, 3, 6), dry_run=True)
    early = [
        ("S3-T01", MANAGER, date(2026, 3, 9), "7"),
        ("S3-T02", CONSULTANT, date(2026, 3, 10), "8"),
    ]
    for entry_id, who, day, hours in early:
        books.log_time(eng, entry_id, STUDY, who, day, hours)
    books.add_tax_profile(
        TaxProfile(
            verhaegen,
            FR_ENTITY,
            REVERSE_CHARGE,
            reverse_charge=True,
            legal_note=REVERSE_CHARGE_NOTE,
        )
    )
    books.note(
        date(2026, 3, 11),
        MASTER_DATA,
        StepKind.MASTER_DATA,
        "Finance validates Verhaegen's Belgian VAT number and adds the missing ERP tax "
        f"profile: {REVERSE_CHARGE}, reverse charged (intra-EU B2B services)",
    )
    books.set_up(eng, date(2026, 3, 11), replay=True)
    replayed = [
        books.log_time(eng, i, STUDY, who, day, h, logged_on=date(2026, 3, 11))
        for i, who, day, h in early
    ]
    books.approve_time(replayed, date(2026, 3, 11), "replay of the time refused during the block")
    later = _time_entries(
        books,
        eng,
        STUDY,
        [
            ("S3-T03", SENIOR, date(2026, 3, 16), "7.5"),
            ("S3-T04", CONSULTANT, date(2026, 3, 17), "8"),
            ("S3-T05", SENIOR, date(2026, 3, 24), "6.25"),
            ("S3-T06", PARTNER, date(2026, 3, 30), "2"),
        ],
    )
    books.approve_time(later, date(2026, 3, 30), "March")
    books.recognise(march)
    (first,) = books.billing_run(march, march.end)
    books.close(march)

    april = Period.month(2026, 4)
    more = _time_entries(
        books,
        eng,
        STUDY,
        [
            ("S3-T07", SENIOR, date(2026, 4, 2), "8"),
            ("S3-T08", CONSULTANT, date(2026, 4, 3), "7.5"),
            ("S3-T09", SENIOR, date(2026, 4, 7), "8"),
        ],
    )
    books.approve_time(more, date(2026, 4, 10), "April")
    books.pay(first, str(first.totals.gross.amount), date(2026, 4, 24))
    books.recognise(april)
    books.billing_run(april, april.end)
    for exclusion in books.exclusions:
        entry = next(e for e in books.entries if str(e.entry_id) == exclusion.source.split(":")[1])
        entry.hold(exclusion.quantity, exclusion.reason, _at(date(2026, 4, 30), 13))
        books.note(
            date(2026, 4, 30),
            ENGAGEMENT_MANAGER,
            StepKind.TIME,
            f"{_hours(exclusion.quantity)} of {entry.entry_id} held over the 60-hour cap, "
            "awaiting the client's decision on a budget extension",
        )
    books.close(april)
    return books.result(
        "Blocked setup",
        "Verhaegen Logistics NV (Belgium) signs a T&M study, but the ERP has no tax profile "
        "for it: setup parks in setup_blocked and billing reports missing_tax_profile. Time "
        "logged meanwhile is refused; finance adds a reverse-charge profile, a replay finishes "
        "the setup, the refused time is accepted, and the work is billed up to its 60-hour cap.",
        date(2026, 4, 30),
    )


# Scenario 4: retainer with rollover, overage and expiry -----------------------------------

RETAINER = ObligationId("BEL-RETAINER")


BELLERIVE_RETAINER = RetainerTerms(
    RETAINER,
    "Digital advisory retainer",
    EUR,
    fee_per_period=Decimal("6000.00"),
    hours_per_period=Decimal(40),
    start=date(2026, 1, 1),
    end=date(2026, 12, 31),
    rollover_cap_hours=Decimal(20),
    rollover_periods=2,
    overage_rate=Decimal("170.00"),
    overage_policy=RetainerOveragePolicy.BILL,
)


def _scenario_4() -> ScenarioResult:
    books = _Books(4)
    bellerive = books.customer(
        "bellerive",
        "Bellerive Hotels SAS",
        taxed=(FR_ENTITY, FR_VAT),
    )
    retainer = BELLERIVE_RETAINER
    contract = Contract(
        ContractId("C-BEL-2026-01"), bellerive, FR_ENTITY, EUR, "Digital advisory retainer"
    )
    contract.draft_version(date(2025, 12, 15), [retainer], "SOW")
    eng = books.propose(
        "ENG-BEL-01", contract, date(2025, 12, 8), "Closed-won in the CRM: Bellerive Hotels SAS"
    )
    books.approve_version(
        eng,
        1,
        date(2025, 12, 15),
        "6,000.00 EUR a month in advance for 40 hours, unused hours roll over up to 20 "
        "hours a month for two months, overage at 170.00 EUR/h billed in arrears",
    )
    books.set_up(eng, date(2025, 12, 16))
    usage = {
        (2026, 1): ["8", "7.5", "6.5", "8", "4"],  # 34 h
        (2026, 2): ["8", "8", "7", "7.5", "7.5"],  # 38 h
        (2026, 3): ["8", "8", "8", "7.5", "8", "7.5", "8"],  # 55 h: the overage month
        (2026, 4): ["8", "8", "8"],  # 24 h
        (2026, 5): ["6"],  # 6 h
        (2026, 6): ["3"],  # 3 h
    }
    run_days = {
        1: date(2026, 1, 2),
        2: date(2026, 2, 2),
        3: date(2026, 3, 2),
        4: date(2026, 4, 1),
        5: date(2026, 5, 4),
        6: date(2026, 6, 1),
    }
    for (year, month), hours in usage.items():
        period = Period.month(year, month)
        (invoice,) = books.billing_run(period, run_days[month])
        days = [date(year, month, 5 + 3 * n) for n in range(len(hours))]
        entries = [
            books.log_time(eng, f"S4-{month:02d}{n:02d}", RETAINER, ADVISOR, day, h)
            for n, (day, h) in enumerate(zip(days, hours, strict=True), 1)
        ]
        books.approve_time(entries, days[-1], f"retainer, {period.key}")
        if month < 6:  # June's fee is still open at the end of the demo
            books.pay(invoice, str(invoice.totals.gross.amount), date(year, month, 15))
        books.month_end(period)
    return books.result(
        "Retainer",
        "Bellerive Hotels SAS (France) keeps a monthly retainer of 40 hours for 6,000.00 EUR "
        "billed in advance; up to 20 unused hours roll over for two months. March runs over "
        "(overage billed in arrears by the April run); a quiet May and June lose hours over "
        "the rollover cap and let April's carried hours expire (breakage).",
        date(2026, 6, 30),
        retainer=retainer,
    )


# Entry point ------------------------------------------------------------------------------

SCENARIOS = {1: _scenario_1, 2: _scenario_2, 3: _scenario_3, 4: _scenario_4}


def run_scenario(number: int) -> ScenarioResult:
    """Run one reference scenario from scratch."""
    try:
        build = SCENARIOS[number]
    except KeyError:
        raise ValueError(
            f"there is no scenario {number}; choose one of {', '.join(map(str, SCENARIOS))}"
        ) from None
    return build()


def run_demo() -> DemoResult:
    """Run the four reference scenarios, each on its own books, in order."""
    return DemoResult(tuple(run_scenario(n) for n in SCENARIOS))
