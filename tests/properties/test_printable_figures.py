"""Whatever an issued document holds (any currency's minor digits, any number of lines and time
entries, prices with more digits than the currency, several tax codes, names outside Latin-1),
its PDF shows every figure of it, and renders the same bytes twice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.documents.pdf import render_pdf
from application.document_view import DocumentView, Party, VatCategory, ViewLine
from domain.money import Currency, Money
from tests.support import document_views as views
from tests.support.pdf_reading import figures, words

CURRENCIES = ("EUR", "JPY", "BHD", "CLF")
TAXES = (("VAT20", "0.20"), ("VAT7", "0.07"), ("VAT55", "0.055"), ("ZERO", "0"))
NAMES = st.text(
    st.characters(codec="utf-8", categories=("L", "Zs", "Pd")), min_size=1, max_size=30
).filter(str.strip)


@st.composite
def time_entries(draw: st.DrawFn, code: str) -> list[tuple[date, str, str, str, str]]:
    minor = Currency.of(code).minor_units
    rate = draw(st.integers(1, 10**6)) * Decimal(1).scaleb(-(minor + draw(st.integers(0, 1))))
    person = draw(NAMES)
    count = draw(st.integers(1, 12))
    return [
        (
            date(2026, 3, 1) + timedelta(days=draw(st.integers(0, 30))),
            person,
            "consultant",
            str(Decimal(draw(st.integers(1, 48))) / 4),
            str(rate),
        )
        for _ in range(count)
    ]


@st.composite
def documents(draw: st.DrawFn) -> DocumentView:
    code = draw(st.sampled_from(CURRENCIES))
    lines: list[ViewLine] = []
    for n in range(1, draw(st.integers(1, 6)) + 1):
        tax_code, rate = draw(st.sampled_from(TAXES))
        category = VatCategory.STANDARD if rate != "0" else VatCategory.ZERO_RATED
        tax = views.Tax(tax_code, category, rate)
        obligation = draw(st.sampled_from([("a", "Programme"), ("b", "Change requests")]))
        if draw(st.booleans()):
            line = views.time_line(n, draw(time_entries(code)), code, tax, obligation)
        else:
            price = Money.from_minor(draw(st.integers(1, 10**9)), Currency.of(code))
            line = views.fixed_line(n, draw(NAMES), str(price.amount), code, tax, obligation)
        lines.append(line)
    buyer = views.BUYER
    if draw(st.booleans()):
        buyer = Party("buyer", draw(NAMES), None)
    return views.document(tuple(lines), code=code, buyer=buyer)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_figure_of_any_issued_document_is_printed(view: DocumentView) -> None:
    pdf = render_pdf(view)
    text = words(pdf)
    assert [figure for figure in figures(view) if figure not in text] == []
    assert render_pdf(view) == pdf
