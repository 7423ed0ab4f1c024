"""The billed ledger's rows made straight from a document's lines are the rows of the ledger
entries `billed_by` gives of them (ADR 0060), on both dialects' conversions of exact values."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters.sqlalchemy import codec
from adapters.sqlalchemy.driver_values import exact_parameter, exact_text
from domain.billing import Allocation, LineKind, SourceKind, SourceRef
from domain.document import DocumentLine, billed_by
from domain.ids import CustomerId, ObligationId
from domain.money import Currency, Money

decimals = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4).filter(
    lambda d: d.is_finite()
)
currencies = st.sampled_from([Currency.of(c) for c in ("EUR", "JPY", "KWD")])
allocations = st.builds(
    Allocation,
    source=st.builds(
        SourceRef, st.sampled_from(list(SourceKind.members())), st.text(min_size=1, max_size=12)
    ),
    quantity=decimals,
    amount=st.builds(Money, decimals, currencies),
    terms=st.text(max_size=20),
    payer=st.none() | st.text(min_size=1, max_size=8).map(CustomerId),
)
lines = st.builds(
    DocumentLine,
    line_no=st.integers(1, 20),
    obligation_id=st.sampled_from([ObligationId("OB-1"), ObligationId("OB-2")]),
    kind=st.sampled_from(list(LineKind.members())),
    description=st.just("line"),
    quantity=decimals,
    unit_price=st.builds(Money, decimals, currencies),
    amount=st.builds(Money, decimals, currencies),
    tax_code=st.just("S"),
    allocations=st.lists(allocations, max_size=4).map(tuple),
)


@given(st.lists(lines, max_size=4), st.sampled_from([exact_text, exact_parameter]))
def test_rows_from_lines_are_the_rows_of_their_ledger_entries(
    document: list[DocumentLine], exact: object
) -> None:
    convert = exact_text if exact is exact_text else exact_parameter
    from_lines = list(codec.billed_values("C-1", "INV-1", document, convert))
    from_entries = list(codec.ledger_values("C-1", billed_by("INV-1", document), convert))
    assert from_lines == from_entries
    assert len(from_lines) == sum(len(line.allocations) for line in document)
