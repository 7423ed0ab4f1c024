"""A document line as its snapshot holds it, written out by hand (ADR 0060).

Every invoice of a billing run is stored with its lines; the converter's generated function
calls a hook per field of each line and of its two amounts and its period, and the snapshot's
plain-JSON check then walks what they wrote. Here a line whose values are of the exact types
the hooks pass through (a plain `int`, `str`, finite `Decimal`, `date`) is written in one call,
as the same dictionary, and marked plain when its allocations are
(`adapters.allocation_snapshot`); any other line goes through the generated function, which
checks and refuses as before. `tests/properties/test_line_snapshot.py` holds the two to the
same dictionary.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.allocation_snapshot import (
    PlainByConstruction,
    PlainListByConstruction,
    unstructure_allocations,
)
from domain.document import DocumentLine
from domain.money import Money
from domain.period import Period

LineHook = Callable[[DocumentLine], dict[str, Any]]


def line_hook(generated: LineHook) -> LineHook:
    """The hand-written hook, falling back to `generated` (the converter's own function)."""

    def unstructure_document_line(line: DocumentLine) -> dict[str, Any]:
        line_no, credits, flags = line.line_no, line.credits_line, line.flags
        texts = (line.obligation_id, line.description, line.tax_code, line.kind.value, *flags)
        period = _period(line.service_period)
        if (
            type(line_no) is not int
            or not (credits is None or type(credits) is int)
            or type(flags) is not tuple
            or period is False
            or any(type(text) is not str for text in texts)
            or type(line.quantity) is not Decimal
            or not line.quantity.is_finite()
        ):
            return generated(line)
        unit_price, amount = _money(line.unit_price), _money(line.amount)
        if unit_price is None or amount is None:
            return generated(line)
        allocations = unstructure_allocations(line.allocations)
        plain = type(allocations) is PlainListByConstruction
        return (PlainByConstruction if plain else dict)(
            line_no=line_no,
            obligation_id=texts[0],
            kind=texts[3],
            description=texts[1],
            quantity=format(line.quantity, "f"),
            unit_price=unit_price,
            amount=amount,
            tax_code=texts[2],
            allocations=allocations,
            service_period=period,
            flags=list(flags),
            credits_line=credits,
        )

    return unstructure_document_line


def _money(money: Money) -> dict[str, str] | None:
    """An amount as the converter writes it; None when a hook would have to look at it."""
    value, code = money.amount, money.currency.code
    if type(code) is not str or type(value) is not Decimal or not value.is_finite():
        return None
    return {"amount": format(value, "f"), "currency": code}


def _period(period: Period | None) -> dict[str, str] | bool | None:
    """A service period as the converter writes it; False when a hook would have to."""
    if period is None:
        return None
    if type(period) is not Period or type(period.start) is not date or type(period.end) is not date:
        return False
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}
