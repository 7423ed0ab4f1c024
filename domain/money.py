"""Money: `Decimal` amounts in an ISO 4217 currency, explicit rounding, exact allocation.

Nothing here reads the ambient decimal context: every operation that could round names its
own context or rounding mode, so a caller that sets `decimal.getcontext().rounding` to
something else gets identical results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from fractions import Fraction
from math import lcm
from typing import Final

import attrs

from domain.errors import CurrencyMismatchError, DomainError, UnknownCurrencyError

#: The rounding mode of every document boundary (line, tax, total), named once.
DOCUMENT_ROUNDING: Final = ROUND_HALF_UP

#: The context for intermediate arithmetic: wide enough that products of realistic hours,
#: rates and percentages are exact, and independent of whatever the caller has set.
EXACT: Final = Context(
    prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

#: ISO 4217 minor units of every active currency (List One), fund codes included.
# fmt: off
ISO_4217_MINOR_UNITS: Final[dict[str, int]] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
    "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2,
    "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2,
    "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2,
    "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2,
    "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
    "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2,
    "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2,
    "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2,
    "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2,
    "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2,
    "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2,
    "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
    "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2,
    "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2,
    "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2, "VED": 2, "VES": 2,
    "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCG": 2, "XCD": 2, "XOF": 0, "XPF": 0, "YER": 2,
    "ZAR": 2, "ZMW": 2, "ZWG": 2,
}
# fmt: on


@attrs.frozen
class Currency:
    """An ISO 4217 currency and the number of decimals its documents carry."""

    code: str
    minor_units: int

    @classmethod
    def of(cls, code: str) -> Currency:
        """Look a currency up by its ISO 4217 code; unknown codes are refused."""
        try:
            return cls(code, ISO_4217_MINOR_UNITS[code])
        except KeyError:
            raise UnknownCurrencyError(f"{code!r} is not an active ISO 4217 currency") from None

    @property
    def exponent(self) -> Decimal:
        """The quantum of one minor unit: 0.01 for USD, 1 for JPY, 0.001 for BHD."""
        return Decimal(1).scaleb(-self.minor_units)

    def __str__(self) -> str:
        return self.code


def _as_decimal(value: Decimal | int | str) -> Decimal:
    if value.__class__ is Decimal:  # the usual case, first: every Money built passes here
        return value
    if isinstance(value, float):  # pragma: no cover - guarded by typing, kept for callers
        raise DomainError("money is never a float")
    return value if isinstance(value, Decimal) else Decimal(value)


@attrs.frozen(order=False)
class Money:
    """An exact amount in one currency; rounding happens only where named."""

    amount: Decimal = attrs.field(converter=_as_decimal)
    currency: Currency

    @classmethod
    def zero(cls, currency: Currency) -> Money:
        """Nothing, in a currency."""
        return cls(Decimal(0), currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, code: str) -> Money:
        """Shorthand: `Money.of("100.00", "EUR")`."""
        return cls(_as_decimal(amount), Currency.of(code))

    @classmethod
    def from_minor(cls, minor: int, currency: Currency) -> Money:
        """An amount given in integer minor units (cents, fils, yen)."""
        return cls(Decimal(minor).scaleb(-currency.minor_units, context=EXACT), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(EXACT.minus(self.amount), self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Exact product (no rounding): hours × rate, amount × percentage."""
        return Money(EXACT.multiply(self.amount, _as_decimal(factor)), self.currency)

    def quantized(self, rounding: str = DOCUMENT_ROUNDING) -> Money:
        """Round to the currency's minor units, half-up unless told otherwise."""
        exact = self.amount.quantize(self.currency.exponent, rounding=rounding, context=EXACT)
        return Money(exact, self.currency)

    @property
    def minor(self) -> int:
        """The amount in integer minor units; the amount must already be quantized."""
        scaled = self.amount.scaleb(self.currency.minor_units, context=EXACT)
        if scaled != scaled.to_integral_value(context=EXACT):
            raise DomainError(f"{self} is not a whole number of minor units")
        return int(scaled)

    def is_zero(self) -> bool:
        return self.amount.is_zero()

    def is_positive(self) -> bool:
        return self.amount > 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount:,.{self.currency.minor_units}f} {self.currency.code}"


def dsum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum of decimals, whatever the ambient context says."""
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def money_sum(items: Iterable[Money], currency: Currency) -> Money:
    """Exact sum of amounts in one currency (zero for none)."""
    total = Decimal(0)
    for item in items:
        if item.currency != currency:
            raise CurrencyMismatchError(f"cannot combine {currency} with {item.currency}")
        total = EXACT.add(total, item.amount)
    return Money(total, currency)


def largest_remainder(total: int, weights: Sequence[Decimal | int | Fraction]) -> list[int]:
    """Split an integer total in proportion to weights; parts sum exactly to the total.

    Each part gets the floor of its exact share; the units left over go to the parts with the
    largest remainders, ties broken by position (earlier first). Negative totals split their
    magnitude and are negated, so a credit allocates exactly like the charge it reverses.
    """
    if not weights:
        raise DomainError("cannot allocate over no weights")
    # The weights over one common denominator: the shares are then integer quotients, exactly
    # the rational shares (the denominator cancels), without a Fraction per weight and share.
    ratios = [w.as_integer_ratio() for w in weights]
    common = lcm(*(d for _, d in ratios))
    scaled = [n * (common // d) for n, d in ratios]
    if any(w < 0 for w in scaled):
        raise DomainError("allocation weights cannot be negative")
    weight_sum = sum(scaled)
    if weight_sum == 0:
        raise DomainError("allocation weights sum to zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [magnitude * w for w in scaled]  # each share, times weight_sum
    parts = [share // weight_sum for share in shares]
    remainders = [share - part * weight_sum for share, part in zip(shares, parts, strict=True)]
    left_over = magnitude - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:left_over]:
        parts[i] += 1
    return [sign * p for p in parts]


def allocate(total: Money, weights: Sequence[Decimal | int | Fraction]) -> list[Money]:
    """Split money by weights on integer minor units (largest remainder, ties by order)."""
    quantum = total.quantized()
    if quantum != total:
        raise DomainError(f"{total.amount} is not a whole number of {total.currency} minor units")
    return [Money.from_minor(p, total.currency) for p in largest_remainder(total.minor, weights)]
