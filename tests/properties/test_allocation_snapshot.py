"""The allocation written out by hand for the invoice's snapshot (ADR 0060) is exactly what the
converter's generated function writes, for any source, quantity, amount, terms and payer; and
an invoice snapshot read back gives the invoice it came from. A line's allocations are written
as one list the same way, marked plain only when each of them is."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cattrs.cols import iterable_unstructure_factory
from cattrs.gen import make_dict_unstructure_fn
from hypothesis import given
from hypothesis import strategies as st

from adapters.allocation_snapshot import (
    PlainByConstruction,
    PlainListByConstruction,
    unstructure_allocation,
    unstructure_allocations,
)
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


#: What the converter generated for the tuple before the hook (a list), built here and not
#: registered on the shared converter.
GENERATED_LIST = iterable_unstructure_factory(
    tuple[Allocation, ...], CONVERTER, unstructure_to=list
)


@given(st.lists(allocations, max_size=5).map(tuple))
def test_a_lines_allocations_are_written_as_the_generated_function_writes_them(
    written: tuple[Allocation, ...],
) -> None:
    hand = unstructure_allocations(written)
    assert hand == GENERATED_LIST(written)
    assert type(hand) is PlainListByConstruction  # every allocation here is plain


def test_a_line_is_written_with_the_hand_written_list_and_its_check_stays() -> None:
    one = Money.of("1", "EUR")
    plain = Allocation(SourceRef(SourceKind.TIME_ENTRY, "t1"), Decimal("1"), one)
    odd = Allocation(SourceRef(SourceKind.TIME_ENTRY, _Text("t2")), Decimal("1"), one)
    assert CONVERTER.get_unstructure_hook(tuple[Allocation, ...]) is unstructure_allocations
    mixed = unstructure_allocations((plain, odd))
    assert type(mixed) is list  # one allocation is not plain: the check walks the list
    with pytest.raises(SerializationError):
        unstructure((plain, odd), tuple[Allocation, ...])
    assert unstructure((plain,), tuple[Allocation, ...]) == [unstructure(plain)]
