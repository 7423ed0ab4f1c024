"""Credit memos: take back specific lines, or specific quantities of the sources a line billed.

A credit can never exceed what its invoice line billed (less earlier credits). Issued, it
releases exactly the credited quantities back to unbilled, unless it says `write_off`, in
which case they are settled for good. A line may also credit an amount (`domain.credit_plan`,
ADR 0027): a concession, written off, unless the request says it releases. Tax is recomputed
per category at the invoice's own rates, so a full credit nets the invoice to exactly zero.

A credit on a disputed invoice resolves the dispute only if it says so (`resolves_dispute`):
issuing it then records its reason as the dispute's resolution. Otherwise the dispute stays
open, unless the credit leaves nothing to collect (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import attrs

from domain.accounting_period import PeriodLock
from domain.billing import LedgerEntry
from domain.credit_plan import CreditRequest as CreditRequest
from domain.credit_plan import CreditRequestError, PlannedCredit, plan_credit
from domain.dispute import NoOpenDisputeError
from domain.document import DocumentLine, DocumentTotals
from domain.errors import DomainError, MakerCheckerError, OverCreditError
from domain.ids import CreditMemoId, InvoiceId
from domain.invoice import Invoice, InvoiceState
from domain.lifecycle import LifecycleTable
from domain.money import EXACT, Money, dsum, money_sum
from domain.tax import TaxLine

ZERO = Decimal(0)


class CreditMemoState(Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"
    DISCARDED = "discarded"


class CreditMemoTrigger(Enum):
    APPROVE = "approve"
    ISSUE = "issue"
    DISCARD = "discard"


CREDIT_MEMO_LIFECYCLE = LifecycleTable(
    "credit memo",
    CreditMemoState,
    CreditMemoTrigger,
    [
        (CreditMemoTrigger.APPROVE, CreditMemoState.DRAFT, CreditMemoState.APPROVED),
        (CreditMemoTrigger.ISSUE, CreditMemoState.APPROVED, CreditMemoState.ISSUED),
        (
            CreditMemoTrigger.DISCARD,
            [CreditMemoState.DRAFT, CreditMemoState.APPROVED],
            CreditMemoState.DISCARDED,
        ),
    ],
)

CREDITABLE_STATES = (
    InvoiceState.ISSUED,
    InvoiceState.PARTIALLY_PAID,
    InvoiceState.PAID,
    InvoiceState.DISPUTED,
)


@attrs.frozen
class CreditMemoIssued:
    credit_memo_id: CreditMemoId
    invoice_id: InvoiceId
    number: str
    gross: Money
    at: datetime


@attrs.define(slots=False, eq=False)
class CreditMemo:
    """A credit note against one issued invoice."""

    credit_memo_id: CreditMemoId
    invoice_id: InvoiceId
    lines: tuple[DocumentLine, ...]
    totals: DocumentTotals
    reason: str
    write_off: bool
    created_by: str
    state: CreditMemoState = CreditMemoState.DRAFT
    approved_by: str | None = None
    number: str | None = None
    issue_date: date | None = None
    #: Issuing this credit resolves its invoice's open dispute, with `reason` as the resolution.
    resolves_dispute: bool = False
    #: Credit lines written off although the memo is not: amount concessions (ADR 0027).
    conceded_lines: tuple[int, ...] = ()
    #: Why a draft or approved credit was dropped (None until it is discarded).
    discard_reason: str | None = None
    revision: int = 0
    events: list[object] = attrs.field(factory=list, repr=False)

    @classmethod
    def against(
        cls,
        credit_memo_id: CreditMemoId,
        invoice: Invoice,
        requests: Sequence[CreditRequest],
        reason: str,
        created_by: str,
        write_off: bool = False,
        resolves_dispute: bool = False,
    ) -> CreditMemo:
        """Draft a credit memo and reserve what it credits on the invoice; only a disputed
        invoice takes a credit that resolves its dispute."""
        if invoice.state not in CREDITABLE_STATES:
            raise DomainError(
                f"invoice {invoice.invoice_id} is {invoice.state.value}: only issued invoices "
                "are credited (a draft is discarded instead)"
            )
        if not reason.strip():
            raise DomainError("a credit memo needs a reason")
        if not requests:
            raise DomainError("a credit memo needs at least one line to credit")
        if resolves_dispute and invoice.current_dispute is None:
            raise NoOpenDisputeError(
                f"invoice {invoice.number} is {invoice.state.value}: a credit cannot resolve a "
                "dispute it does not have"
            )
        if write_off and any(r.releases for r in requests):
            raise CreditRequestError("a write-off credit memo releases nothing")
        planned = plan_credit(invoice, requests)
        lines, totals = _priced(invoice, planned, invoice.reserved_credit_exact)
        for plan in planned:
            for a in plan.allocations:
                invoice.reserve_credit(plan.line.line_no, a.source, a.quantity, a.amount.amount)
        conceded = tuple(n for n, plan in enumerate(planned, 1) if plan.conceded and not write_off)
        return cls(
            credit_memo_id,
            invoice.invoice_id,
            tuple(lines),
            totals,
            reason,
            write_off,
            created_by,
            resolves_dispute=resolves_dispute,
            conceded_lines=conceded,
        )

    def approve(self, by: str, at: datetime) -> None:
        """Maker-checker: whoever drafted the credit cannot approve it."""
        if by == self.created_by:
            raise MakerCheckerError(f"{by} drafted credit memo {self.credit_memo_id}")
        self.state = CREDIT_MEMO_LIFECYCLE.next_state(self.state, CreditMemoTrigger.APPROVE)
        self.approved_by = by
        self.revision += 1

    def issue(
        self, invoice: Invoice, number: str, on: date, at: datetime, lock: PeriodLock
    ) -> None:
        """Issue the credit: the invoice owes less; credited quantities return to unbilled."""
        if invoice.invoice_id != self.invoice_id:
            raise DomainError(f"credit memo {self.credit_memo_id} is not for {invoice.invoice_id}")
        if invoice.state not in CREDITABLE_STATES:
            raise DomainError(
                f"invoice {invoice.number} is {invoice.state.value} and takes no more credit"
            )
        lock.check(on, "issue a credit memo")
        issued = CREDIT_MEMO_LIFECYCLE.next_state(self.state, CreditMemoTrigger.ISSUE)
        # Priced again against the credits issued so far: drafts issued or discarded since this
        # one was drafted change what the cumulative rounding gives it.
        planned = [
            PlannedCredit(invoice.line(_credited(line)), line.allocations) for line in self.lines
        ]
        lines, totals = _priced(invoice, planned, invoice.issued_credit_exact)
        resolution = self.reason if self.resolves_dispute else None
        invoice.apply_credit(self.credit_memo_id, totals.gross, at, resolution)
        for line in lines:
            exact = money_sum((a.amount for a in line.allocations), invoice.currency)
            invoice.record_issued_credit(_credited(line), exact.amount)
        self.lines, self.totals = tuple(lines), totals
        self.state = issued
        self.number, self.issue_date = number, on
        self.revision += 1
        self.events.append(
            CreditMemoIssued(self.credit_memo_id, self.invoice_id, number, self.totals.gross, at)
        )

    def discard(self, invoice: Invoice, reason: str) -> None:
        """Drop an unissued credit, saying why; its reservations on the invoice are released."""
        if not reason.strip():
            raise DomainError(f"discarding credit memo {self.credit_memo_id} needs a reason")
        if invoice.invoice_id != self.invoice_id:
            raise DomainError(f"credit memo {self.credit_memo_id} is not for {invoice.invoice_id}")
        self.state = CREDIT_MEMO_LIFECYCLE.next_state(self.state, CreditMemoTrigger.DISCARD)
        self.discard_reason = reason
        self.revision += 1
        for line in self.lines:
            for a in line.allocations:
                invoice.reserve_credit(
                    _credited(line),
                    a.source,
                    EXACT.minus(a.quantity),
                    EXACT.minus(a.amount.amount),
                )

    def writes_off(self, line_no: int) -> bool:
        """A credit line is written off when the memo says so or when it is a concession."""
        return self.write_off or line_no in self.conceded_lines

    def ledger_entries(self) -> list[LedgerEntry]:
        """Issued credits take back their quantities and values (as negative billed ones),
        each marked as a credit and, when it does not release, as a write-off."""
        if self.state is not CreditMemoState.ISSUED:
            return []
        return [
            LedgerEntry(
                self.credit_memo_id,
                line.obligation_id,
                a.source,
                EXACT.minus(a.quantity),
                -a.amount,
                a.terms,
                write_off=self.writes_off(line.line_no),
                credit=True,
                payer=a.payer,
            )
            for line in self.lines
            for a in line.allocations
        ]


def _credited(line: DocumentLine) -> int:
    if line.credits_line is None:  # pragma: no cover - every credit line names its line
        raise DomainError(f"credit line {line.line_no} names no invoice line")
    return line.credits_line


def _priced(
    invoice: Invoice,
    planned: Sequence[PlannedCredit],
    credited_before: Callable[[int], Decimal],
) -> tuple[list[DocumentLine], DocumentTotals]:
    """Credit lines and totals by cumulative rounding: each credit takes round(credited after)
    - round(credited before), per line and per tax category, so an invoice's credits always
    add up to exactly what it billed. A draft is priced after every credit reserved so far
    (so drafts together never take more than the invoice); at issue it is priced again after
    the credits issued so far (so discarded or later drafts never leave a cent behind)."""
    before = {line.line_no: credited_before(line.line_no) for line in invoice.lines}
    after = dict(before)
    lines = []
    for n, plan in enumerate(planned, 1):
        original, allocations = plan.line, plan.allocations
        exact = money_sum((a.amount for a in allocations), invoice.currency)
        start = after[original.line_no]
        after[original.line_no] = EXACT.add(start, exact.amount)
        amount = _rounded(after[original.line_no], invoice) - _rounded(start, invoice)
        lines.append(
            DocumentLine(
                n,
                original.obligation_id,
                original.kind,
                f"Credit: {original.description}",
                dsum(a.quantity for a in allocations),
                original.unit_price,
                amount,
                original.tax_code,
                allocations,
                original.service_period,
                original.flags,
                credits_line=original.line_no,
            )
        )
    totals = _credit_totals(invoice, lines, before, after)
    if totals.gross > invoice.totals.gross - invoice.amount_credited:
        raise OverCreditError(
            f"credit {totals.gross} exceeds what invoice {invoice.number} has left to credit"
        )
    return lines, totals


def _rounded(exact: Decimal, invoice: Invoice) -> Money:
    return Money(exact, invoice.currency).quantized()


def _credit_totals(
    invoice: Invoice,
    lines: Sequence[DocumentLine],
    before: dict[int, Decimal],
    after: dict[int, Decimal],
) -> DocumentTotals:
    """Tax per category as the difference of the cumulative credited tax, at the invoice's rates."""
    currency = invoice.currency
    tax_lines = []
    for invoice_tax in invoice.totals.tax_lines:
        code = invoice_tax.tax_code
        in_code = [line.line_no for line in invoice.lines if line.tax_code == code]
        base_before = money_sum((_rounded(before[n], invoice) for n in in_code), currency)
        base_after = money_sum((_rounded(after[n], invoice) for n in in_code), currency)
        if base_before == base_after and not any(x.tax_code == code for x in lines):
            continue
        tax = (
            base_after.times(invoice_tax.rate).quantized()
            - base_before.times(invoice_tax.rate).quantized()
        )
        tax_lines.append(TaxLine(code, base_after - base_before, invoice_tax.rate, tax,
                                 invoice_tax.note))  # fmt: skip
    net = money_sum((line.amount for line in lines), currency)
    tax_total = money_sum((t.amount for t in tax_lines), currency)
    return DocumentTotals(net, tuple(tax_lines), tax_total, net + tax_total, invoice.totals.note)
