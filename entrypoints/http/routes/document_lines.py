"""A document line on the wire: the fields every line shows, in one order, written one way.

A proposal's, an invoice's and a credit memo's lines add what each says more about a line (its
allocations, its sources); the common part is declared and filled here once.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from domain.document import DocumentLine
from entrypoints.http.routes.common import MoneyOut, exact_out, money_out
from entrypoints.http.routes.delivery_text import decimal_text


class LineOut(msgspec.Struct):
    line_no: int
    obligation_id: str
    kind: str
    description: str
    quantity: str
    unit_price: MoneyOut
    amount: MoneyOut
    tax_code: str


Line = TypeVar("Line", bound=LineOut)


def line_of(struct: type[Line], line: DocumentLine, **more: Any) -> Line:
    """`line` as `struct`: the quantity as plain decimal text, the unit price exact, the amount
    at the currency's minor digits, and `more` (the fields only `struct` has)."""
    return struct(
        line_no=line.line_no,
        obligation_id=line.obligation_id,
        kind=line.kind.value,
        description=line.description,
        quantity=decimal_text(line.quantity),
        unit_price=exact_out(line.unit_price),
        amount=money_out(line.amount),
        tax_code=line.tax_code,
        **more,
    )
