"""The allocation written out by hand for the invoice's snapshot (ADR 0060) is exactly what the
converter's generated function writes, for any source, quantity, amount, terms and payer; and
an invoice snapshot read back gives the invoice it came from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cattrs.gen import make_dict_unstructure_fn
from hypothesis import given
from hypothesis import strategies as st

from adapters.allocation_snapshot import PlainByConstruction, unstructure_allocation
from adapters.serialization import CONVERTER, SerializationError, structure, unstructure
from domain.billing import Allocation, SourceKind, SourceRef
from domain.ids import CustomerId
from domain.money import Currency, Money

GENERATED = make_dict_unstructure_fn(Allocation, CONVERTER)

decimals = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6).filter(
    lambda d: d.is_finite()
)
allocations = st.builds(
    Allocation,
    source=st.builds(
        SourceRef,
        st.sampled_from(list(SourceKind.members())),
        st.text(min_size=1, max_size=20),
    ),
    quantity=decimals,
    amount=st.builds(Money, decimals, st.sampled_from([Currency.of(c) for c in ("EUR", "JPY")])),
    terms=st.text(max_size=30),
    payer=st.none() | st.text(min_size=1, max_size=10).map(CustomerId),
)


@given(allocations)
def test_an_allocation_is_written_as_the_generated_function_writes_it(a: Allocation) -> None:
    assert unstructure_allocation(a) == GENERATED(a)
    assert structure(unstructure(a), Allocation) == a


def test_the_converter_writes_allocations_with_the_hand_written_function() -> None:
    a = Allocation(
        SourceRef(SourceKind.TIME_ENTRY, "t1"), Decimal("1.25"), Money.of("262.50", "EUR")
    )
    assert CONVERTER.get_unstructure_hook(Allocation) is unstructure_allocation
    assert unstructure(a) == {
        "source": {"kind": "time_entry", "source_id": "t1"},
        "quantity": "1.25",
        "amount": {"amount": "262.50", "currency": "EUR"},
        "terms": "",
        "payer": None,
    }


class _Text(str):
    """A string subclass: never plain JSON data."""


def test_a_snapshot_with_a_string_subclass_is_checked_and_refused_as_before() -> None:
    one = Money.of("1", "EUR")
    a = Allocation(SourceRef(SourceKind.TIME_ENTRY, _Text("t1")), Decimal("1"), one)
    assert type(unstructure_allocation(a)) is dict  # not taken as plain: the check walks it
    with pytest.raises(SerializationError):
        unstructure(a)
    plain = Allocation(SourceRef(SourceKind.TIME_ENTRY, "t1"), Decimal("1"), one)
    assert type(unstructure_allocation(plain)) is PlainByConstruction
