"""How delivery routes write quantities and show request examples."""

from __future__ import annotations

from decimal import Decimal

from entrypoints.http.routes.declare import body_example

#: Delivery routes import the body example from here, beside how they write quantities.
__all__ = ["body_example", "decimal_text"]


def decimal_text(value: Decimal) -> str:
    """A quantity as a plain decimal string without trailing zeros: `2`, not `2.000000`."""
    return format(value.normalize(), "f")
