"""How delivery routes write quantities and show request examples."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar.openapi.spec import Example
from litestar.params import Body


def decimal_text(value: Decimal) -> str:
    """A quantity as a plain decimal string without trailing zeros: `2`, not `2.000000`."""
    return format(value.normalize(), "f")


def body_example(summary: str, value: dict[str, Any]) -> Any:
    """A request body's OpenAPI example."""
    return Body(examples=[Example(summary=summary, value=value)])
