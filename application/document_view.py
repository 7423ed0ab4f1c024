"""The document view: everything a customer-facing invoice or credit note shows, assembled once
(`application.documents`) and rendered by every format (UBL 2.1, the printable form).

A view exists only for an issued document: a draft has no number, no issue date and may still
change, so it has no rendition. Amounts are the document's own, already at the currency's minor
units; a renderer formats them and never computes a figure of its own except sums the document
states (line nets add up to the net, tax per category adds up to the tax).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum

import attrs

from application.customer_master import PostalAddress
from domain.money import Currency, Money
from domain.period import Period


class DocumentType(Enum):
    """What the customer receives: an invoice (debit memos included) or a credit note."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class VatCategory(Enum):
    """UNCL 5305 VAT category codes, as EN 16931 uses them."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    NOT_SUBJECT = "O"


@attrs.frozen
class BankAccount:
    """Where the buyer pays: an IBAN (with its BIC, optional) or a domestic account number."""

    account_id: str
    is_iban: bool
    bic: str | None = None
    account_name: str | None = None


@attrs.frozen
class Party:
    """The seller (one of our legal entities) or the buyer (the payer's customer record)."""

    party_id: str
    legal_name: str
    address: PostalAddress | None
    vat_id: str | None = None
    registration_id: str | None = None
    #: An e-mail or other electronic address the party receives documents at.
    electronic_address: str | None = None


@attrs.frozen
class TimeDetail:
    """One time entry behind a time line: when, who in which role, hours, rate and value."""

    entry_id: str
    work_date: date
    person: str
    role: str
    hours: Decimal
    rate: Money
    amount: Money


@attrs.frozen
class SourceDetail:
    """Another item a line billed (a milestone, an expense, an installment, a period): its
    kind, id, quantity and exact value."""

    kind: str
    source_id: str
    quantity: Decimal
    amount: Money


@attrs.frozen
class ViewLine:
    """One document line as the customer reads it."""

    line_no: int
    obligation_id: str
    #: The obligation's human label (its name in the contract, else its id).
    obligation_label: str
    kind: str
    description: str
    quantity: Decimal
    #: UN/ECE Recommendation 20 unit code: HUR hours, C62 units, MON months, DAY days.
    unit_code: str
    #: Price per unit, at the line's own precision (not rounded to minor units).
    unit_price: Money
    #: The line's net amount, at the currency's minor units.
    net: Money
    tax_code: str
    vat_category: VatCategory
    #: The VAT rate as a fraction (0.20 for 20 %).
    vat_rate: Decimal
    service_period: Period | None
    time_details: tuple[TimeDetail, ...] = ()
    other_details: tuple[SourceDetail, ...] = ()
    #: On a credit note: the invoice line this line credits.
    credits_line: int | None = None


@attrs.frozen
class VatBreakdown:
    """Tax of one tax code: its category, rate, base and amount, and the text that goes with a
    zero rate (an exemption reason, a reverse-charge legal note)."""

    tax_code: str
    category: VatCategory
    rate: Decimal
    base: Money
    amount: Money
    exemption_reason: str = ""


@attrs.frozen
class PrecedingInvoice:
    """The invoice a credit note (or a debit memo) refers to."""

    invoice_id: str
    number: str
    issue_date: date


@attrs.frozen
class DocumentView:
    """An issued invoice or credit note, as every rendition shows it."""

    document_type: DocumentType
    document_id: str
    number: str
    issue_date: date
    #: When payment is due (None on a credit note: it asks for no payment).
    due_date: date | None
    #: Payment terms as printed ("Payment due within 30 days of the invoice date."), or "".
    payment_terms: str
    currency: Currency
    seller: Party
    buyer: Party
    lines: tuple[ViewLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    net: Money
    tax: Money
    gross: Money
    #: Paid so far and still to pay (invoices; on a credit note both are zero).
    paid: Money
    amount_due: Money
    contract_id: str
    #: The billing period the document covers.
    period: Period
    customer_id: str
    legal_entity_id: str
    #: The engagement delivering the contract (the project reference), if there is one.
    engagement_id: str | None = None
    #: The PSA project code of the engagement, when it has one.
    project_code: str | None = None
    payment_account: BankAccount | None = None
    #: Notes printed on the document: the reverse-charge legal note, the credit reason.
    notes: tuple[str, ...] = ()
    #: A credit note's invoice, or the invoice a debit memo adjusts.
    preceding: PrecedingInvoice | None = None
    #: Why a credit note credits (its reason), "" on an invoice.
    credit_reason: str = ""
    #: The domain's kind of an invoice: invoice, debit_memo (credit notes say credit_memo).
    source_kind: str = "invoice"
    #: What credit notes took off an invoice and what was written off as uncollectable, so
    #: that total - paid - credited - written off = amount due reads on the page (None: none).
    credited: Money | None = None
    written_off: Money | None = None
