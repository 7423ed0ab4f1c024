"""Assembling the document view (ADR 0037): one query per document kind reads the issued
invoice or credit memo, its contract and engagement, the seller's master data, the payer's
customer record and the time entries behind the lines, and returns the `DocumentView` every
rendition prints.

Only issued documents have renditions: a draft has no number and may still change, so asking
for one is refused (`DocumentNotIssuedError`).

How a tax line becomes a VAT category (UNCL 5305) is decided here, once: a positive rate is
standard (S); at rate 0, a tax line carrying the document's reverse-charge note is a reverse
charge (AE), one carrying another note is exempt (E, the note is the exemption reason), and one
without a note is zero rated (Z) when the seller is registered for VAT, otherwise not subject
to VAT (O).

A credit adjustment (an invoice whose lines and totals are negative, ADR 0008) is sent to the
customer as a credit note: the view gives its amounts and quantities with the sign turned.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from application.customer_master import current_record
from application.document_view import (
    BankAccount,
    DocumentType,
    DocumentView,
    Party,
    PrecedingInvoice,
    SourceDetail,
    TimeDetail,
    VatBreakdown,
    VatCategory,
    ViewLine,
)
from application.errors import ApplicationError, NotFoundError
from application.payment_terms import terms_text
from domain.billing import LineKind, SourceKind
from domain.credit_memo import CreditMemoState
from domain.document import DocumentLine, DocumentTotals
from domain.ids import ContractId
from domain.invoice import DocumentKind, InvoiceState
from domain.money import EXACT, Money

if TYPE_CHECKING:
    from application.legal_entities import LegalEntityRecord
    from application.ports import CustomerMaster, CustomerRecord
    from application.unit_of_work import UnitOfWork
    from domain.contract import Contract
    from domain.credit_memo import CreditMemo
    from domain.invoice import Invoice
    from domain.period import Period
    from domain.time_entry import TimeEntry


class DocumentNotIssuedError(ApplicationError):
    """A draft or approved document has no number yet: it has no rendition until issued."""

    code = "document_not_issued"


#: UN/ECE Recommendation 20 unit of each line kind (ADR 0037): hours for time, months for
#: retainer and recurring fees, units for everything else.
_HOURS, _UNITS, _MONTHS = "HUR", "C62", "MON"
_UNIT_BY_KIND = {
    LineKind.TIME: _HOURS,
    LineKind.TIME_OVER_CAP: _HOURS,
    LineKind.RETAINER_OVERAGE: _HOURS,
    LineKind.EXPENSE: _UNITS,
    LineKind.INSTALLMENT: _UNITS,
    LineKind.MILESTONE: _UNITS,
    LineKind.RETENTION_WITHHELD: _UNITS,
    LineKind.RETENTION_RELEASE: _UNITS,
    LineKind.RETAINER_FEE: _MONTHS,
    LineKind.RECURRING: _MONTHS,
}
_PERIOD_SOURCES = (SourceKind.RETAINER_PERIOD, SourceKind.RECURRING_PERIOD)

_UNISSUED = (InvoiceState.DRAFT, InvoiceState.APPROVED, InvoiceState.DISCARDED)


def unit_code(line: DocumentLine) -> str:
    """The unit a line counts in: hours for time, months for period fees, units otherwise (an
    adjustment counts in the unit of what it re-rates)."""
    if line.kind is LineKind.ADJUSTMENT:
        kinds = {a.source.kind for a in line.allocations}
        if kinds == {SourceKind.TIME_ENTRY}:
            return _HOURS
        if kinds and kinds <= set(_PERIOD_SOURCES):
            return _MONTHS
        return _UNITS
    return _UNIT_BY_KIND.get(line.kind, _UNITS)


def vat_category(
    rate: Decimal, note: str, document_note: str, seller_vat_id: str | None
) -> VatCategory:
    """The UNCL 5305 category of a tax line (see the module's rule)."""
    if rate > 0:
        return VatCategory.STANDARD
    if note and note in document_note:
        return VatCategory.REVERSE_CHARGE
    if note:
        return VatCategory.EXEMPT
    return VatCategory.ZERO_RATED if seller_vat_id else VatCategory.NOT_SUBJECT


def document_for_invoice(
    uow: UnitOfWork, invoice_id: str, master: CustomerMaster | None = None
) -> DocumentView:
    """The view of an issued invoice, debit memo or credit adjustment (the buyer from the
    payer's pushed record, else from the ERP master when one is given)."""
    invoice = uow.invoices.find(invoice_id)
    if invoice is None:
        raise NotFoundError(f"there is no invoice {invoice_id}")
    if invoice.state in _UNISSUED or invoice.number is None or invoice.issue_date is None:
        raise DocumentNotIssuedError(
            f"invoice {invoice_id} is {invoice.state.value}: only an issued invoice has a rendition"
        )
    credit = invoice.kind is DocumentKind.CREDIT_ADJUSTMENT
    sign = -1 if credit else 1
    seller_record = uow.master_data.legal_entity(str(invoice.legal_entity_id))
    seller = _seller(str(invoice.legal_entity_id), seller_record)
    contract = uow.contracts.find(str(invoice.contract_id))
    preceding = None
    if invoice.references is not None:
        preceding = _preceding(uow, str(invoice.references))
    days = invoice.payment_terms_days
    totals = invoice.totals
    notes = tuple(n for n in (totals.note,) if n)
    paid = invoice.amount_paid
    return DocumentView(
        document_type=DocumentType.CREDIT_NOTE if credit else DocumentType.INVOICE,
        document_id=str(invoice.invoice_id),
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=None if credit else invoice.due_date,
        payment_terms="" if credit or days is None else terms_text(days),
        currency=invoice.currency,
        seller=seller,
        buyer=_buyer(uow, master, str(invoice.payer), str(invoice.legal_entity_id)),
        lines=_lines(uow, invoice.lines, totals, contract, seller.vat_id, sign),
        vat_breakdown=_breakdown(totals, seller.vat_id, sign),
        net=totals.net.times(sign),
        tax=totals.tax.times(sign),
        gross=totals.gross.times(sign),
        paid=paid if not credit else Money.zero(invoice.currency),
        amount_due=invoice.outstanding if not credit else Money.zero(invoice.currency),
        credited=None if credit else invoice.credited,
        written_off=None if credit else invoice.written_off,
        **_belonging(uow, invoice),
        payment_account=None if credit else _account(seller_record),
        notes=notes,
        preceding=preceding,
        source_kind=invoice.kind.value,
    )


def document_for_credit_memo(
    uow: UnitOfWork, credit_memo_id: str, master: CustomerMaster | None = None
) -> DocumentView:
    """The view of an issued credit memo: a credit note citing the invoice it credits."""
    memo = uow.credit_memos.find(credit_memo_id)
    if memo is None:
        raise NotFoundError(f"there is no credit memo {credit_memo_id}")
    if memo.state is not CreditMemoState.ISSUED or memo.number is None or memo.issue_date is None:
        raise DocumentNotIssuedError(
            f"credit memo {credit_memo_id} is {memo.state.value}: only an issued credit memo "
            "has a rendition"
        )
    invoice = uow.invoices.get(str(memo.invoice_id))
    return _credit_note(uow, memo, memo.number, memo.issue_date, invoice, master)


def _credit_note(
    uow: UnitOfWork,
    memo: CreditMemo,
    number: str,
    issue_date: date,
    invoice: Invoice,
    master: CustomerMaster | None,
) -> DocumentView:
    seller_record = uow.master_data.legal_entity(str(invoice.legal_entity_id))
    seller = _seller(str(invoice.legal_entity_id), seller_record)
    contract = uow.contracts.find(str(invoice.contract_id))
    totals = memo.totals
    zero = Money.zero(invoice.currency)
    notes = tuple(n for n in (memo.reason, totals.note) if n)
    return DocumentView(
        document_type=DocumentType.CREDIT_NOTE,
        document_id=str(memo.credit_memo_id),
        number=number,
        issue_date=issue_date,
        due_date=None,
        payment_terms="",
        currency=invoice.currency,
        seller=seller,
        buyer=_buyer(uow, master, str(invoice.payer), str(invoice.legal_entity_id)),
        lines=_lines(uow, memo.lines, totals, contract, seller.vat_id, 1),
        vat_breakdown=_breakdown(totals, seller.vat_id, 1),
        net=totals.net,
        tax=totals.tax,
        gross=totals.gross,
        paid=zero,
        amount_due=zero,
        **_belonging(uow, invoice),
        notes=notes,
        preceding=_preceding(uow, str(invoice.invoice_id)),
        credit_reason=memo.reason,
        source_kind="credit_memo",
    )


def _seller(legal_entity_id: str, record: LegalEntityRecord | None) -> Party:
    if record is None:
        return Party(legal_entity_id, legal_entity_id, None)
    return Party(
        legal_entity_id,
        record.legal_name,
        record.address,
        record.vat_id,
        record.registration_id,
        record.electronic_address,
    )


def _account(record: LegalEntityRecord | None) -> BankAccount | None:
    account = None if record is None else record.payment_account
    if account is None or not account.account_id:
        return None
    return BankAccount(
        account.account_id, account.iban is not None, account.bic, account.account_name
    )


def _buyer(
    uow: UnitOfWork, master: CustomerMaster | None, payer: str, legal_entity_id: str
) -> Party:
    record: CustomerRecord | None
    if master is None:
        record = uow.master_data.customer_record(payer, legal_entity_id)
    else:
        record = current_record(uow, master, payer, legal_entity_id)
    if record is None:
        return Party(payer, payer, None)
    return Party(payer, record.name, record.address, record.vat_id)


def _preceding(uow: UnitOfWork, invoice_id: str) -> PrecedingInvoice | None:
    invoice = uow.invoices.find(invoice_id)
    if invoice is None or invoice.number is None or invoice.issue_date is None:
        return None
    return PrecedingInvoice(invoice_id, invoice.number, invoice.issue_date)


class _Belonging(TypedDict):
    contract_id: str
    period: Period
    customer_id: str
    legal_entity_id: str
    engagement_id: str | None
    project_code: str | None


def _belonging(uow: UnitOfWork, invoice: Invoice) -> _Belonging:
    """What an invoice's document, or a credit note of it, belongs to: the contract, period,
    customer, legal entity, and the engagement and its project when there is one."""
    contract_id = str(invoice.contract_id)
    return _Belonging(
        contract_id=contract_id,
        period=invoice.period,
        customer_id=str(invoice.customer_id),
        legal_entity_id=str(invoice.legal_entity_id),
        engagement_id=_engagement_id(uow, contract_id),
        project_code=_project_code(uow, contract_id),
    )


def _engagement_id(uow: UnitOfWork, contract_id: str) -> str | None:
    engagement = uow.engagements.find_by_contract(ContractId(contract_id))
    return None if engagement is None else str(engagement.engagement_id)


def _project_code(uow: UnitOfWork, contract_id: str) -> str | None:
    """The PSA project code of the contract's engagement, when the engagement keeps one."""
    engagement = uow.engagements.find_by_contract(ContractId(contract_id))
    code = None if engagement is None else getattr(engagement, "project_code", None)
    return code if isinstance(code, str) and code else None


def _label(contract: Contract | None, obligation_id: str) -> str:
    """The obligation's name in the latest contract version that has it, else its id."""
    if contract is None:
        return obligation_id
    for version in reversed(contract.versions):
        for terms in version.obligations:
            if str(terms.obligation_id) == obligation_id:
                name = getattr(terms, "name", "")
                return name if isinstance(name, str) and name else obligation_id
    return obligation_id


def _lines(
    uow: UnitOfWork,
    lines: tuple[DocumentLine, ...],
    totals: DocumentTotals,
    contract: Contract | None,
    seller_vat_id: str | None,
    sign: int,
) -> tuple[ViewLine, ...]:
    by_code = {t.tax_code: t for t in totals.tax_lines}
    entry_ids = [
        a.source.source_id
        for line in lines
        for a in line.allocations
        if a.source.kind is SourceKind.TIME_ENTRY
    ]
    entries = uow.delivery.time_entries_with_ids(entry_ids) if entry_ids else {}
    out = []
    for line in lines:
        tax = by_code.get(line.tax_code)
        rate = tax.rate if tax is not None else Decimal(0)
        note = tax.note if tax is not None else ""
        out.append(
            ViewLine(
                line_no=line.line_no,
                obligation_id=str(line.obligation_id),
                obligation_label=_label(contract, str(line.obligation_id)),
                kind=line.kind.value,
                description=line.description,
                quantity=EXACT.multiply(line.quantity, Decimal(sign)),
                unit_code=unit_code(line),
                unit_price=line.unit_price,
                net=line.amount.times(sign),
                tax_code=line.tax_code,
                vat_category=vat_category(rate, note, totals.note, seller_vat_id),
                vat_rate=rate,
                service_period=line.service_period,
                time_details=_time_details(line, entries, sign),
                other_details=tuple(
                    SourceDetail(
                        a.source.kind.value,
                        a.source.source_id,
                        EXACT.multiply(a.quantity, Decimal(sign)),
                        a.amount.times(sign),
                    )
                    for a in line.allocations
                    if a.source.kind is not SourceKind.TIME_ENTRY
                ),
                credits_line=line.credits_line,
            )
        )
    return tuple(out)


def _time_details(
    line: DocumentLine, entries: dict[str, TimeEntry], sign: int
) -> tuple[TimeDetail, ...]:
    details = []
    for a in line.allocations:
        if a.source.kind is not SourceKind.TIME_ENTRY:
            continue
        entry = entries.get(a.source.source_id)
        if entry is None:
            continue
        details.append(
            TimeDetail(
                entry_id=str(entry.entry_id),
                work_date=entry.work_date,
                person=str(entry.resource_id),
                role=str(entry.role),
                hours=EXACT.multiply(a.quantity, Decimal(sign)),
                rate=line.unit_price,
                amount=a.amount.times(sign),
            )
        )
    return tuple(sorted(details, key=lambda d: (d.work_date, d.person, d.entry_id)))


def _breakdown(
    totals: DocumentTotals, seller_vat_id: str | None, sign: int
) -> tuple[VatBreakdown, ...]:
    out = []
    for t in totals.tax_lines:
        category = vat_category(t.rate, t.note, totals.note, seller_vat_id)
        reason = t.note if category in (VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE) else ""
        out.append(
            VatBreakdown(
                t.tax_code, category, t.rate, t.base.times(sign), t.amount.times(sign), reason
            )
        )
    return tuple(out)
