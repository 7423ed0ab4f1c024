"""An allocation as its snapshot holds it, written out by hand (ADR 0060).

An invoice's snapshot names every source it bills: a run of 200k entries unstructures 200k
allocations, and the converter's generated function makes nine calls for each (the source,
its kind, two decimals, the money, its currency, three strings). This is the same dictionary
in one call; `tests/properties/test_allocation_snapshot.py` holds it to the generated one, and
the snapshot's plain-JSON check still runs on the result.

A line's allocations are written as one list the same way: when every one of them is plain by
construction the list is marked so too, and the check steps over it whole (ADR 0060).
"""

from __future__ import annotations

from typing import Any

from adapters.serialization_hooks import _unstructure_decimal, _unstructure_scalar
from domain.billing import Allocation


class PlainByConstruction(dict[str, Any]):
    """An allocation's snapshot whose every value was checked here to be an exact JSON type (a
    `str` that is no subclass, a finite decimal as text, None): the snapshot's plain-JSON check
    does not walk it again (of an invoice's values, its allocations are nearly all)."""


class PlainListByConstruction(list[Any]):
    """A line's allocations, each of them `PlainByConstruction`: the snapshot's plain-JSON
    check does not walk the list (an invoice's values are nearly all in these lists)."""


def unstructure_allocations(allocations: tuple[Allocation, ...]) -> list[Any]:
    """A line's allocations as the converter writes a `tuple[Allocation, ...]` (a list of
    `unstructure_allocation`'s dictionaries), marked plain when each of them is."""
    written = [unstructure_allocation(a) for a in allocations]
    plain = PlainByConstruction
    for snapshot in written:
        if type(snapshot) is not plain:
            return written
    return PlainListByConstruction(written)


def unstructure_allocation(allocation: Allocation) -> dict[str, Any]:
    """{"source": {"kind", "source_id"}, "quantity", "amount": {"amount", "currency"},
    "terms", "payer"}, exactly as the converter's generated function writes it (the checks
    of its hooks inline: a finite decimal as plain text, a string that is no enum as is)."""
    source, money = allocation.source, allocation.amount
    quantity, amount = allocation.quantity, money.amount
    source_id, terms, payer = source.source_id, allocation.terms, allocation.payer
    if not (quantity.is_finite() and amount.is_finite()):
        quantity, amount = _unstructure_decimal(quantity), _unstructure_decimal(amount)
    if type(source_id) is not str or type(terms) is not str:
        source_id, terms = _unstructure_scalar(source_id), _unstructure_scalar(terms)
    if payer is not None and type(payer) is not str:
        payer = _unstructure_scalar(payer)
    kind, code = source.kind.value, money.currency.code
    plain = type(source_id) is str and type(terms) is str and type(kind) is type(code) is str
    snapshot = PlainByConstruction if plain and (payer is None or type(payer) is str) else dict
    return snapshot(
        source={"kind": kind, "source_id": source_id},
        quantity=format(quantity, "f"),
        amount={"amount": format(amount, "f"), "currency": code},
        terms=terms,
        payer=payer,
    )
