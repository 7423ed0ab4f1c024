"""Property: whatever lines, quantities, prices, currencies and VAT categories a document has,
its UBL 2.1 e-invoice passes the UBL 2.1 schema and the EN 16931 Schematron with no fatal
assert, and so does the credit note of part of it. The Schematron is slow: few examples."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.documents.ubl import render_ubl
from domain.billing import LineKind
from domain.credit_memo import CreditRequest
from tests.support.documents import (
    EXEMPT,
    REDUCED,
    REVERSE,
    SELLER,
    STANDARD,
    ZERO,
    Books,
    LineSpec,
    buyer,
)
from tests.support.ubl_validation import schematron, xsd_errors

KINDS = [LineKind.TIME, LineKind.EXPENSE, LineKind.MILESTONE, LineKind.RECURRING]

quantities = st.integers(1, 800).map(lambda n: Decimal(n) / 4)  # 0.25 h to 200 h
prices = st.integers(1, 500_000).map(lambda n: Decimal(n) / 100)  # 0.01 to 5,000.00
lines = st.builds(
    LineSpec,
    quantities,
    prices,
    st.sampled_from([STANDARD, REDUCED, EXEMPT, REVERSE, ZERO]),
    st.sampled_from(KINDS),
)


def assert_en_16931(document: bytes) -> None:
    assert xsd_errors(document) == []
    report = schematron(document)
    assert report.fatal == (), report.describe()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(lines, min_size=1, max_size=6),
    currency=st.sampled_from(["EUR", "USD", "GBP", "JPY", "CHF"]),
    retention=st.booleans(),
    credited=st.integers(1, 4),
)
def test_every_document_and_its_partial_credit_pass_en_16931(
    specs: list[LineSpec], currency: str, retention: bool, credited: int
) -> None:
    books = Books()
    books.keep(SELLER, buyer("acme", "tl-fr", "DE", "DE811907980"))
    if retention:
        # A withheld retention: a negative line, smaller than what the document bills.
        head = specs[0]
        withheld = (head.quantity * head.unit_price / 10).quantize(Decimal("0.01"))
        if withheld > 0:
            specs = [*specs, LineSpec(Decimal(1), -withheld, head.tax, LineKind.RETENTION_WITHHELD)]
    invoice_id = books.issue(specs, currency=currency)
    assert_en_16931(render_ubl(books.invoice_view(invoice_id)))
    quantity = min(specs[0].quantity, Decimal(credited) / 4)
    memo_id = books.credit(invoice_id, [CreditRequest(1, quantity=quantity)], "part credited")
    assert_en_16931(render_ubl(books.credit_view(memo_id)))
