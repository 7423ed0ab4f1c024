"""Commands of billing and closure: runs, invoices, payments, write-offs, disputes, credit
memos, revenue, periods, reconciliation and the integration queue."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

from application.commands.base import Command, Returning
from domain.billing import SourceRef
from domain.ids import (
    ContractId,
    CreditMemoId,
    DisputeId,
    InvoiceId,
    ObligationId,
    PaymentId,
)
from domain.money import Money
from domain.period import Period


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
class RecordPayment(Returning[None]):
    invoice_id: InvoiceId
    #: The ERP's id of the payment: the same id again is the same payment (ADR 0024).
    payment_id: PaymentId
    amount: Money
    received_on: date


@attrs.frozen
class WriteOffInvoice(Returning[Money]):
    """Finance gives up what is still owed on an invoice as uncollectable (ADR 0040)."""

    invoice_id: InvoiceId
    reason: str
    #: What to give up, in the invoice's currency; None: all that is still owed.
    amount: Money | None = None


@attrs.frozen
class OpenDispute(Returning[None]):
    invoice_id: InvoiceId
    reason: str
    #: The billing platform's id of the dispute, when the sender has one: the same id again is
    #: the same dispute (a replay), never a second one (ADR 0024).
    dispute_id: DisputeId | None = None


@attrs.frozen
class ResolveDispute(Returning[None]):
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
class DraftCreditMemo(Returning[None]):
    credit_memo_id: CreditMemoId
    invoice_id: InvoiceId
    requests: tuple[CreditRequestInput, ...]
    reason: str
    write_off: bool = False
    #: Issuing the credit resolves the invoice's open dispute, with `reason` as the resolution.
    resolves_dispute: bool = False


@attrs.frozen
class ApproveCreditMemo(Returning[None]):
    credit_memo_id: CreditMemoId


@attrs.frozen
class DiscardCreditMemo(Returning[None]):
    """Drop a draft or approved credit memo; what it reserved on its invoice is released."""

    credit_memo_id: CreditMemoId
    reason: str


@attrs.frozen
class IssueCreditMemo(Returning[str]):
    credit_memo_id: CreditMemoId
    issue_date: date


@attrs.frozen
class RecognitionHeld:
    """A contract whose revenue a run did not post, and why: its legal entity has no chart of
    accounts while the deployment books on charts. Recognition is a cumulative catch-up, so
    the first run after finance adds the chart posts what was held."""

    contract_id: ContractId
    legal_entity_id: str
    detail: str


@attrs.frozen
class RevenueRun:
    """What a revenue run posted per obligation, and the contracts it held back."""

    posted: dict[ObligationId, Money]
    held: tuple[RecognitionHeld, ...] = ()


@attrs.frozen
class RecogniseRevenue(Returning[RevenueRun]):
    """Post the period's revenue catch-up per obligation, dated the period's last day."""

    period: Period


@attrs.frozen
class ClosePeriod(Returning[None]):
    period: Period


@attrs.frozen
class ReopenPeriod(Returning[None]):
    period: Period
    reason: str


@attrs.frozen
class Reconcile(Command):
    """PSA hours vs ours vs billed, and issued invoices vs the ERP's receivables."""

    period: Period


@attrs.frozen
class ReplayException(Returning[bool]):
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
class ProcessInboxMessage(Returning[bool]):
    """Translate a stored inbound message into commands and run them (also its replay)."""

    source: str
    message_id: str


@attrs.frozen
class ProcessWaitingInboxMessages(Returning[list[str]]):
    """Background job: process messages still `received` since before the cutoff (their
    processing never finished, e.g. the process died after storing them)."""

    received_before: datetime
    limit: int = 100


@attrs.frozen
class RetryDueExceptions(Returning[list[str]]):
    """Background job: retry downstream failures whose next attempt is due."""
