"""The UBL 2.1 e-invoice of a document view, following EN 16931 (ADR 0037): an `Invoice` for
an invoice or debit memo, a `CreditNote` for a credit memo or credit adjustment.

What goes where (business terms of EN 16931):

- BT-1 number, BT-2 issue date, BT-9 due date (`cbc:DueDate` on an invoice), BT-3 type code
  (380 invoice, 381 credit note), BT-5 currency, BT-22 notes (the reverse-charge legal note,
  a credit's reason), BG-14 the billing period;
- BT-25/BT-26 the preceding invoice (`cac:BillingReference`) of a credit note or debit memo,
  BT-12 the contract id, BT-11 the project reference (the PSA project code, else the
  engagement id: `cac:ProjectReference` on an invoice, an additional document reference with
  type code 50 on a credit note, as the EN 16931 UBL binding says);
- BG-4 seller and BG-7 buyer: legal name, postal address, VAT id, registration id, and the
  seller's e-mail as its electronic address (scheme EM);
- BG-16 payment means when the seller has a bank account (58 SEPA credit transfer to an IBAN,
  30 credit transfer otherwise, the invoice number as remittance information), BT-20 terms;
- BG-23 VAT breakdown per category and rate (tax codes of the same category and rate are one
  breakdown: the base and tax add up), an exemption reason (BT-120) on E, the code
  VATEX-EU-AE and the legal note on AE, VATEX-EU-O on O (which carries no rate);
- BG-25 lines: quantity in its UN/ECE Rec 20 unit, net amount, the service period, the item
  (line description as name, obligation label as description, obligation id as the seller's
  item id), its VAT category and rate, the net price. A line with a negative price (withheld
  retention) is written as a negative quantity at a positive price, since the price may not be
  negative (BR-27).

Every amount is written with exactly the currency's minor digits and its `currencyID`; no
allowances or charges are used. The sums the totals state are the document's own: line nets
add up to the line extension amount (BR-CO-10), net plus tax is the gross.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from application.document_view import (
    DocumentType,
    DocumentView,
    Party,
    VatCategory,
    ViewLine,
)
from domain.money import EXACT, Money

MEDIA_TYPE = "application/xml"
#: The OASIS media type some receivers ask for; served the same document.
UBL_MEDIA_TYPE = "application/vnd.oasis.ubl+xml"

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"
_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

_INVOICE_TYPE = "380"
_CREDIT_NOTE_TYPE = "381"
_SEPA_CREDIT_TRANSFER = "58"
_CREDIT_TRANSFER = "30"
_PROJECT_REFERENCE_TYPE = "50"

ET.register_namespace("cac", _CAC)
ET.register_namespace("cbc", _CBC)


class DocumentIncompleteError(ValueError):
    """The view lacks data EN 16931 requires (a party's address or country, a legal name)."""


def _cbc(parent: ET.Element, name: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{_CBC}}}{name}", attributes)
    element.text = text
    return element


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{_CAC}}}{name}")


def amount_text(money: Money) -> str:
    """An amount with exactly its currency's minor digits (`1440.00`, `1440` JPY, `1.440` BHD)."""
    return f"{Money.from_minor(money.quantized().minor, money.currency).amount:f}"


def decimal_text(value: Decimal) -> str:
    """A quantity, price or percentage as plain decimal text, without trailing zeros."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _amount(parent: ET.Element, name: str, money: Money) -> None:
    _cbc(parent, name, amount_text(money), currencyID=money.currency.code)


def _percent(rate: Decimal) -> str:
    return decimal_text(EXACT.multiply(rate, Decimal(100)))


def render_ubl(view: DocumentView) -> bytes:
    """The UBL 2.1 Invoice or CreditNote of an issued document, UTF-8 with its declaration."""
    _check(view)
    credit = view.document_type is DocumentType.CREDIT_NOTE
    # The document element in its namespace as the default one (xmlns), as receivers expect.
    root = ET.Element(
        "CreditNote" if credit else "Invoice", xmlns=_CREDIT_NOTE_NS if credit else _INVOICE_NS
    )
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ID", view.number)
    _cbc(root, "IssueDate", view.issue_date.isoformat())
    if not credit and view.due_date is not None:
        _cbc(root, "DueDate", view.due_date.isoformat())
    _cbc(
        root,
        "CreditNoteTypeCode" if credit else "InvoiceTypeCode",
        _CREDIT_NOTE_TYPE if credit else _INVOICE_TYPE,
    )
    for note in view.notes:
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", view.currency.code)
    _cbc(root, "BuyerReference", view.customer_id)
    _period(root, view.period.start, view.period.end)
    if view.preceding is not None:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", view.preceding.number)
        _cbc(reference, "IssueDate", view.preceding.issue_date.isoformat())
    _cbc(_cac(root, "ContractDocumentReference"), "ID", view.contract_id)
    project = view.project_code or view.engagement_id
    if project and credit:
        additional = _cac(root, "AdditionalDocumentReference")
        _cbc(additional, "ID", project)
        _cbc(additional, "DocumentTypeCode", _PROJECT_REFERENCE_TYPE)
    elif project:
        _cbc(_cac(root, "ProjectReference"), "ID", project)
    exempt_o = any(b.category is VatCategory.NOT_SUBJECT for b in view.vat_breakdown)
    _party(_cac(root, "AccountingSupplierParty"), view.seller, with_vat_id=not exempt_o)
    _party(_cac(root, "AccountingCustomerParty"), view.buyer, with_vat_id=not exempt_o)
    _payment(root, view, credit)
    _tax_total(root, view)
    totals = _cac(root, "LegalMonetaryTotal")
    _amount(totals, "LineExtensionAmount", view.net)
    _amount(totals, "TaxExclusiveAmount", view.net)
    _amount(totals, "TaxInclusiveAmount", view.gross)
    _amount(totals, "PayableAmount", view.gross)
    for line in view.lines:
        _line(root, line, credit)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _check(view: DocumentView) -> None:
    """EN 16931 needs both parties' legal names and postal addresses with a country."""
    for role, party in (("seller", view.seller), ("buyer", view.buyer)):
        if party.address is None:
            raise DocumentIncompleteError(
                f"the {role} {party.party_id} has no postal address in its master data: an "
                "e-invoice needs one (with its country)"
            )


def _period(parent: ET.Element, start: date, end: date) -> None:
    period = _cac(parent, "InvoicePeriod")
    _cbc(period, "StartDate", start.isoformat())
    _cbc(period, "EndDate", end.isoformat())


def _party(parent: ET.Element, party: Party, *, with_vat_id: bool) -> None:
    element = _cac(parent, "Party")
    if party.electronic_address:
        _cbc(element, "EndpointID", party.electronic_address, schemeID="EM")
    address = party.address
    if address is not None:
        postal = _cac(element, "PostalAddress")
        lines = list(address.lines)
        if lines:
            _cbc(postal, "StreetName", lines[0])
        if len(lines) > 1:
            _cbc(postal, "AdditionalStreetName", lines[1])
        _cbc(postal, "CityName", address.city)
        if address.postal_code:
            _cbc(postal, "PostalZone", address.postal_code)
        if len(lines) > 2:
            _cbc(_cac(postal, "AddressLine"), "Line", ", ".join(lines[2:]))
        _cbc(_cac(postal, "Country"), "IdentificationCode", address.country)
    if party.vat_id and with_vat_id:
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.vat_id)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.legal_name)
    if party.registration_id:
        _cbc(legal, "CompanyID", party.registration_id)
    if party.electronic_address:
        _cbc(_cac(element, "Contact"), "ElectronicMail", party.electronic_address)


def _payment(root: ET.Element, view: DocumentView, credit: bool) -> None:
    account = view.payment_account
    if account is not None and not credit:
        means = _cac(root, "PaymentMeans")
        code = _SEPA_CREDIT_TRANSFER if account.is_iban else _CREDIT_TRANSFER
        _cbc(means, "PaymentMeansCode", code)
        _cbc(means, "PaymentID", view.number)
        financial = _cac(means, "PayeeFinancialAccount")
        _cbc(financial, "ID", account.account_id)
        if account.account_name:
            _cbc(financial, "Name", account.account_name)
        if account.bic:
            _cbc(_cac(financial, "FinancialInstitutionBranch"), "ID", account.bic)
    if view.payment_terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", view.payment_terms)


def _tax_category(
    parent: ET.Element, name: str, category: VatCategory, rate: Decimal, reasons: Iterable[str]
) -> None:
    element = _cac(parent, name)
    _cbc(element, "ID", category.value)
    if category is not VatCategory.NOT_SUBJECT:
        _cbc(element, "Percent", _percent(rate))
    if name == "TaxCategory":
        reason = " ".join(dict.fromkeys(r for r in reasons if r))
        if category is VatCategory.REVERSE_CHARGE:
            _cbc(element, "TaxExemptionReasonCode", "VATEX-EU-AE")
        elif category is VatCategory.NOT_SUBJECT:
            _cbc(element, "TaxExemptionReasonCode", "VATEX-EU-O")
        if category in (VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE) and reason:
            _cbc(element, "TaxExemptionReason", reason)
    _cbc(_cac(element, "TaxScheme"), "ID", "VAT")


def _tax_total(root: ET.Element, view: DocumentView) -> None:
    """One breakdown per category and rate: the tax codes that share them add up."""
    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", view.tax)
    groups: dict[tuple[VatCategory, Decimal], list[int]] = {}
    for n, b in enumerate(view.vat_breakdown):
        groups.setdefault((b.category, b.rate), []).append(n)
    zero = Money.zero(view.currency)
    for (category, rate), members in groups.items():
        parts = [view.vat_breakdown[n] for n in members]
        subtotal = _cac(total, "TaxSubtotal")
        base = sum((p.base for p in parts), zero)
        tax = sum((p.amount for p in parts), zero)
        _amount(subtotal, "TaxableAmount", base)
        _amount(subtotal, "TaxAmount", tax)
        reasons = [p.exemption_reason for p in parts]
        _tax_category(subtotal, "TaxCategory", category, rate, reasons)


def _line(root: ET.Element, line: ViewLine, credit: bool) -> None:
    element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(element, "ID", str(line.line_no))
    if line.credits_line is not None:
        _cbc(element, "Note", f"Credits line {line.credits_line} of the invoice")
    price, quantity = line.unit_price.amount, line.quantity
    if price < 0:
        price, quantity = EXACT.minus(price), EXACT.minus(quantity)
    _cbc(
        element,
        "CreditedQuantity" if credit else "InvoicedQuantity",
        decimal_text(quantity),
        unitCode=line.unit_code,
    )
    _amount(element, "LineExtensionAmount", line.net)
    if line.service_period is not None:
        _period(element, line.service_period.start, line.service_period.end)
    item = _cac(element, "Item")
    if line.obligation_label != line.description:
        _cbc(item, "Description", line.obligation_label)
    _cbc(item, "Name", line.description or line.obligation_label)
    _cbc(_cac(item, "SellersItemIdentification"), "ID", line.obligation_id)
    _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate, ())
    _cbc(
        _cac(element, "Price"),
        "PriceAmount",
        decimal_text(price),
        currencyID=line.unit_price.currency.code,
    )
