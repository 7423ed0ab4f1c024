"""Money: known answers for allocation and rounding, the currency rules, and the ISO 4217 table
checked against babel (CLDR)."""

from __future__ import annotations

import decimal
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

import babel
import babel.numbers
import pytest

from domain.errors import CurrencyMismatchError, DomainError, UnknownCurrencyError
from domain.money import (
    ISO_4217_MINOR_UNITS,
    Currency,
    Money,
    allocate,
    largest_remainder,
    money_sum,
)

EUR = Currency.of("EUR")
USD = Currency.of("USD")


def money(amount: str, code: str = "EUR") -> Money:
    return Money.of(amount, code)


def amounts(parts: list[Money]) -> list[str]:
    return [str(p.amount) for p in parts]


# Allocation: the known answers of the conventions -----------------------------------------


def test_five_cents_at_30_70_gives_two_and_three_cents() -> None:
    assert amounts(allocate(money("0.05"), [30, 70])) == ["0.02", "0.03"]


def test_a_hundred_in_three_gives_the_odd_cent_to_the_first_part() -> None:
    assert amounts(allocate(money("100.00"), [1, 1, 1])) == ["33.34", "33.33", "33.33"]


def test_two_installments_of_an_odd_amount_sum_to_the_fee_without_a_minus_cent() -> None:
    parts = allocate(money("1000.01"), [50, 50])
    assert amounts(parts) == ["500.01", "500.00"]
    assert money_sum(parts, EUR) == money("1000.01")


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("-0.05", [30, 70], ["-0.02", "-0.03"]),
        ("-100.00", [1, 1, 1], ["-33.34", "-33.33", "-33.33"]),
        ("-1000.01", [50, 50], ["-500.01", "-500.00"]),
    ],
)
def test_a_negative_total_allocates_exactly_like_the_charge_it_reverses(
    total: str, weights: list[int], expected: list[str]
) -> None:
    credit = allocate(money(total), weights)
    charge = allocate(-money(total), weights)
    assert amounts(credit) == expected
    assert [-p for p in charge] == credit


def test_ties_between_equal_remainders_go_to_the_earlier_part() -> None:
    assert largest_remainder(2, [1, 1, 1, 1]) == [1, 1, 0, 0]
    assert largest_remainder(-2, [1, 1, 1, 1]) == [-1, -1, 0, 0]


def test_the_largest_remainder_wins_over_position() -> None:
    # Shares 1.2, 1.3, 2.5 of 5 units: floors 1, 1, 2; the one unit left goes to 0.5.
    assert largest_remainder(5, [Decimal("1.2"), Decimal("1.3"), Decimal("2.5")]) == [1, 1, 3]


def test_a_zero_weight_gets_nothing() -> None:
    assert amounts(allocate(money("10.00"), [0, 1, 0])) == ["0.00", "10.00", "0.00"]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]], ids=["none", "all zero", "negative"])
def test_allocation_over_meaningless_weights_is_refused(weights: list[int]) -> None:
    with pytest.raises(DomainError):
        allocate(money("10.00"), weights)


def test_allocation_of_a_fraction_of_a_minor_unit_is_refused() -> None:
    with pytest.raises(DomainError, match="minor units"):
        allocate(money("10.005"), [1, 1])


# Currencies with other minor units ---------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "minor_units", "exponent"),
    [
        ("JPY", 0, "1"),
        ("USD", 2, "0.01"),
        ("EUR", 2, "0.01"),
        ("BHD", 3, "0.001"),
        ("KWD", 3, "0.001"),
        ("CLF", 4, "0.0001"),
    ],
)
def test_each_currency_carries_its_iso_4217_minor_units(
    code: str, minor_units: int, exponent: str
) -> None:
    currency = Currency.of(code)
    assert currency.minor_units == minor_units
    assert currency.exponent == Decimal(exponent)


@pytest.mark.parametrize(
    ("total", "code", "expected"),
    [
        ("100", "JPY", ["34", "33", "33"]),
        ("10.000", "BHD", ["3.334", "3.333", "3.333"]),
        ("0.005", "KWD", ["0.002", "0.002", "0.001"]),
        ("1.0000", "CLF", ["0.3334", "0.3333", "0.3333"]),
        ("-1.0000", "CLF", ["-0.3334", "-0.3333", "-0.3333"]),
    ],
)
def test_allocation_works_on_each_currencys_own_minor_units(
    total: str, code: str, expected: list[str]
) -> None:
    parts = allocate(money(total, code), [1, 1, 1])
    assert amounts(parts) == expected
    assert money_sum(parts, Currency.of(code)) == money(total, code)


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [
        ("2.345", "EUR", "2.35"),
        ("2.344", "EUR", "2.34"),
        ("-2.345", "EUR", "-2.35"),
        ("-2.344", "EUR", "-2.34"),
        ("2.5", "JPY", "3"),
        ("-2.5", "JPY", "-3"),
        ("2.4999", "JPY", "2"),
        ("1.2345", "BHD", "1.235"),
        ("1.2344", "KWD", "1.234"),
        ("1.00005", "CLF", "1.0001"),
        ("7", "EUR", "7.00"),
    ],
)
def test_quantizing_rounds_half_up_to_the_minor_unit(amount: str, code: str, expected: str) -> None:
    rounded = money(amount, code).quantized()
    assert str(rounded.amount) == expected
    assert rounded.currency == Currency.of(code)


def test_another_rounding_mode_is_used_only_when_named() -> None:
    assert money("2.349").quantized("ROUND_DOWN") == money("2.34")


def test_minor_units_round_trip() -> None:
    assert Money.from_minor(12345, EUR) == money("123.45")
    assert Money.from_minor(-7, Currency.of("BHD")) == money("-0.007", "BHD")
    assert money("123.45").minor == 12345
    assert money("500", "JPY").minor == 500
    with pytest.raises(DomainError, match="minor units"):
        _ = money("1.005").minor


def test_arithmetic_is_exact_and_never_rounds_by_itself() -> None:
    assert money("0.1") + money("0.2") == money("0.3")
    assert money("10.00").times(Decimal("0.333")) == money("3.33")
    assert money("7.5").times(Decimal("1.5")).amount == Decimal("11.25")
    assert money("0.01") - money("0.02") == money("-0.01")
    assert money_sum([], USD) == Money.zero(USD)


def test_amounts_compare_by_value_and_currency() -> None:
    assert money("1.0") == money("1.00")
    assert money("1.00") < money("1.01")
    assert money("1.00") != Money.of("1.00", "USD")


# Refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: money_sum([a, b], a.currency),
    ],
    ids=["add", "subtract", "lt", "le", "gt", "ge", "sum"],
)
def test_amounts_in_different_currencies_never_combine(combine: Any) -> None:
    with pytest.raises(CurrencyMismatchError, match="EUR with USD"):
        combine(money("1.00"), Money.of("1.00", "USD"))


@pytest.mark.parametrize("code", ["XXX", "EURO", "eur", "", "ZWL", "HRK"])
def test_an_unknown_or_withdrawn_currency_is_refused(code: str) -> None:
    with pytest.raises(UnknownCurrencyError) as refused:
        Currency.of(code)
    assert refused.value.code == "unknown_currency"
    with pytest.raises(UnknownCurrencyError):
        Money.of("1", code)


def test_money_is_never_a_float() -> None:
    with pytest.raises(DomainError, match="float"):
        Money(0.1, EUR)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="float"):
        Money.of(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="float"):
        money("10.00").times(1.5)  # type: ignore[arg-type]


def test_money_is_a_frozen_value() -> None:
    amount = money("1.00")
    with pytest.raises(AttributeError):
        amount.amount = Decimal(2)  # type: ignore[misc]


# The ISO 4217 table against babel (CLDR) ---------------------------------------------------

# Where CLDR (and so babel's `get_currency_precision`) and ISO 4217 disagree. CLDR gives these
# currencies 0 digits because their minor units are not used in cash or in practice; ISO 4217,
# which e-invoices (EN 16931) and banks follow, still defines the minor units below, and our
# table follows ISO 4217 on purpose. CLDR changes its mind between releases (in CLDR 49, babel
# 2.19, RSD agrees with ISO again and COP, HUF and IDR no longer do), so a listed currency may
# also agree: the check fails only on a disagreement that is not listed here, or one that says
# something else than what is listed.
ISO_BEATS_CLDR: dict[str, tuple[int, int, str]] = {
    # code: (ISO 4217 minor units, CLDR digits, why they differ)
    "AFN": (2, 0, "afghani: puls not circulated"),
    "ALL": (2, 0, "lek: qindarka not circulated"),
    "COP": (2, 0, "Colombian peso: centavos not used in cash (CLDR 49)"),
    "HUF": (2, 0, "forint: fillér withdrawn (CLDR 49)"),
    "IDR": (2, 0, "rupiah: sen not used in practice (CLDR 49)"),
    "IQD": (3, 0, "Iraqi dinar: fils not circulated"),
    "IRR": (2, 0, "Iranian rial: dinars not circulated"),
    "KPW": (2, 0, "North Korean won: chon not circulated"),
    "LAK": (2, 0, "kip: att not circulated"),
    "LBP": (2, 0, "Lebanese pound: piastres not circulated"),
    "MGA": (2, 0, "ariary: ISO says 2 (the iraimbilanja is really 1/5)"),
    "MMK": (2, 0, "kyat: pyas not circulated"),
    "RSD": (2, 0, "Serbian dinar: para not circulated (CLDR before 49)"),
    "SOS": (2, 0, "Somali shilling: cents not circulated"),
    "SYP": (2, 0, "Syrian pound: piastres not circulated"),
    "YER": (2, 0, "Yemeni rial: fils not circulated"),
}

# Currencies babel says are legal tender today that we deliberately leave out of the table.
# Empty: every currency in circulation must be billable.
NOT_IN_TABLE_ON_PURPOSE: dict[str, str] = {}


def test_every_currency_in_the_table_is_one_babel_knows() -> None:
    unknown = [code for code in ISO_4217_MINOR_UNITS if not babel.numbers.is_currency(code)]
    assert not unknown, f"babel does not know {unknown}"


def unexplained_disagreements(cldr_digits: dict[str, int]) -> list[str]:
    """Each currency where CLDR's digits differ from our ISO 4217 table in a way that
    `ISO_BEATS_CLDR` does not explain, as a sentence naming both sources."""
    unexplained = []
    for code, ours in sorted(ISO_4217_MINOR_UNITS.items()):
        theirs = cldr_digits[code]
        if theirs == ours:
            continue
        known = ISO_BEATS_CLDR.get(code)
        if known is None or known[:2] != (ours, theirs):
            unexplained.append(
                f"{code}: ISO 4217 (our table) says {ours} minor units, "
                f"CLDR (babel {babel.__version__}) says {theirs}"
            )
    return unexplained


def test_every_currency_in_the_table_has_babels_precision_except_where_iso_differs() -> None:
    cldr = {code: babel.numbers.get_currency_precision(code) for code in ISO_4217_MINOR_UNITS}
    unexplained = unexplained_disagreements(cldr)
    assert not unexplained, (
        "new disagreement(s) between ISO 4217 and CLDR; check ISO 4217, then fix the table "
        "or explain the difference in ISO_BEATS_CLDR:\n" + "\n".join(unexplained)
    )


def test_a_new_disagreement_names_the_currency_and_both_sources() -> None:
    cldr = dict(ISO_4217_MINOR_UNITS)
    cldr["EUR"] = 0
    cldr["IQD"] = 2  # listed, but CLDR now says something else than what is explained
    cldr["COP"] = 0  # listed and explained: no complaint
    assert unexplained_disagreements(cldr) == [
        f"EUR: ISO 4217 (our table) says 2 minor units, CLDR (babel {babel.__version__}) says 0",
        f"IQD: ISO 4217 (our table) says 3 minor units, CLDR (babel {babel.__version__}) says 2",
    ]


def test_the_documented_disagreements_are_all_in_the_table() -> None:
    for code, (iso, _cldr, _why) in ISO_BEATS_CLDR.items():
        assert Currency.of(code).minor_units == iso


def legal_tender_on(day: date) -> set[str]:
    """Every currency babel (CLDR) says is legal tender somewhere on `day`."""
    territories = babel.Locale("en").territories
    return {
        code
        for territory in territories
        for code in babel.numbers.get_territory_currencies(str(territory), day, tender=True)
    }


def test_babels_territory_data_is_rich_enough_to_be_a_check() -> None:
    tender = legal_tender_on(date(2026, 1, 1))
    assert {"EUR", "USD", "JPY", "GBP", "BHD", "KWD", "CHF"} <= tender
    assert len(tender) > 140


def test_every_currency_that_is_legal_tender_today_is_in_the_table() -> None:
    tender = legal_tender_on(date.today())
    missing = sorted(tender - set(ISO_4217_MINOR_UNITS) - set(NOT_IN_TABLE_ON_PURPOSE))
    assert not missing, (
        f"babel {babel.__version__} says {missing} are legal tender today; "
        "add them to ISO_4217_MINOR_UNITS with their ISO 4217 minor units"
    )


# The ambient decimal context ---------------------------------------------------------------


def test_allocating_with_a_five_digit_ambient_precision_loses_no_cent() -> None:
    total = money("1000.01")
    with decimal.localcontext(prec=5, rounding=ROUND_DOWN):
        parts = allocate(total, [1])
        from_minor = Money.from_minor(100001, EUR)
    assert amounts(parts) == ["1000.01"]
    assert str(from_minor.amount) == "1000.01"


def test_a_round_down_ambient_context_changes_no_rounding() -> None:
    with decimal.localcontext(rounding=ROUND_DOWN):
        rounded = money("2.345").quantized()
        parts = allocate(money("0.05"), [30, 70])
        taxed = money("0.03").times(Decimal("0.20")).quantized()
    assert str(rounded.amount) == "2.35"
    assert amounts(parts) == ["0.02", "0.03"]
    assert str(taxed.amount) == "0.01"
