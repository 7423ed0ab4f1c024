"""The invoice's lifecycle table, the facts it records as events, its refusals and the
figures receivables add up (ADR 0004, ADR 0040): what `domain.invoice` moves through, kept apart
from the aggregate's behaviour."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import attrs

from domain.errors import DomainError
from domain.ids import InvoiceId, PaymentId
from domain.lifecycle import LifecycleTable
from domain.money import Currency, Money


class InvoiceState(Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    DISPUTED = "disputed"
    CREDITED = "credited"
    DISCARDED = "discarded"
    WRITTEN_OFF = "written_off"


class InvoiceTrigger(Enum):
    APPROVE = "approve"
    ISSUE = "issue"
    PAY_PART = "pay_part"
    PAY_IN_FULL = "pay_in_full"
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    RESOLVE_PART_PAID = "resolve_part_paid"
    CREDIT_IN_FULL = "credit_in_full"
    DISCARD = "discard"
    WRITE_OFF = "write_off"


_S, _T = InvoiceState, InvoiceTrigger

INVOICE_LIFECYCLE = LifecycleTable(
    "invoice",
    InvoiceState,
    InvoiceTrigger,
    [
        (_T.APPROVE, _S.DRAFT, _S.APPROVED),
        (_T.ISSUE, _S.APPROVED, _S.ISSUED),
        (_T.PAY_PART, [_S.ISSUED, _S.PARTIALLY_PAID], _S.PARTIALLY_PAID),
        (_T.PAY_IN_FULL, [_S.ISSUED, _S.PARTIALLY_PAID], _S.PAID),
        (_T.DISPUTE, [_S.ISSUED, _S.PARTIALLY_PAID], _S.DISPUTED),
        (_T.RESOLVE, _S.DISPUTED, _S.ISSUED),
        (_T.RESOLVE_PART_PAID, _S.DISPUTED, _S.PARTIALLY_PAID),
        (_T.CREDIT_IN_FULL, [_S.ISSUED, _S.PARTIALLY_PAID, _S.DISPUTED], _S.CREDITED),
        (_T.DISCARD, _S.DRAFT, _S.DISCARDED),
        (_T.WRITE_OFF, [_S.ISSUED, _S.PARTIALLY_PAID], _S.WRITTEN_OFF),
    ],
)


#: Days to pay when the payer's customer record states no payment terms (ADR 0037).
DEFAULT_PAYMENT_TERMS_DAYS = 30


class DocumentKind(Enum):
    """An invoice, a debit memo (a retroactive increase) or a credit adjustment (a
    retroactive decrease, whose lines and totals are negative) referencing an invoice."""

    INVOICE = "invoice"
    DEBIT_MEMO = "debit_memo"
    CREDIT_ADJUSTMENT = "credit_adjustment"


class OverpaymentError(DomainError):
    """A payment cannot exceed what is still owed on the invoice."""

    code = "overpayment"


class DatedBeforeIssueError(DomainError):
    """A payment or a write-off is dated on or after the day the invoice was issued."""

    code = "dated_before_issue"


def not_before_issue(document: str, issued: date | None, on: date, doing: str) -> None:
    """A payment or a write-off of an issued invoice is dated on or after its issue."""
    if issued is not None and on < issued:
        raise DatedBeforeIssueError(
            f"invoice {document} was issued on {issued}: it cannot {doing} on {on}, before it "
            "was issued"
        )


class WriteOffExceedsOutstandingError(DomainError):
    """A write-off gives up at most what is still owed on the invoice."""

    code = "write_off_exceeds_outstanding"


class WriteOffReasonRequiredError(DomainError):
    """A receivable is written off only for a stated reason."""

    code = "write_off_reason_required"


@attrs.frozen
class InvoiceEvent:
    invoice_id: InvoiceId
    at: datetime


@attrs.frozen
class InvoiceDrafted(InvoiceEvent):
    created_by: str


@attrs.frozen
class InvoiceApproved(InvoiceEvent):
    approved_by: str


@attrs.frozen
class InvoiceIssued(InvoiceEvent):
    number: str
    issue_date: date
    gross: Money


@attrs.frozen
class PaymentRecorded(InvoiceEvent):
    payment_id: PaymentId
    amount: Money
    received_on: date


@attrs.frozen
class InvoiceDisputed(InvoiceEvent):
    reason: str


@attrs.frozen
class DisputeResolved(InvoiceEvent):
    resolution: str
    #: The credit memo whose issue resolved the dispute (None: resolved without a credit).
    credit_memo_id: str | None = None


@attrs.frozen
class InvoiceCredited(InvoiceEvent):
    credit_memo_id: str
    gross: Money


@attrs.frozen
class InvoiceDiscarded(InvoiceEvent):
    reason: str


@attrs.frozen
class InvoiceWrittenOff(InvoiceEvent):
    """Part or all of what is still owed was given up as uncollectable (bad debt)."""

    amount: Money
    reason: str
    written_off_on: date


@attrs.frozen
class InvoiceFigures:
    """The amounts of one invoice that receivables reports add up, without its lines."""

    invoice_id: InvoiceId
    state: InvoiceState
    number: str | None
    currency: Currency
    gross: Money
    paid: Money
    credited: Money
    #: Given up as uncollectable (ADR 0040); None: nothing.
    written_off: Money | None = None

    @property
    def outstanding(self) -> Money:
        """What the customer still owes: gross less payments, issued credits and write-offs,
        never below zero (a credit beyond what is owed is a refund, see `Invoice.refund_due`)."""
        owed = self.gross - self.paid - self.credited
        if self.written_off is not None:
            owed = owed - self.written_off
        return owed if owed.is_positive() else Money.zero(self.currency)
