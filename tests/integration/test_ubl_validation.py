"""The UBL 2.1 e-invoices of issued documents pass the OASIS UBL 2.1 schema and the official
EN 16931 UBL Schematron with no fatal assert: in several currencies, with standard, reduced,
exempt, zero-rated, not-subject and reverse-charged lines, negative lines, split payers and a
credit note that credits part of an invoice."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from adapters.documents.ubl import render_ubl
from application.document_view import DocumentView
from domain.billing import LineKind
from domain.credit_memo import CreditRequest
from tests.support.documents import (
    EXEMPT,
    REDUCED,
    REVERSE,
    SELLER,
    STANDARD,
    US_SELLER,
    ZERO,
    Books,
    LineSpec,
    buyer,
)
from tests.support.ubl_validation import schematron, xsd_errors

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


def assert_valid(view: DocumentView) -> ET.Element:
    document = render_ubl(view)
    assert xsd_errors(document) == []
    report = schematron(document)
    assert report.fatal == (), report.describe()
    return ET.fromstring(document)


@pytest.fixture
def books() -> Books:
    books = Books()
    books.keep(SELLER, US_SELLER)
    books.keep(buyer("acme", "tl-fr", "FR", "FR61552081317"))
    books.keep(buyer("acme", "tl-us", "US"))
    books.keep(buyer("globex", "tl-fr", "BE", "BE0403170701"))
    books.keep(buyer("initech", "tl-fr", "FR", "FR83402468579"))
    return books


def text(root: ET.Element, path: str) -> str:
    found = root.find(path)
    assert found is not None, path
    return found.text or ""


def test_a_standard_rated_euro_invoice_states_its_dates_terms_parties_and_totals(
    books: Books,
) -> None:
    invoice_id = books.issue([LineSpec(Decimal("7.5"), Decimal("135")),
                              LineSpec(Decimal("2"), Decimal("99.99"), REDUCED)])  # fmt: skip
    root = assert_valid(books.invoice_view(invoice_id))
    assert text(root, f"{CBC}IssueDate") == "2026-04-01"
    assert text(root, f"{CBC}DueDate") == "2026-05-16"  # 1 April + 45 days of terms
    # 7.5 h x 135 = 1012.50 at 20 % = 202.50; 2 x 99.99 = 199.98 at 5.5 % = 11.00 (10.9989)
    assert text(root, f"{CAC}LegalMonetaryTotal/{CBC}LineExtensionAmount") == "1212.48"
    assert text(root, f"{CAC}TaxTotal/{CBC}TaxAmount") == "213.50"
    assert text(root, f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount") == "1425.98"
    assert text(root, f"{CAC}PaymentMeans/{CBC}PaymentMeansCode") == "58"  # SEPA, to an IBAN


def test_a_yen_invoice_has_no_decimals_in_its_amounts(books: Books) -> None:
    invoice_id = books.issue([LineSpec(Decimal("3"), Decimal("14999.5"))], currency="JPY")
    root = assert_valid(books.invoice_view(invoice_id))
    # 3 x 14999.5 = 44998.5 -> 44999 JPY (half up); 20 % = 8999.8 -> 9000
    assert text(root, f"{CAC}LegalMonetaryTotal/{CBC}LineExtensionAmount") == "44999"
    assert text(root, f"{CAC}TaxTotal/{CBC}TaxAmount") == "9000"
    assert root.find(f"{CAC}TaxTotal/{CBC}TaxAmount").get("currencyID") == "JPY"


#: What the EN 16931 Schematron refuses in an amount with three decimals: the two-decimal
#: rule itself (UBL-DT-01, BR-DEC-*) and the totals it recomputes rounded to two decimals.
TWO_DECIMAL_RULES = {"UBL-DT-01", "BR-CO-10", "BR-CO-13", "BR-CO-14", "BR-CO-15", "BR-CO-16"}


def test_a_dinar_invoice_keeps_its_three_decimals_which_en_16931_does_not_carry(
    books: Books,
) -> None:
    """EN 16931 carries at most two decimals in an amount; a Bahraini dinar has three (fils).
    The e-invoice keeps the exact amounts: valid UBL 2.1, refused by the EN 16931 Schematron
    for its decimals only (ADR 0037)."""
    invoice_id = books.issue([LineSpec(Decimal("1.5"), Decimal("12.345"))], currency="BHD")
    document = render_ubl(books.invoice_view(invoice_id))
    assert xsd_errors(document) == []
    root = ET.fromstring(document)
    # 1.5 x 12.345 = 18.5175 -> 18.518 BHD; 20 % = 3.7036 -> 3.704
    assert text(root, f"{CAC}LegalMonetaryTotal/{CBC}LineExtensionAmount") == "18.518"
    assert text(root, f"{CAC}TaxTotal/{CBC}TaxAmount") == "3.704"
    refused = {a.rule for a in schematron(document).fatal}
    assert "UBL-DT-01" in refused
    assert {r for r in refused if not r.startswith("BR-DEC-")} <= TWO_DECIMAL_RULES


def test_a_reverse_charged_invoice_carries_the_legal_note_and_both_vat_ids(books: Books) -> None:
    invoice_id = books.issue([LineSpec(Decimal("16"), Decimal("135"), REVERSE)], customer="globex")
    root = assert_valid(books.invoice_view(invoice_id))
    category = root.find(f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory")
    assert category is not None
    assert text(category, f"{CBC}ID") == "AE"
    assert text(category, f"{CBC}TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert text(root, f"{CBC}Note") == REVERSE.note
    party = f"{CAC}AccountingCustomerParty/{CAC}Party/{CAC}PartyTaxScheme/{CBC}CompanyID"
    assert text(root, party) == "BE0403170701"


def test_an_exempt_line_gives_its_exemption_reason_beside_standard_lines(books: Books) -> None:
    invoice_id = books.issue([LineSpec(Decimal("1"), Decimal("800"), EXEMPT),
                              LineSpec(Decimal("4"), Decimal("150"))])  # fmt: skip
    root = assert_valid(books.invoice_view(invoice_id))
    categories = {text(s, f"{CAC}TaxCategory/{CBC}ID"): s for s in root.iter(f"{CAC}TaxSubtotal")}
    assert set(categories) == {"E", "S"}
    assert text(categories["E"], f"{CAC}TaxCategory/{CBC}TaxExemptionReason") == EXEMPT.note


def test_a_zero_rated_line_of_a_vat_registered_seller_is_category_z(books: Books) -> None:
    invoice_id = books.issue([LineSpec(Decimal("10"), Decimal("50"), ZERO)])
    root = assert_valid(books.invoice_view(invoice_id))
    assert text(root, f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory/{CBC}ID") == "Z"


def test_a_us_seller_without_vat_bills_lines_not_subject_to_vat(books: Books) -> None:
    invoice_id = books.issue(
        [LineSpec(Decimal("1"), Decimal("12500"), ZERO, LineKind.RECURRING)],
        currency="USD",
        seller=US_SELLER,
    )
    root = assert_valid(books.invoice_view(invoice_id))
    assert text(root, f"{CAC}TaxTotal/{CAC}TaxSubtotal/{CAC}TaxCategory/{CBC}ID") == "O"
    assert text(root, f"{CAC}PaymentMeans/{CBC}PaymentMeansCode") == "30"  # to an account
    line = root.find(f"{CAC}InvoiceLine/{CBC}InvoicedQuantity")
    assert line is not None
    assert line.get("unitCode") == "MON"


def test_a_withheld_retention_line_is_a_negative_quantity_at_a_positive_price(
    books: Books,
) -> None:
    invoice_id = books.issue(
        [
            LineSpec(Decimal("1"), Decimal("100000"), STANDARD, LineKind.MILESTONE),
            LineSpec(Decimal("1"), Decimal("-10000"), STANDARD, LineKind.RETENTION_WITHHELD),
        ]
    )
    root = assert_valid(books.invoice_view(invoice_id))
    retention = root.findall(f"{CAC}InvoiceLine")[1]
    assert text(retention, f"{CBC}InvoicedQuantity") == "-1"
    assert text(retention, f"{CAC}Price/{CBC}PriceAmount") == "10000"
    assert text(retention, f"{CBC}LineExtensionAmount") == "-10000.00"
    assert text(root, f"{CAC}LegalMonetaryTotal/{CBC}LineExtensionAmount") == "90000.00"


def test_split_payer_invoices_each_name_their_own_payer_as_buyer(books: Books) -> None:
    first = books.issue([LineSpec(Decimal("6"), Decimal("135"))], customer="acme")
    second = books.issue([LineSpec(Decimal("4"), Decimal("135"))], customer="acme",
                         payer="initech")  # fmt: skip
    buyer_name = (
        f"{CAC}AccountingCustomerParty/{CAC}Party/{CAC}PartyLegalEntity/{CBC}RegistrationName"
    )
    assert text(assert_valid(books.invoice_view(first)), buyer_name) == "Acme GmbH"
    assert text(assert_valid(books.invoice_view(second)), buyer_name) == "Initech GmbH"


def test_a_credit_note_for_part_of_an_invoice_cites_the_invoice_it_credits(
    books: Books,
) -> None:
    invoice_id = books.issue([LineSpec(Decimal("10"), Decimal("135")),
                              LineSpec(Decimal("3"), Decimal("99.99"), REDUCED)])  # fmt: skip
    memo_id = books.credit(
        invoice_id, [CreditRequest(1, quantity=Decimal("2.5"))], "2.5 h billed twice"
    )
    view = books.credit_view(memo_id)
    root = assert_valid(view)
    assert root.tag.endswith("}CreditNote")
    assert text(root, f"{CBC}CreditNoteTypeCode") == "381"
    reference = f"{CAC}BillingReference/{CAC}InvoiceDocumentReference"
    assert text(root, f"{reference}/{CBC}ID") == "INV-2026-0001"
    assert text(root, f"{reference}/{CBC}IssueDate") == "2026-04-01"
    # 2.5 h x 135 = 337.50 credited, 20 % = 67.50
    assert text(root, f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount") == "405.00"
    assert text(root, f"{CBC}Note") == "2.5 h billed twice"
    assert root.find(f"{CBC}DueDate") is None
