"""An allocation as its snapshot holds it, written out by hand (ADR 0060).

An invoice's snapshot names every source it bills: a run of 200k entries unstructures 200k
allocations, and the converter's generated function makes nine calls for each (the source,
its kind, two decimals, the money, its currency, three strings). This is the same dictionary
in one call; `tests/properties/test_allocation_snapshot.py` holds it to the generated one, and
the snapshot's plain-JSON check still runs on the result.
"""

from __future__ import annotations

from typing import Any

from adapters.serialization_hooks import _unstructure_decimal, _unstructure_scalar
from domain.billing import Allocation


def _text(value: object) -> object:
    """A string field as the converter gives it: a plain str as is, anything else its hook."""
    return value if type(value) is str or value is None else _unstructure_scalar(value)


def unstructure_allocation(allocation: Allocation) -> dict[str, Any]:
    """{"source": {"kind", "source_id"}, "quantity", "amount": {"amount", "currency"},
    "terms", "payer"}, exactly as the converter's generated function writes it."""
    source, amount = allocation.source, allocation.amount
    return {
        "source": {"kind": source.kind.value, "source_id": _text(source.source_id)},
        "quantity": _unstructure_decimal(allocation.quantity),
        "amount": {
            "amount": _unstructure_decimal(amount.amount),
            "currency": amount.currency.code,
        },
        "terms": _text(allocation.terms),
        "payer": _text(allocation.payer),
    }
