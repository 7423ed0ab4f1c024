"""The printable invoice: what a customer reads on the PDF of an issued document."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import pytest
from pypdf import PdfReader

from adapters.documents.pdf import render_pdf
from application.document_view import DocumentView, Party
from tests.support import document_views as views
from tests.support.pdf_reading import figures, page_texts, words

EVERY_KIND = {
    "EUR with VAT at two rates": views.eur_with_vat,
    "yen": views.jpy_invoice,
    "Bahraini dinar": views.bhd_invoice,
    "reverse charge": views.reverse_charge_invoice,
    "exempt": views.exempt_invoice,
    "credit note": views.credit_note,
    "300 time entries": views.long_time_invoice,
    "Latin Extended buyer": views.latin_extended_invoice,
}


@pytest.mark.parametrize("build", EVERY_KIND.values(), ids=EVERY_KIND.keys())
def test_every_figure_of_the_document_is_printed(build: object) -> None:
    view: DocumentView = build()  # type: ignore[operator]
    text = words(render_pdf(view))
    missing = [figure for figure in figures(view) if figure not in text]
    assert missing == []


@pytest.mark.parametrize("build", EVERY_KIND.values(), ids=EVERY_KIND.keys())
def test_the_same_document_renders_the_same_bytes(build: object) -> None:
    view: DocumentView = build()  # type: ignore[operator]
    assert render_pdf(view) == render_pdf(view)


def test_the_pdf_is_dated_by_the_issue_date_not_by_when_it_was_rendered() -> None:
    view = views.eur_with_vat()
    info = PdfReader(io.BytesIO(render_pdf(view))).metadata
    assert info is not None
    assert info.creation_date == datetime(2026, 4, 2, tzinfo=UTC)
    assert info.title == "Invoice NW-2026-0042"


def test_lines_are_grouped_under_a_heading_per_obligation_with_the_time_behind_them() -> None:
    text = words(render_pdf(views.eur_with_vat()))
    change_request = text.index("Change request CR-7 (time and materials)")
    time_behind = text.index("Time behind line 1")
    program = text.index("Transformation program (fixed fee)")
    assert change_request < time_behind < program < text.index("Milestone 1: discovery accepted")
    assert "2026-03-02 Dana Whitfield Senior consultant 7.5 150.00 1,125.00" in text
    assert "2026-03-03 Omar Reyes Analyst 8 95.50 764.00" in text


def with_buyer_named(name: str) -> Callable[[], DocumentView]:
    """The EUR invoice, its buyer given `name` and no address."""
    return lambda: attrs.evolve(views.eur_with_vat(), buyer=Party("tokyo", name, None, vat_id=None))


# What the printed document shows, and what it must not.
PRINTED = [
    pytest.param(
        views.eur_with_vat,
        (
            "Invoice",
            "Northwind Consulting GmbH",
            "VAT id DE123456789",
            "Acme Manufacturing AG",
            "Gebäude C",
            "50667 Köln",
            "VAT id DE987654321",
            "Contract ctr-global-transformation",
            "PRJ-4711",
            "Period 2026-03-01 to 2026-03-31",
            "Due date 2026-05-02",
            "Payment terms: Payment due within 30 days of the invoice date.",
            "Amount due 18,702.60 EUR",
            "Pay to IBAN DE89370400440532013000, BIC COBADEFFXXX",
        ),
        (),
        id="an invoice shows seller, buyer, references and what is due",
    ),
    pytest.param(
        views.jpy_invoice,
        ("1,250,000", "Total 1,523,500 JPY", "7.5 18,000 135,000"),
        ("1,250,000.00",),
        id="yen amounts carry no decimals",
    ),
    pytest.param(
        views.bhd_invoice,
        ("6 45.125 270.750", "1,234.567", "Total 1,655.849 BHD"),
        (),
        id="dinar amounts carry three decimals",
    ),
    pytest.param(
        views.reverse_charge_invoice,
        ("Reverse charge 0%", "Tax 0.00 EUR", "Article 196 VAT Directive"),
        (),
        id="a reverse-charged invoice states why no VAT is charged",
    ),
    pytest.param(
        views.exempt_invoice,
        ("Exempt 0% 2,400.00 0.00", "Article 132(1)(i) VAT Directive"),
        (),
        id="an exempt line prints its exemption reason",
    ),
    pytest.param(
        views.latin_extended_invoice,
        (
            "Zaklad Uslug Lódz Sp. z o.o.*",
            "90-004 Lódz*",
            "the e-invoice (UBL) of this document carries the exact spelling",
        ),
        (),
        id="a name outside Latin-1 is transliterated and marked, never dropped",
    ),
    pytest.param(
        with_buyer_named("株式会社 Tokyo"),
        ("???? Tokyo*",),
        (),
        id="a name with no Latin letters prints as marked placeholders",
    ),
    pytest.param(
        views.eur_with_vat,
        (),
        ("exact spelling",),
        id="a Latin-1 document carries no transliteration note",
    ),
]


@pytest.mark.parametrize(("build", "shown", "not_shown"), PRINTED)
def test_the_printed_document_shows_what_it_must_and_nothing_it_must_not(
    build: Callable[[], DocumentView], shown: tuple[str, ...], not_shown: tuple[str, ...]
) -> None:
    text = words(render_pdf(build()))
    assert [figure for figure in shown if figure not in text] == []
    assert [figure for figure in not_shown if figure in text] == []


def test_a_credit_note_names_the_invoice_it_credits_and_asks_for_no_payment() -> None:
    text = words(render_pdf(views.credit_note()))
    assert text.index("Credit note") < text.index("NW-CN-2026-0003")
    assert "Credits invoice NW-2026-0041 of 2026-03-02" in text
    assert "Reason: Milestone 2 disputed: partial credit agreed" in text
    assert "credits line 2" in text
    assert "Total credited 2,400.00 EUR" in text
    assert "Amount due" not in text
    assert "Due date" not in text


def test_three_hundred_time_entries_run_over_pages_numbered_and_with_the_header_again() -> None:
    pages = page_texts(render_pdf(views.long_time_invoice()))
    assert len(pages) > 3
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in page
    for page in pages[1:]:
        assert "Invoice NW-2026-0300" in page
    with_time_rows = [p for p in pages if re.search(r"2026-03-\d\d (Dana|Omar)", p)]
    assert len(with_time_rows) == len(pages) - 1 or len(with_time_rows) == len(pages)
    for page in with_time_rows:
        assert "Date Person Role Hours Rate EUR Value EUR" in page
    rows = re.findall(r"2026-03-\d\d (?:Dana Whitfield|Omar Reyes) ", "\n".join(pages))
    assert len(rows) == 300


def test_what_credits_and_a_write_off_took_off_is_printed_between_total_and_amount_due() -> None:
    # 18,702.60 billed, 5,000.00 paid, 1,000.00 credited, 2,702.60 written off: 10,000.00 due
    view = attrs.evolve(
        views.eur_with_vat(),
        paid=views.money("5000.00"),
        credited=views.money("1000.00"),
        written_off=views.money("2702.60"),
        amount_due=views.money("10000.00"),
    )
    text = words(render_pdf(view))
    for expected in (
        "Total 18,702.60 EUR",
        "Paid 5,000.00 EUR",
        "Credited 1,000.00 EUR",
        "Written off 2,702.60 EUR",
        "Amount due 10,000.00 EUR",
    ):
        assert expected in text
    assert "Written off" not in words(render_pdf(views.eur_with_vat()))
