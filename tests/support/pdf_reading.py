"""Reading a rendered PDF back the way a customer's viewer does, and the figures a document
view must show, each written the way the guide writes amounts (exactly the currency's minor
digits, a comma every three digits)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from application.document_view import DocumentView
from domain.money import Money


def page_texts(pdf: bytes) -> list[str]:
    """The text of every page, in order."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def words(pdf: bytes) -> str:
    """All the text of the document, whitespace collapsed to single spaces."""
    return re.sub(r"\s+", " ", " ".join(page_texts(pdf)))


def shown_amount(money: Money) -> str:
    """An amount at exactly its currency's minor digits: 1,234.50 / 150,000 / 12.345."""
    return f"{money.amount:,.{money.currency.minor_units}f}"


def shown_exact(money: Money) -> str:
    """A price or rate: the minor digits, or more where the value has more."""
    exponent = money.amount.normalize().as_tuple().exponent
    places = max(-exponent if isinstance(exponent, int) else 0, money.currency.minor_units)
    return f"{money.amount:,.{places}f}"


def shown_quantity(value: object) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def figures(view: DocumentView) -> list[str]:
    """Every figure the document states, as the printed page must show it."""
    out = [view.number, view.issue_date.isoformat()]
    out += [view.period.start.isoformat(), view.period.end.isoformat()]
    if view.due_date is not None:
        out.append(view.due_date.isoformat())
    if view.preceding is not None:
        out += [view.preceding.number, view.preceding.issue_date.isoformat()]
    for line in view.lines:
        out += [shown_quantity(line.quantity), shown_exact(line.unit_price), shown_amount(line.net)]
        for entry in line.time_details:
            out += [entry.work_date.isoformat(), shown_quantity(entry.hours)]
            out += [shown_exact(entry.rate), shown_exact(entry.amount)]
        for item in line.other_details:
            out += [shown_quantity(item.quantity), shown_exact(item.amount)]
    for tax in view.vat_breakdown:
        out += [shown_amount(tax.base), shown_amount(tax.amount)]
        out.append(f"{shown_quantity(tax.rate * 100)}%")
    for total in (view.net, view.tax, view.gross):
        out.append(f"{shown_amount(total)} {total.currency.code}")
    return out
