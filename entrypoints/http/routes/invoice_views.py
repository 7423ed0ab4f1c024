"""What the invoice routes answer: the invoice as a caller may see it, and one row of the list.

A client viewer never sees the firm's people behind a document: `created_by` and `approved_by`
are absent from what it gets.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

from application.queries.invoices import InvoiceSummary as InvoiceRow
from domain.dispute import Dispute
from domain.invoice import Invoice
from entrypoints.http.routes.common import (
    MoneyOut,
    PeriodOut,
    money_out,
    out_of,
    period_out,
    published,
    staff,
)
from entrypoints.http.routes.document_lines import LineOut, line_of
from entrypoints.http.security import Principal


class InvoiceLineOut(LineOut):
    sources: list[str]
    credits_line: int | None = None


class TaxLineOut(msgspec.Struct):
    tax_code: str
    rate: str
    base: MoneyOut
    tax: MoneyOut
    note: str


class DisputeOut(msgspec.Struct):
    """One dispute of the invoice and, once it ended, how (by a credit memo, or not)."""

    reason: str
    opened_at: datetime | None
    state: Literal["open", "resolved"]
    resolution: str | None
    resolved_at: datetime | None
    credit_memo_id: str | None


def dispute_out(dispute: Dispute) -> DisputeOut:
    return out_of(DisputeOut, dispute, state="open" if dispute.is_open else "resolved")


class InvoiceOut(msgspec.Struct, omit_defaults=True):
    invoice_id: str
    kind: str
    state: str
    customer_id: str
    #: Who the invoice bills: a payer of a split obligation, or the customer (ADR 0029).
    payer_id: str
    contract_id: str
    legal_entity_id: str
    currency: str
    period: PeriodOut
    net: MoneyOut
    tax: MoneyOut
    tax_lines: list[TaxLineOut]
    #: Printed once on the document: a reverse-charged payer's legal note ("" when none).
    note: str
    gross: MoneyOut
    outstanding: MoneyOut
    paid: MoneyOut
    credited: MoneyOut
    refund_due: MoneyOut
    #: Given up as uncollectable by write-offs (ADR 0040), in total; "0.00" when nothing.
    written_off: MoneyOut
    number: str | None
    issue_date: date | None
    #: When payment is due: the issue date plus the payer's payment terms (ADR 0037); null
    #: before issue and on invoices issued before due dates were kept.
    due_date: date | None
    #: The payer's payment terms in days, fixed at issue; null before issue.
    payment_terms_days: int | None
    references: str | None
    #: Why the invoice is disputed; null unless it is `disputed` now.
    dispute_reason: str | None
    #: Every dispute, oldest first, with its resolution once it ended.
    disputes: list[DisputeOut]
    lines: list[InvoiceLineOut]
    #: Absent for a client viewer (as are the cost keys for roles without `rates:read_cost`).
    created_by: str | msgspec.UnsetType = msgspec.UNSET
    approved_by: str | msgspec.UnsetType | None = msgspec.UNSET


#: What a row of the invoice list publishes of its read model: all of it.
_SUMMARY_FIELDS = (
    "invoice_id", "kind", "state", "customer_id", "payer_id", "contract_id", "number",
    "issue_date", "gross", "outstanding",
)  # fmt: skip


class InvoiceSummary(published(InvoiceRow, *_SUMMARY_FIELDS, gross=MoneyOut, outstanding=MoneyOut)):
    """A row of the invoice list on the wire."""


def invoice_out(invoice: Invoice, principal: Principal) -> InvoiceOut:
    """The invoice as `principal` may see it (no staff identities for a client viewer)."""
    totals = invoice.totals
    return out_of(
        InvoiceOut,
        invoice,
        kind=invoice.kind.value,
        state=invoice.state.value,
        payer_id=invoice.payer,
        currency=invoice.currency.code,
        period=period_out(invoice.period),
        net=money_out(totals.net),
        tax=money_out(totals.tax),
        tax_lines=[
            TaxLineOut(t.tax_code, str(t.rate), money_out(t.base), money_out(t.amount), t.note)
            for t in totals.tax_lines
        ],
        note=totals.note,
        gross=money_out(totals.gross),
        outstanding=money_out(invoice.outstanding),
        paid=money_out(invoice.amount_paid),
        credited=money_out(invoice.amount_credited),
        refund_due=money_out(invoice.refund_due),
        written_off=money_out(invoice.amount_written_off),
        created_by=staff(principal, invoice.created_by),
        approved_by=staff(principal, invoice.approved_by),
        disputes=[dispute_out(d) for d in invoice.disputes],
        lines=[
            line_of(
                InvoiceLineOut,
                line,
                sources=[str(a.source) for a in line.allocations],
                credits_line=line.credits_line,
            )
            for line in invoice.lines
        ],
    )


def invoice_summary(row: InvoiceRow) -> InvoiceSummary:
    return out_of(
        InvoiceSummary,
        row,
        gross=money_out(row.gross),
        outstanding=money_out(row.outstanding),
    )
