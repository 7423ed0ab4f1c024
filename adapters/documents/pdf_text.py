"""How the printable document writes text and figures.

Figures: an amount carries exactly its currency's minor digits (`1,234.50`, `150,000` JPY,
`12.345` BHD) with a comma every three digits; a unit price or a rate keeps the extra digits it
really has (`150.125`) and never fewer than the minor digits; a quantity is written without
trailing zeros (`7.5`); a tax rate is a percentage (`20%`, `7.5%`).

Text: the PDF uses the viewers' built-in Helvetica, whose encoding is Latin-1 (ADR 0038). A
character outside it is spelled with its Latin base letter (`Ł` as `L`, `ő` as `o`, `Œ` as
`OE`), or as `?` when it has none, and the text is marked with `*` so a reader knows the
printed spelling is not the exact one; the e-invoice carries the exact spelling. Typographic
quotes, dashes and spaces are printed as their plain equivalents, unmarked (no spelling changes).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Final

from domain.money import EXACT, Money

#: Appended to a text that had to be transliterated.
TRANSLITERATED: Final = "*"

#: Letters with no Latin-1 base letter in their Unicode decomposition.
_SPELLED: Final[dict[str, str]] = {
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "Œ": "OE",
    "œ": "oe",
    "Ŋ": "NG",
    "ŋ": "ng",
    "ſ": "s",
    "ƒ": "f",
    "Ə": "E",
    "ə": "e",
}

#: Typographic punctuation and spaces: printed as their plain equivalents without a mark, since
#: no spelling changes.
_PLAIN: Final[dict[str, str]] = {
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "…": "...",
    "•": "-",
    "€": "EUR",
    "\u2009": " ",
    "\u202f": " ",
}


def _latin1(char: str) -> bool:
    return ord(char) < 0x100


def _spell(char: str) -> str:
    """One character in Latin-1: itself, its base letter, its usual spelling, or `?`."""
    if _latin1(char):
        return char
    if char in _SPELLED:
        return _SPELLED[char]
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and all(_latin1(c) for c in base):
        return base
    return "?"


def printable(text: str) -> str:
    """The text as the Latin-1 font can print it, marked with `*` when a letter had to be
    transliterated; control characters become spaces, typographic punctuation plain."""
    plain = "".join(" " if unicodedata.category(c) == "Cc" else _PLAIN.get(c, c) for c in text)
    if all(_latin1(c) for c in plain):
        return plain
    return "".join(_spell(c) for c in plain) + TRANSLITERATED


def was_transliterated(text: str) -> bool:
    """Whether `printable` had to change the spelling of a text (and so marked it)."""
    return any(not _latin1(c) and c not in _PLAIN for c in text)


def _grouped(value: Decimal, places: int) -> str:
    fixed = value.quantize(Decimal(1).scaleb(-places), context=EXACT)
    if fixed.is_zero():
        fixed = fixed.copy_abs()
    return format(fixed, ",f")


def amount_text(money: Money) -> str:
    """A document amount with exactly its currency's minor digits (rounded half-up if it ever
    had more, the document rounding)."""
    return _grouped(money.quantized().amount, money.currency.minor_units)


def exact_text(money: Money) -> str:
    """A unit price or a rate: at least the currency's minor digits, more only where the value
    has them."""
    normal = money.amount.normalize(EXACT)
    exponent = normal.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return _grouped(money.amount, max(places, money.currency.minor_units))


def money_text(money: Money) -> str:
    """An amount with its ISO 4217 code: `1,234.50 EUR`."""
    return f"{amount_text(money)} {money.currency.code}"


def quantity_text(value: Decimal) -> str:
    """A quantity without trailing zeros: `7.5`, `40`, `1`."""
    return format(value.normalize(EXACT), "f")


def rate_text(fraction: Decimal) -> str:
    """A tax rate given as a fraction, as a percentage: 0.20 is `20%`, 0.075 is `7.5%`."""
    percent = EXACT.multiply(fraction, Decimal(100))
    return f"{quantity_text(percent)}%"


def date_text(day: date | None) -> str:
    """A date as ISO 8601 (unambiguous in every country), or a dash when there is none."""
    return day.isoformat() if day is not None else "-"


#: UN/ECE Recommendation 20 unit codes as the document names them.
UNIT_NAMES: Final[dict[str, str]] = {
    "HUR": "h",
    "DAY": "days",
    "MON": "months",
    "C62": "units",
    "ANN": "years",
    "WEE": "weeks",
}


def unit_text(code: str) -> str:
    """A unit code as a reader knows it (`HUR` is `h`); an unknown code as it is."""
    return UNIT_NAMES.get(code, code)
