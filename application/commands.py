"""Commands: imperative, frozen, carrying only what the caller owns.

Every command is handled inside one unit of work by one handler (see `application.handlers`);
the request context (actor, correlation id) travels beside it, not inside it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from application.legal_entities import LegalEntityRecord
from application.ports import CustomerRecord
from domain.billing import SourceRef
from domain.ids import (
    ContractId,
    CreditMemoId,
    CustomerId,
    DisputeId,
    EngagementId,
    ExpenseId,
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
)
from domain.money import Money
from domain.period import Period
from domain.ratecard import RateCardVersion
from domain.split import ObligationPayers
from domain.tax import TaxProfile, TaxRateTable
from domain.time_entry import NO_TASK


class Command:
    """Marker base class of every command."""


# -- contracts, rate cards, engagements -------------------------------------------------------


@attrs.frozen
class ProposeEngagement(Command):
    """CRM closed-won: a deal becomes a proposed engagement."""

    engagement_id: EngagementId
    customer_id: CustomerId
    contract_id: ContractId


@attrs.frozen
class RegisterContract(Command):
    """CLM: the contract (MSA) the versions belong to."""

    contract_id: ContractId
    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    currency: str
    name: str


@attrs.frozen
class DraftContractVersion(Command):
    """CLM: a SOW or an amendment, as a draft."""

    contract_id: ContractId
    effective_from: date
    obligations: tuple[Any, ...]
    label: str = ""
    #: Obligations billed to several payers (split billing, ADR 0029).
    payers: tuple[ObligationPayers, ...] = ()


@attrs.frozen
class ApproveContractVersion(Command):
    """CLM: a version is approved; the first approval sets the engagement up."""

    contract_id: ContractId
    version: int


@attrs.frozen
class CreateRateCard(Command):
    rate_card_id: RateCardId
    name: str
    currency: str


@attrs.frozen
class PublishRateCardVersion(Command):
    """Publish a version directly, without a checker: for data loads and tests only."""

    rate_card_id: RateCardId
    version: RateCardVersion


@attrs.frozen
class ProposeRateCardVersion(Command):
    """The maker's half of a rate-card change: the version waits for another's approval."""

    rate_card_id: RateCardId
    version: RateCardVersion


@attrs.frozen
class ProposeRateCardAmendment(Command):
    """The maker's half of a rate-card change written as changes: the next version is the one
    in force on `effective_from` with these rates set and these removed; it waits for another's
    approval like any proposal."""

    rate_card_id: RateCardId
    effective_from: date
    role_rates: dict[Role, Decimal] = attrs.field(factory=dict)
    resource_overrides: dict[ResourceId, Decimal] = attrs.field(factory=dict)
    removed_roles: tuple[Role, ...] = ()
    removed_overrides: tuple[ResourceId, ...] = ()


@attrs.frozen
class ApproveRateCardVersion(Command):
    """The checker's half: publish a proposed version (never by whoever proposed it)."""

    rate_card_id: RateCardId
    version_number: int


@attrs.frozen
class SetUpEngagement(Command):
    """Provision the engagement in the downstream systems; replayable without duplicates."""

    engagement_id: EngagementId


@attrs.frozen
class SuspendEngagement(Command):
    """Pause an active engagement (no time accepted) for a stated reason."""

    engagement_id: EngagementId
    reason: str


@attrs.frozen
class ResumeEngagement(Command):
    engagement_id: EngagementId


@attrs.frozen
class StartClosingEngagement(Command):
    """No new time from the close date on; final billing and revenue follow."""

    engagement_id: EngagementId
    close_date: date


@attrs.frozen
class CloseEngagement(Command):
    engagement_id: EngagementId


@attrs.frozen
class CancelEngagement(Command):
    """Drop a deal whose setup has not started, for a stated reason."""

    engagement_id: EngagementId
    reason: str


@attrs.frozen
class UpdateCustomerMaster(Command):
    """ERP: the customer's tax profile (and the rate table) changed."""

    profile: TaxProfile


@attrs.frozen
class PushCustomerRecord(Command):
    """ERP: the full customer record for one of our legal entities (ADR 0035); the version
    is the store's to give."""

    record: CustomerRecord


@attrs.frozen
class SeedCustomerRecords(Command):
    """Start-up: the customer master file of a demo or a first deployment, kept as version 1
    of each record the store does not hold yet (ADR 0035)."""

    records: tuple[CustomerRecord, ...]


@attrs.frozen
class PutLegalEntity(Command):
    """Finance: the whole master data of one of our legal entities (ADR 0037); the version is
    the store's to give."""

    record: LegalEntityRecord


@attrs.frozen
class SeedLegalEntities(Command):
    """Start-up: the legal entities of a demo or a first deployment, kept as version 1 of
    each one the store does not hold yet (ADR 0037)."""

    records: tuple[LegalEntityRecord, ...]


@attrs.frozen
class SetTaxRates(Command):
    rates: TaxRateTable


# -- delivery ---------------------------------------------------------------------------------


@attrs.frozen
class TimeEntryInput:
    """One approved time entry as the PSA or time app sends it."""

    entry_id: TimeEntryId
    engagement_id: EngagementId
    obligation_id: ObligationId
    resource_id: ResourceId
    role: Role
    work_date: date
    hours: Decimal
    task_id: TaskId = NO_TASK
    billable: bool = True
    cost_rate: Decimal | None = None


@attrs.frozen
class RecordTimeEntries(Command):
    """A batch of approved time entries; each is accepted or rejected with a reason code."""

    entries: tuple[TimeEntryInput, ...]
    approved_by: str = "psa"


@attrs.frozen
class ExpenseInput:
    expense_id: ExpenseId
    engagement_id: EngagementId
    obligation_id: ObligationId
    resource_id: ResourceId
    category: str
    incurred_on: date
    cost: Money
    description: str = ""


@attrs.frozen
class RecordExpenses(Command):
    items: tuple[ExpenseInput, ...]
    approved_by: str = "expenses"


@attrs.frozen
class ApproveItem(Command):
    """Approve a submitted time entry or expense."""

    item_id: str


@attrs.frozen
class RejectItem(Command):
    """Reject a submitted time entry or expense, with a reason code."""

    item_id: str
    reason: str


@attrs.frozen
class HoldItem(Command):
    """Hold an approved item's quantity (e.g. above a cap) until someone decides."""

    item_id: str
    quantity: Decimal
    reason: str


@attrs.frozen
class ReleaseHeldItem(Command):
    """Approve billing beyond the cap for an item's held quantity."""

    item_id: str


@attrs.frozen
class WriteOffItem(Command):
    """Write an item's held quantity (or a given quantity) off as leakage."""

    item_id: str
    reason: str
    quantity: Decimal | None = None


@attrs.frozen
class CorrectTimeEntry(Command):
    """Correct what an unbilled entry says was worked (hours, task, billable), with a reason;
    what is not given stays. Billed hours are corrected by a credit memo instead."""

    entry_id: TimeEntryId
    reason: str
    hours: Decimal | None = None
    task_id: TaskId | None = None
    billable: bool | None = None


@attrs.frozen
class CompleteMilestone(Command):
    milestone_id: MilestoneId
    evidence: str
    on: date
    #: The PSA's id of this completion: when given, the same completion sent again is a
    #: replay, even after the milestone was rejected meanwhile (ADR 0024).
    completion_id: str | None = None


@attrs.frozen
class AcceptMilestone(Command):
    milestone_id: MilestoneId
    on: date
    #: The client's approver, when the caller records an acceptance on their behalf.
    accepted_by: str | None = None


@attrs.frozen
class RejectMilestone(Command):
    milestone_id: MilestoneId
    reason: str


@attrs.frozen
class AcceptDueMilestones(Command):
    """Background job: passive acceptance of milestones whose window has passed."""

    today: date


# -- billing and closure ----------------------------------------------------------------------


@attrs.frozen
class RunBilling(Command):
    """A period billing run; a dry run returns the very proposal a commit would store."""

    period: Period
    dry_run: bool = True
    contract_ids: tuple[ContractId, ...] = ()
    invoice_date: date | None = None
    #: The preview's fingerprint: a commit refuses if the proposal changed since.
    expected_fingerprint: str | None = None


@attrs.frozen
class ApproveInvoice(Command):
    invoice_id: InvoiceId


@attrs.frozen
class DiscardInvoice(Command):
    invoice_id: InvoiceId
    reason: str


@attrs.frozen
class IssueInvoice(Command):
    """Number, post and hand over an approved invoice."""

    invoice_id: InvoiceId
    issue_date: date


@attrs.frozen
class HandOverInvoice(Command):
    """Give an issued invoice to the ERP or billing platform (retried on an outage)."""

    invoice_id: InvoiceId


@attrs.frozen
class ConfirmInvoicePosted(Command):
    """ERP: an issued invoice was posted to receivables. It completes the hand-over (an open
    hand-over failure is resolved: the invoice got there) and is refused when what was posted
    is not what was issued (another number or gross)."""

    invoice_id: InvoiceId
    invoice_number: str
    gross: Money
    posted_on: date
    erp_reference: str


@attrs.frozen
class RecordPayment(Command):
    invoice_id: InvoiceId
    #: The ERP's id of the payment: the same id again is the same payment (ADR 0024).
    payment_id: PaymentId
    amount: Money
    received_on: date


@attrs.frozen
class OpenDispute(Command):
    invoice_id: InvoiceId
    reason: str
    #: The billing platform's id of the dispute, when the sender has one: the same id again is
    #: the same dispute (a replay), never a second one (ADR 0024).
    dispute_id: DisputeId | None = None


@attrs.frozen
class ResolveDispute(Command):
    invoice_id: InvoiceId
    resolution: str


@attrs.frozen
class CreditRequestInput:
    line_no: int
    source: SourceRef | None = None
    quantity: Decimal | None = None
    #: An amount instead of a quantity: a concession unless `releases` (ADR 0027).
    amount: Decimal | None = None
    releases: bool = False


@attrs.frozen
class DraftCreditMemo(Command):
    credit_memo_id: CreditMemoId
    invoice_id: InvoiceId
    requests: tuple[CreditRequestInput, ...]
    reason: str
    write_off: bool = False
    #: Issuing the credit resolves the invoice's open dispute, with `reason` as the resolution.
    resolves_dispute: bool = False


@attrs.frozen
class ApproveCreditMemo(Command):
    credit_memo_id: CreditMemoId


@attrs.frozen
class IssueCreditMemo(Command):
    credit_memo_id: CreditMemoId
    issue_date: date


@attrs.frozen
class RecogniseRevenue(Command):
    """Post the period's revenue catch-up per obligation, dated the period's last day."""

    period: Period


@attrs.frozen
class ClosePeriod(Command):
    period: Period


@attrs.frozen
class ReopenPeriod(Command):
    period: Period
    reason: str


@attrs.frozen
class Reconcile(Command):
    """PSA hours vs ours vs billed, and issued invoices vs the ERP's receivables."""

    period: Period


@attrs.frozen
class ReplayException(Command):
    """Reprocess what an integration exception kept, after someone fixed the cause."""

    exception_id: str


@attrs.frozen
class ReceiveInboxMessage(Command):
    """An inbound webhook whose signature verified: store it raw, then process it."""

    source: str
    message_id: str
    event_type: str
    body: str


@attrs.frozen
class ProcessInboxMessage(Command):
    """Translate a stored inbound message into commands and run them (also its replay)."""

    source: str
    message_id: str


@attrs.frozen
class ProcessWaitingInboxMessages(Command):
    """Background job: process messages still `received` since before the cutoff (their
    processing never finished, e.g. the process died after storing them)."""

    received_before: datetime
    limit: int = 100


@attrs.frozen
class RetryDueExceptions(Command):
    """Background job: retry downstream failures whose next attempt is due."""
