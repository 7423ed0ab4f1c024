"""How delivery routes write quantities and show request examples."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from entrypoints.http.routes.declare import body_example

#: Delivery routes import the body example from here, beside how they write quantities.
__all__ = ["body_example", "decimal_text", "holds_text"]


def decimal_text(value: Decimal) -> str:
    """A quantity as a plain decimal string without trailing zeros: `2`, not `2.000000`."""
    return format(value.normalize(), "f")


class _Holds(Protocol):
    held: Decimal
    released: Decimal
    written_off: Decimal


def holds_text(item: _Holds) -> dict[str, str]:
    """What became of a delivered item's quantity: held, released and written off, as text."""
    return {
        "held": decimal_text(item.held),
        "released": decimal_text(item.released),
        "written_off": decimal_text(item.written_off),
    }
