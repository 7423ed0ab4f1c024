"""How the printable document writes figures and text it cannot print as they are."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from adapters.documents.pdf_text import (
    amount_text,
    exact_text,
    money_text,
    printable,
    quantity_text,
    rate_text,
)
from domain.money import Money


@pytest.mark.parametrize(
    ("amount", "code", "shown"),
    [
        ("1234.5", "EUR", "1,234.50"),
        ("1250000", "JPY", "1,250,000"),
        ("12.3", "BHD", "12.300"),
        ("-0.00", "EUR", "0.00"),
        ("-2400.00", "EUR", "-2,400.00"),
        ("0.005", "EUR", "0.01"),
    ],
)
def test_an_amount_has_exactly_its_currencys_minor_digits(
    amount: str, code: str, shown: str
) -> None:
    assert amount_text(Money.of(amount, code)) == shown


def test_an_amount_is_written_with_its_currency_code() -> None:
    assert money_text(Money.of("1655.849", "BHD")) == "1,655.849 BHD"


def test_a_price_keeps_the_digits_it_really_has_and_never_fewer_than_the_minor_ones() -> None:
    assert exact_text(Money.of("150.125", "EUR")) == "150.125"
    assert exact_text(Money.of("150.1000", "EUR")) == "150.10"
    assert exact_text(Money.of("18000", "JPY")) == "18,000"
    assert exact_text(Money.of("45.5", "BHD")) == "45.500"


def test_quantities_and_rates_drop_trailing_zeros() -> None:
    assert quantity_text(Decimal("7.50")) == "7.5"
    assert quantity_text(Decimal("100")) == "100"
    assert rate_text(Decimal("0.20")) == "20%"
    assert rate_text(Decimal("0.075")) == "7.5%"
    assert rate_text(Decimal("0")) == "0%"


def test_figures_do_not_depend_on_the_ambient_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_DOWN
        ctx.prec = 3
        assert amount_text(Money.of("1234.565", "EUR")) == "1,234.57"
        assert exact_text(Money.of("150.125", "EUR")) == "150.125"


def test_latin_1_text_is_printed_as_it_is() -> None:
    assert printable("Gebäude C, Köln, Ørsted, São Paulo") == "Gebäude C, Köln, Ørsted, São Paulo"


def test_text_outside_latin_1_is_spelled_with_latin_letters_and_marked() -> None:
    assert printable("Łódź") == "Lódz*"
    assert printable("Œuvre Ħal Dvořák") == "OEuvre Hal Dvorák*"
    assert printable("東京 Ltd") == "?? Ltd*"


def test_typographic_punctuation_is_printed_plain_without_a_mark() -> None:
    assert printable("“Phase 2” – final…") == '"Phase 2" - final...'


def test_control_characters_become_spaces() -> None:
    assert printable("Acme\tLtd\n") == "Acme Ltd "
