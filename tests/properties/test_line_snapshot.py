"""A document line written out by hand for its snapshot (ADR 0060) is exactly what the
converter's generated function writes, for any number, kind, text, amounts, service period,
flags and allocations; a line holding a value a hook must look at goes through the generated
function and is refused as before."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from cattrs.gen import make_dict_unstructure_fn
from hypothesis import given
from hypothesis import strategies as st

from adapters.allocation_snapshot import PlainByConstruction
from adapters.serialization import CONVERTER, SerializationError, structure, unstructure
from domain.billing import Allocation, LineKind, SourceKind, SourceRef
from domain.document import DocumentLine
from domain.ids import CustomerId, ObligationId
from domain.money import Currency, Money
from domain.period import Period

GENERATED = make_dict_unstructure_fn(DocumentLine, CONVERTER)

decimals = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4).filter(
    lambda d: d.is_finite()
)
currencies = st.sampled_from([Currency.of(c) for c in ("EUR", "JPY", "KWD")])
monies = st.builds(Money, decimals, currencies)
allocations = st.builds(
    Allocation,
    source=st.builds(
        SourceRef, st.sampled_from(list(SourceKind.members())), st.text(min_size=1, max_size=12)
    ),
    quantity=decimals,
    amount=monies,
    terms=st.text(max_size=20),
    payer=st.none() | st.text(min_size=1, max_size=8).map(CustomerId),
)
periods = st.builds(
    lambda start, days: Period(start, start + timedelta(days=days)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(0, 90),
)
lines = st.builds(
    DocumentLine,
    line_no=st.integers(1, 500),
    obligation_id=st.text(min_size=1, max_size=10).map(ObligationId),
    kind=st.sampled_from(list(LineKind.members())),
    description=st.text(max_size=30),
    quantity=decimals,
    unit_price=monies,
    amount=monies,
    tax_code=st.text(max_size=6),
    allocations=st.lists(allocations, max_size=4).map(tuple),
    service_period=st.none() | periods,
    flags=st.lists(st.sampled_from(["over_cap", "approved_over_cap"]), max_size=2).map(tuple),
    credits_line=st.none() | st.integers(1, 50),
)


@given(lines)
def test_a_line_is_written_as_the_generated_function_writes_it(line: DocumentLine) -> None:
    written = unstructure(line)
    assert written == GENERATED(line)
    assert list(written) == list(GENERATED(line))  # the same keys in the same order
    assert type(written) is PlainByConstruction
    assert structure(written, DocumentLine) == line


class _Text(str):
    """A string subclass: never plain JSON data."""


def _line(**changes: object) -> DocumentLine:
    one = Money.of("1.00", "EUR")
    allocation = Allocation(SourceRef(SourceKind.TIME_ENTRY, "t1"), Decimal("1"), one)
    fields: dict[str, object] = {
        "line_no": 1,
        "obligation_id": ObligationId("OB-1"),
        "kind": LineKind.TIME,
        "description": "Delivery: senior",
        "quantity": Decimal("1"),
        "unit_price": one,
        "amount": one,
        "tax_code": "FR20",
        "allocations": (allocation,),
    } | changes
    return DocumentLine(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"description": _Text("odd")},
        {"quantity": Decimal("NaN")},
        {"flags": (_Text("over_cap"),)},
    ],
)
def test_a_line_with_a_value_a_hook_must_see_is_checked_and_refused_as_before(
    changes: dict[str, object],
) -> None:
    with pytest.raises(SerializationError):
        unstructure(_line(**changes))


def test_a_plain_line_is_marked_plain_and_one_with_an_odd_allocation_is_walked() -> None:
    assert type(unstructure(_line())) is PlainByConstruction
    flagged = _line(line_no=True)  # a bool is no plain int: the generated function writes it
    assert unstructure(flagged) == GENERATED(flagged)
    one = Money.of("1.00", "EUR")
    odd = Allocation(SourceRef(SourceKind.TIME_ENTRY, _Text("t2")), Decimal("1"), one)
    assert type(CONVERTER.unstructure(_line(allocations=(odd,)))) is dict
    with pytest.raises(SerializationError):
        unstructure(_line(allocations=(odd,)))
