"""The invoice aggregate: draft → approved (maker-checker) → issued (numbered, immutable) →
partially paid → paid; issued → disputed → issued or credited; draft → discarded; issued or
partially paid → written off, once what is still owed is given up as uncollectable (ADR 0040).

A dispute ends only explicitly: resolved by someone, by a credit memo that says it resolves it,
or by a credit that leaves nothing to collect; each way records its resolution
(`domain.dispute`).

An issued invoice is never edited: corrections are credit memos (`domain.credit_memo`) or debit
memos that reference it. The invoice keeps, per line and source, what credit memos have taken
back, so no credit can exceed what a line billed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import attrs

from domain.accounting_period import PeriodLock
from domain.billing import LedgerEntry, SourceRef
from domain.billing_run import AdjustmentKind, AdjustmentProposal, InvoiceProposal
from domain.dispute import Dispute, NoOpenDisputeError
from domain.document import DocumentLine, DocumentTotals, billed_by
from domain.errors import CurrencyMismatchError, DomainError, MakerCheckerError
from domain.ids import ContractId, CustomerId, InvoiceId, LegalEntityId, PaymentId
from domain.invoice_lifecycle import (
    DEFAULT_PAYMENT_TERMS_DAYS as DEFAULT_PAYMENT_TERMS_DAYS,
)
from domain.invoice_lifecycle import (
    INVOICE_LIFECYCLE as INVOICE_LIFECYCLE,
)
from domain.invoice_lifecycle import (
    DisputeResolved as DisputeResolved,
)
from domain.invoice_lifecycle import (
    DocumentKind as DocumentKind,
)
from domain.invoice_lifecycle import (
    InvoiceApproved as InvoiceApproved,
)
from domain.invoice_lifecycle import (
    InvoiceCredited as InvoiceCredited,
)
from domain.invoice_lifecycle import (
    InvoiceDiscarded as InvoiceDiscarded,
)
from domain.invoice_lifecycle import (
    InvoiceDisputed as InvoiceDisputed,
)
from domain.invoice_lifecycle import (
    InvoiceDrafted as InvoiceDrafted,
)
from domain.invoice_lifecycle import (
    InvoiceEvent as InvoiceEvent,
)
from domain.invoice_lifecycle import (
    InvoiceFigures as InvoiceFigures,
)
from domain.invoice_lifecycle import (
    InvoiceIssued as InvoiceIssued,
)
from domain.invoice_lifecycle import (
    InvoiceState as InvoiceState,
)
from domain.invoice_lifecycle import (
    InvoiceTrigger as InvoiceTrigger,
)
from domain.invoice_lifecycle import (
    InvoiceWrittenOff as InvoiceWrittenOff,
)
from domain.invoice_lifecycle import (
    OverpaymentError as OverpaymentError,
)
from domain.invoice_lifecycle import (
    PaymentRecorded as PaymentRecorded,
)
from domain.invoice_lifecycle import (
    WriteOffExceedsOutstandingError as WriteOffExceedsOutstandingError,
)
from domain.invoice_lifecycle import (
    WriteOffReasonRequiredError as WriteOffReasonRequiredError,
)
from domain.invoice_lifecycle import not_before_issue
from domain.lifecycle import Lifecycled
from domain.money import EXACT, Currency, Money
from domain.period import Period


@attrs.define(slots=False, eq=False)
class Invoice(Lifecycled[InvoiceState, InvoiceTrigger, InvoiceEvent]):
    """An invoice (or a debit memo) for one payer, contract, legal entity and currency."""

    _lifecycle = INVOICE_LIFECYCLE

    invoice_id: InvoiceId
    customer_id: CustomerId
    contract_id: ContractId
    legal_entity_id: LegalEntityId
    currency: Currency
    period: Period
    lines: tuple[DocumentLine, ...]
    totals: DocumentTotals
    created_by: str
    kind: DocumentKind = DocumentKind.INVOICE
    references: InvoiceId | None = None
    state: InvoiceState = InvoiceState.DRAFT
    approved_by: str | None = None
    number: str | None = None
    issue_date: date | None = None
    paid: Money | None = None
    credited: Money | None = None
    #: Every dispute of the invoice, oldest first; only the last can be open.
    disputes: tuple[Dispute, ...] = ()
    credit_reservations: dict[tuple[int, SourceRef], tuple[Decimal, Decimal]] = attrs.field(
        factory=dict
    )
    issued_credits: dict[int, Decimal] = attrs.field(factory=dict)
    #: The payer billed when the contract splits billing between payers (None: the customer).
    payer_id: CustomerId | None = None
    #: Days the payer has to pay, fixed at issue from its payment terms (ADR 0037).
    payment_terms_days: int | None = None
    #: The issue date plus the payment terms; None before issue (and on invoices issued before
    #: due dates were kept).
    due_date: date | None = None
    #: What was written off as uncollectable, in total (ADR 0040); None: nothing.
    written_off: Money | None = None
    revision: int = 0
    events: list[object] = attrs.field(factory=list, repr=False)

    @property
    def payer(self) -> CustomerId:
        """Who this invoice bills: its payer, or the contract's customer."""
        return self.payer_id or self.customer_id

    @classmethod
    def draft(
        cls,
        invoice_id: InvoiceId,
        customer_id: CustomerId,
        contract_id: ContractId,
        legal_entity_id: LegalEntityId,
        period: Period,
        lines: tuple[DocumentLine, ...],
        totals: DocumentTotals,
        created_by: str,
        at: datetime,
        kind: DocumentKind = DocumentKind.INVOICE,
        references: InvoiceId | None = None,
        payer_id: CustomerId | None = None,
    ) -> Invoice:
        """A new draft from a billing proposal (or an adjustment), billing its payer."""
        if not lines:
            raise DomainError("an invoice needs at least one line")
        invoice = cls(
            invoice_id,
            customer_id,
            contract_id,
            legal_entity_id,
            totals.net.currency,
            period,
            lines,
            totals,
            created_by,
            kind,
            references,
            payer_id=None if payer_id == customer_id else payer_id,
        )
        invoice.events.append(InvoiceDrafted(invoice_id, at, created_by))
        return invoice

    @classmethod
    def from_proposal(
        cls,
        invoice_id: str,
        proposal: InvoiceProposal | AdjustmentProposal,
        created_by: str,
        at: datetime,
        period: Period | None = None,
    ) -> Invoice:
        """A draft holding exactly what the billing run proposed: an invoice proposal becomes
        an invoice, an adjustment a debit memo or credit adjustment of the invoice it cites."""
        if isinstance(proposal, InvoiceProposal):
            return cls.draft(
                InvoiceId(invoice_id),
                proposal.customer_id,
                proposal.contract_id,
                proposal.legal_entity_id,
                proposal.period,
                proposal.lines,
                proposal.totals,
                created_by,
                at,
                payer_id=proposal.payer_id,
            )
        if period is None:
            raise DomainError(f"adjustment {proposal.key} carries no period: pass the run's period")
        debit = proposal.kind is AdjustmentKind.DEBIT_MEMO
        return cls.draft(
            InvoiceId(invoice_id),
            proposal.customer_id,
            proposal.contract_id,
            proposal.legal_entity_id,
            period,
            proposal.lines,
            proposal.totals,
            created_by,
            at,
            kind=DocumentKind.DEBIT_MEMO if debit else DocumentKind.CREDIT_ADJUSTMENT,
            references=InvoiceId(proposal.references),
            payer_id=proposal.payer_id,
        )

    @property
    def amount_paid(self) -> Money:
        return self.paid or Money.zero(self.currency)

    @property
    def amount_credited(self) -> Money:
        return self.credited or Money.zero(self.currency)

    @property
    def amount_written_off(self) -> Money:
        return self.written_off or Money.zero(self.currency)

    @property
    def figures(self) -> InvoiceFigures:
        return InvoiceFigures(
            self.invoice_id,
            self.state,
            self.number,
            self.currency,
            self.totals.gross,
            self.amount_paid,
            self.amount_credited,
            self.written_off,
        )

    @property
    def outstanding(self) -> Money:
        """What the customer still owes (see `InvoiceFigures.outstanding`)."""
        return self.figures.outstanding

    @property
    def refund_due(self) -> Money:
        """What the customer paid beyond what the invoice, net of credits, asks for."""
        over = self.amount_paid + self.amount_credited - self.totals.gross
        return over if over.is_positive() else Money.zero(self.currency)

    @property
    def current_dispute(self) -> Dispute | None:
        """The open dispute, if the invoice is disputed."""
        last = self.disputes[-1] if self.disputes else None
        return last if self.state is InvoiceState.DISPUTED and last and last.is_open else None

    @property
    def dispute_reason(self) -> str | None:
        """Why the invoice is disputed now (None unless it is)."""
        current = self.current_dispute
        return None if current is None else current.reason

    @property
    def is_committed(self) -> bool:
        """Drafts, approved and issued documents hold their allocations; discarded ones do not."""
        return self.state is not InvoiceState.DISCARDED

    def approve(self, by: str, at: datetime) -> None:
        """Maker-checker: whoever created the invoice cannot approve it."""
        if by == self.created_by:
            raise MakerCheckerError(
                f"{by} created invoice {self.invoice_id} and cannot also approve it"
            )
        self._fire(InvoiceTrigger.APPROVE, InvoiceApproved(self.invoice_id, at, by))
        self.approved_by = by

    def issue(
        self,
        number: str,
        on: date,
        at: datetime,
        lock: PeriodLock,
        payment_terms_days: int = DEFAULT_PAYMENT_TERMS_DAYS,
    ) -> None:
        """Number and issue an approved invoice; it is immutable from now on, and due the
        payer's payment terms after its issue date."""
        if not number:
            raise DomainError("an issued invoice needs a number")
        if payment_terms_days < 0:
            raise DomainError(f"payment terms are days after issue, not {payment_terms_days}")
        lock.check(on, "issue an invoice")
        gross = self.totals.gross
        self._fire(InvoiceTrigger.ISSUE, InvoiceIssued(self.invoice_id, at, number, on, gross))
        self.number, self.issue_date = number, on
        self.payment_terms_days = payment_terms_days
        self.due_date = on + timedelta(days=payment_terms_days)

    def discard(self, reason: str, at: datetime) -> None:
        """A draft can be thrown away; its allocations return to unbilled."""
        self._fire(InvoiceTrigger.DISCARD, InvoiceDiscarded(self.invoice_id, at, reason))

    def record_payment(
        self, payment_id: PaymentId, amount: Money, on: date, at: datetime, lock: PeriodLock
    ) -> None:
        """A payment reduces what is owed, in whole minor units of the currency; it never
        exceeds what is owed."""
        self._check_currency(amount, "a payment")
        if not amount.is_positive():
            raise DomainError("a payment is a positive amount")
        if amount.quantized() != amount:
            raise DomainError(
                f"a payment of {amount.amount} {amount.currency} has more decimals than "
                f"{amount.currency} has ({amount.currency.minor_units})"
            )
        if amount > self.outstanding:
            raise OverpaymentError(
                f"payment {amount} exceeds the {self.outstanding} outstanding on "
                f"invoice {self.number or self.invoice_id}"
            )
        lock.check(on, "record a payment")
        not_before_issue(self.number or self.invoice_id, self.issue_date, on, "be paid")
        full = amount == self.outstanding
        event = PaymentRecorded(self.invoice_id, at, payment_id, amount, on)
        self._fire(InvoiceTrigger.PAY_IN_FULL if full else InvoiceTrigger.PAY_PART, event)
        self.paid = self.amount_paid + amount

    def write_off(
        self, amount: Money | None, reason: str, on: date, at: datetime, lock: PeriodLock
    ) -> Money:
        """Give up part or all of what is still owed on an issued or partly paid invoice as
        uncollectable, for a stated reason, in whole minor units; giving up all that is owed
        writes the invoice off. A disputed invoice is settled first. Returns the amount."""
        self._next(InvoiceTrigger.WRITE_OFF)
        stated = reason.strip()
        if not stated:
            raise WriteOffReasonRequiredError(
                f"writing off invoice {self.number or self.invoice_id} needs a reason"
            )
        owed = self.outstanding
        given_up = owed if amount is None else amount
        self._check_currency(given_up, "a write-off")
        if not given_up.is_positive() or given_up.quantized() != given_up:
            raise DomainError(
                f"a write-off is a positive amount in whole {self.currency} minor units, "
                f"not {given_up.amount}"
            )
        if given_up > owed:
            raise WriteOffExceedsOutstandingError(
                f"writing off {given_up} exceeds the {owed} outstanding on invoice "
                f"{self.number or self.invoice_id}"
            )
        not_before_issue(self.number or self.invoice_id, self.issue_date, on, "be written off")
        lock.check(on, "write off an invoice")
        left = owed - given_up
        event = InvoiceWrittenOff(self.invoice_id, at, given_up, stated, on)
        if left.is_zero():
            self._fire(InvoiceTrigger.WRITE_OFF, event)
        else:
            self._record(event)
        self.written_off = self.amount_written_off + given_up
        return given_up

    def _check_currency(self, amount: Money, what: str) -> None:
        """What settles an invoice is in the invoice's currency."""
        if amount.currency != self.currency:
            raise CurrencyMismatchError(
                f"{what} of invoice {self.number or self.invoice_id} is in {self.currency}, "
                f"not in {amount.currency}"
            )

    def open_dispute(self, reason: str, at: datetime) -> None:
        """The client disputes an issued invoice, with a reason."""
        dispute = Dispute.open(reason, at)
        self._fire(InvoiceTrigger.DISPUTE, InvoiceDisputed(self.invoice_id, at, reason))
        self.disputes = (*self.disputes, dispute)

    def resolve_dispute(self, resolution: str, at: datetime) -> None:
        """Close the dispute with a stated resolution; the invoice stands (any correction is a
        credit memo)."""
        ended = self._ended_dispute(resolution, at, None)
        self._fire(self._resolution, DisputeResolved(self.invoice_id, at, resolution))
        self.disputes = (*self.disputes[:-1], ended)

    @property
    def _resolution(self) -> InvoiceTrigger:
        """A resolved dispute returns to partly paid when money was received, else to issued."""
        if self.amount_paid.is_positive():
            return InvoiceTrigger.RESOLVE_PART_PAID
        return InvoiceTrigger.RESOLVE

    def _ended_dispute(self, resolution: str, at: datetime, credit_memo_id: str | None) -> Dispute:
        """The open dispute as it will read once resolved; nothing changes yet."""
        current = self.current_dispute
        if current is None:
            raise NoOpenDisputeError(
                f"invoice {self.number or self.invoice_id} is {self.state.value}: it has no "
                "open dispute to resolve"
            )
        return current.resolved(resolution, at, credit_memo_id)

    def line(self, line_no: int) -> DocumentLine:
        for line in self.lines:
            if line.line_no == line_no:
                return line
        raise DomainError(f"invoice {self.invoice_id} has no line {line_no}")

    def creditable(self, line_no: int, source: SourceRef) -> tuple[Decimal, Decimal]:
        """(quantity, exact amount) of one allocation not yet taken back by a credit memo."""
        for alloc in self.line(line_no).allocations:
            if alloc.source == source:
                qty, amount = self.credit_reservations.get((line_no, source), (Decimal(0),) * 2)
                return (
                    EXACT.subtract(alloc.quantity, qty),
                    EXACT.subtract(alloc.amount.amount, amount),
                )
        raise DomainError(f"line {line_no} of invoice {self.invoice_id} did not bill {source}")

    def reserved_credit_exact(self, line_no: int) -> Decimal:
        """Exact value of one line taken back by credit memos, drafts included."""
        total = Decimal(0)
        for (reserved_line, _source), (_qty, amount) in self.credit_reservations.items():
            if reserved_line == line_no:
                total = EXACT.add(total, amount)
        return total

    def issued_credit_exact(self, line_no: int) -> Decimal:
        """Exact value of one line taken back by credit memos issued so far."""
        return self.issued_credits.get(line_no, Decimal(0))

    def record_issued_credit(self, line_no: int, exact: Decimal) -> None:
        self.issued_credits[line_no] = EXACT.add(self.issued_credit_exact(line_no), exact)

    def reserve_credit(
        self, line_no: int, source: SourceRef, quantity: Decimal, amount: Decimal
    ) -> None:
        """Record that a credit memo takes back this quantity (checked by the credit memo)."""
        qty, value = self.credit_reservations.get((line_no, source), (Decimal(0),) * 2)
        self.credit_reservations[(line_no, source)] = (
            EXACT.add(qty, quantity),
            EXACT.add(value, amount),
        )
        self.revision += 1

    def apply_credit(
        self, credit_memo_id: str, gross: Money, at: datetime, resolution: str | None = None
    ) -> None:
        """An issued credit memo reduces what is owed; a credit that leaves nothing to collect
        closes the invoice as credited (ending any dispute, recorded as such). A paid invoice
        stays paid and the credit becomes a refund due. A credit resolves an open dispute only
        when it says so (`resolution`); otherwise the dispute stays open. Legality is settled
        before anything changes."""
        event = InvoiceCredited(self.invoice_id, at, credit_memo_id, gross)
        credited = self.amount_credited + gross
        left = self.totals.gross - self.amount_paid - credited - self.amount_written_off
        if self.state not in (
            InvoiceState.ISSUED,
            InvoiceState.PARTIALLY_PAID,
            InvoiceState.PAID,
            InvoiceState.DISPUTED,
        ):
            raise DomainError(f"invoice {self.number} is {self.state.value}: it takes no credit")
        if self.written_off is not None and left.is_negative():
            raise WriteOffExceedsOutstandingError(
                f"invoice {self.number} had {self.written_off} written off: a credit takes back "
                f"at most the {self.outstanding} still owed, not {gross}"
            )
        in_full = self.state is not InvoiceState.PAID and not left.is_positive()
        if resolution is None and in_full and self.state is InvoiceState.DISPUTED:
            resolution = f"credited in full by credit memo {credit_memo_id}"
        ended = None
        if resolution is not None:
            ended = self._ended_dispute(resolution, at, credit_memo_id)
        self.credited = credited
        if in_full:
            self._fire(InvoiceTrigger.CREDIT_IN_FULL, event)
        else:
            self._record(event)
        if ended is None or resolution is None:
            return
        if not in_full:
            self.state = self._next(self._resolution)
        self.disputes = (*self.disputes[:-1], ended)
        self.events.append(DisputeResolved(self.invoice_id, at, resolution, credit_memo_id))

    def ledger_entries(self) -> list[LedgerEntry]:
        """This document's allocations as billed quantities (nothing once discarded)."""
        if not self.is_committed:
            return []
        return billed_by(self.invoice_id, self.lines)
