"""Money is conserved by allocation, every part stays within one minor unit of its exact share,
and nothing depends on the caller's decimal context."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import money
from domain.money import ISO_4217_MINOR_UNITS, Currency, Money, allocate, money_sum

currencies = st.sampled_from(sorted(ISO_4217_MINOR_UNITS)).map(Currency.of)
# Totals in minor units: from a cent to more than a billion in a two-decimal currency.
minor_totals = st.integers(min_value=-(10**14), max_value=10**14)
totals = st.builds(Money.from_minor, minor_totals, currencies)
weight_values = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    st.fractions(min_value=0, max_value=100, max_denominator=97),
)
weight_lists = st.lists(weight_values, min_size=1, max_size=12).filter(
    lambda ws: sum(Fraction(w) for w in ws) > 0
)


def exact_shares(total: Money, weights: list[Decimal | int | Fraction]) -> list[Fraction]:
    """Each part's exact pro-rata share, in minor units."""
    fractions = [Fraction(w) for w in weights]
    return [total.minor * w / sum(fractions) for w in fractions]


@settings(max_examples=300)
@given(total=totals, weights=weight_lists)
def test_allocation_conserves_money_exactly(
    total: Money, weights: list[Decimal | int | Fraction]
) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert money_sum(parts, total.currency) == total
    assert all(p.currency == total.currency for p in parts)
    assert all(p.quantized() == p for p in parts), "every part is whole minor units"


@settings(max_examples=300)
@given(total=totals, weights=weight_lists)
def test_every_part_is_within_one_minor_unit_of_its_exact_share(
    total: Money, weights: list[Decimal | int | Fraction]
) -> None:
    for part, share in zip(allocate(total, weights), exact_shares(total, weights), strict=True):
        assert abs(part.minor - share) < 1
        # Largest remainder never rounds a part away from zero past its share's ceiling.
        assert (part.minor >= 0) if total.minor >= 0 else (part.minor <= 0)


@settings(max_examples=200)
@given(total=totals, weights=weight_lists)
def test_a_negative_total_allocates_as_the_mirror_of_the_positive_one(
    total: Money, weights: list[Decimal | int | Fraction]
) -> None:
    assert [-p for p in allocate(-total, weights)] == allocate(total, weights)


def rational_split(total: int, weights: list[Decimal | int | Fraction]) -> list[int]:
    """The rule in rationals: floors of the exact shares, then one unit each to the largest
    remainders, ties to the earlier part, the sign of the total applied last."""
    shares = [abs(total) * Fraction(w) / sum(Fraction(v) for v in weights) for w in weights]
    parts = [s.numerator // s.denominator for s in shares]
    ranked = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in ranked[: abs(total) - sum(parts)]:
        parts[i] += 1
    return [-p if total < 0 else p for p in parts]


@settings(max_examples=400)
@given(minor=minor_totals, weights=weight_lists)
def test_the_split_over_a_common_denominator_is_the_split_in_rationals(
    minor: int, weights: list[Decimal | int | Fraction]
) -> None:
    assert money.largest_remainder(minor, weights) == rational_split(minor, weights)


@given(minor=minor_totals, size=st.integers(2, 9))
def test_equal_weights_give_the_left_over_units_to_the_first_parts(minor: int, size: int) -> None:
    parts = money.largest_remainder(minor, [Decimal("0.5")] * size)
    magnitude = [abs(p) for p in parts]
    assert magnitude == sorted(magnitude, reverse=True)
    assert max(magnitude) - min(magnitude) <= 1


# The ambient decimal context -----------------------------------------------------------------

# The domain names its own context (`domain.money.EXACT`) everywhere: a caller that sets the
# rounding mode or a tiny precision must get exactly the same amounts, digit for digit.
HOSTILE_CONTEXTS = pytest.mark.parametrize(
    "hostile_context",
    [
        lambda: decimal.localcontext(rounding=ROUND_DOWN),
        lambda: decimal.localcontext(prec=5),
        lambda: decimal.localcontext(prec=5, rounding=ROUND_HALF_EVEN),
    ],
    ids=["ROUND_DOWN", "prec=5", "prec=5 ROUND_HALF_EVEN"],
)
Hostile = Callable[[], AbstractContextManager[decimal.Context]]


def same_digits(got: object, expected: object) -> None:
    """Equal values and equal representations (1000.00 is not 1.0000E+3 on a document)."""
    assert got == expected
    assert repr(got) == repr(expected)


@HOSTILE_CONTEXTS
@settings(max_examples=200)
@given(total=totals, weights=weight_lists)
def test_allocation_is_identical_whatever_the_callers_decimal_context(
    hostile_context: Hostile,
    total: Money,
    weights: list[Decimal | int | Fraction],
) -> None:
    expected = allocate(total, weights)
    with hostile_context():
        got = allocate(total, weights)
    same_digits(got, expected)


@HOSTILE_CONTEXTS
@settings(max_examples=200)
@given(currency=currencies, minor=minor_totals)
def test_amounts_from_minor_units_are_identical_whatever_the_callers_decimal_context(
    hostile_context: Hostile, currency: Currency, minor: int
) -> None:
    expected = Money.from_minor(minor, currency)
    with hostile_context():
        got = Money.from_minor(minor, currency)
    same_digits(got, expected)


@HOSTILE_CONTEXTS
@settings(max_examples=200)
@given(
    currency=currencies,
    a=st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    b=st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
    factor=st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False),
)
def test_arithmetic_and_rounding_are_identical_whatever_the_callers_decimal_context(
    hostile_context: Hostile, currency: Currency, a: Decimal, b: Decimal, factor: Decimal
) -> None:
    x, y = Money(a, currency), Money(b, currency)

    def compute() -> Iterator[object]:
        yield x + y, x - y, -x
        yield x.times(factor), x.times(factor).quantized()
        yield x.quantized(), y.quantized(ROUND_DOWN)
        yield money_sum([x, y, x], currency)
        yield x.quantized().minor
        yield x < y, x == y

    expected = list(compute())
    with hostile_context():
        got = list(compute())
    same_digits(got, expected)
