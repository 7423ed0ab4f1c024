"""Strict reading of one JSON object of a webhook payload, problem by problem.

Each mapping reads the fields it documents through `JsonObject`; every field read is checked
(type, format, length), every field never read is an unknown field, and each problem is kept
with its JSON pointer (RFC 6901) into the message body, so one answer names all of them. The
values a reader returns for a bad field are placeholders: a mapping builds its commands only
after `Problems.raise_if_any()` found nothing.

Amounts and quantities are decimal strings ("1200.00"), never JSON numbers: a binary float
cannot hold most decimal amounts exactly, and a sender that writes numbers will one day send
`1199.9999999`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, Final, TypeVar

from adapters.serialization_hooks import PLAIN_DECIMAL
from application.errors import PayloadError
from domain.errors import UnknownCurrencyError
from domain.money import Currency, Money

ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_TEXT: Final = 2000
MAX_ID: Final = 200
AMOUNT_AS_NUMBER: Final = 'an amount is a decimal string like "1200.00", never a JSON number'


def escape(token: str) -> str:
    """One JSON pointer reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def kind(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class Problems:
    """Every problem found in one message, in reading order."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, pointer: str, detail: str) -> None:
        if (pointer, detail) not in self.items:
            self.items.append((pointer, detail))

    def at(self, pointer: str) -> bool:
        return any(p == pointer for p, _ in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise PayloadError(self.items)


_MISSING: Final = object()
T = TypeVar("T")


class JsonObject:
    """One JSON object read strictly; `finish()` reports the fields nobody read."""

    def __init__(self, value: object, pointer: str, problems: Problems) -> None:
        self.pointer, self.problems = pointer, problems
        self._valid = isinstance(value, dict)
        self._fields: dict[str, Any] = value if isinstance(value, dict) else {}
        if not self._valid:
            problems.add(pointer, f"expected an object, got {kind(value)}")
        self._read: set[str] = set()

    def at(self, name: str) -> str:
        return f"{self.pointer}/{escape(name)}"

    def _take(self, name: str, required: bool) -> Any:
        self._read.add(name)
        if name in self._fields:
            return self._fields[name]
        if required and self._valid:  # no object at all was reported once, as such
            self.problems.add(self.at(name), "required")
        return _MISSING

    def _bad(self, name: str, detail: str) -> None:
        self.problems.add(self.at(name), detail)

    def _typed(self, name: str, required: bool, default: T, json_type: type[T], said: str) -> T:
        """The field when it has `json_type`; `default` when it is absent, or when it has
        another type (a problem then, saying what was `said` to be expected)."""
        value = self._take(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, json_type):
            self._bad(name, f"expected {said}, got {kind(value)}")
            return default
        return value

    # Scalars --------------------------------------------------------------------------------

    def text(
        self, name: str, *, required: bool = True, default: str = "", max_length: int = MAX_TEXT
    ) -> str:
        value = self._typed(name, required, default, str, "a string")
        if len(value) > max_length:
            self._bad(name, f"at most {max_length} characters")
        return value

    def identifier(self, name: str, *, required: bool = True, default: str = "") -> str:
        """An id: a non-empty string of at most 200 characters, no surrounding space, no
        control characters."""
        value = self.text(name, required=required, default=default, max_length=MAX_ID)
        given = isinstance(self._fields.get(name), str)
        if given and (not value or value != value.strip() or not value.isprintable()):
            self._bad(name, "an id is non-empty printable text without surrounding spaces")
        return value

    def required_text(self, name: str) -> str:
        """Free text that must say something (a reason, evidence)."""
        value = self.text(name)
        if name in self._fields and isinstance(self._fields[name], str) and not value.strip():
            self._bad(name, "must not be empty")
        return value

    def decimal(
        self, name: str, *, required: bool = True, positive: bool = False
    ) -> Decimal | None:
        value = self._take(name, required)
        if value is _MISSING or (value is None and not required):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._bad(name, f"{AMOUNT_AS_NUMBER} (got {value!r})")
            return None
        if not isinstance(value, str) or not PLAIN_DECIMAL.fullmatch(value):
            shown = repr(value) if isinstance(value, str) else kind(value)
            self._bad(name, f'expected a decimal string like "7.50", got {shown}')
            return None
        amount = Decimal(value)
        if positive and amount <= 0:
            self._bad(name, "must be greater than zero")
        return amount

    def day(self, name: str) -> date:
        value = self._take(name, True)
        if value is _MISSING:
            return date.min
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                self._bad(name, f"{value!r} is not a calendar date")
                return date.min
        self._bad(name, f'expected a date like "2026-03-31", got {kind(value)}')
        return date.min

    def boolean(self, name: str, default: bool) -> bool:
        return self._typed(name, False, default, bool, "true or false")

    def integer(self, name: str, minimum: int) -> int:
        value = self._take(name, True)
        if value is _MISSING:
            return minimum
        if type(value) is not int:
            self._bad(name, f"expected a whole number, got {kind(value)}")
            return minimum
        if value < minimum:
            self._bad(name, f"at least {minimum}")
        return value

    def currency(self, name: str) -> Currency | None:
        code = self.text(name, max_length=3)
        if name not in self._fields or not isinstance(self._fields[name], str):
            return None
        try:
            return Currency.of(code)
        except UnknownCurrencyError as error:
            self._bad(name, str(error))
            return None

    def money(self, amount_name: str, currency_name: str, *, positive: bool = True) -> Money | None:
        """An amount (positive unless told) in a currency, with no more decimals than the
        currency has."""
        amount = self.decimal(amount_name, positive=positive)
        currency = self.currency(currency_name)
        if amount is None or currency is None:
            return None
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > currency.minor_units:
            self._bad(amount_name, f"{currency} has {currency.minor_units} decimals, not more")
            return None
        return Money(amount, currency)

    # Structure ------------------------------------------------------------------------------

    def raw(self, name: str) -> Any:
        """The value as parsed (None when missing, which is reported), for a field another
        reader structures."""
        value = self._take(name, True)
        return None if value is _MISSING else value

    def objects(self, name: str, *, max_items: int, required: bool = True) -> Iterator[JsonObject]:
        """The objects of a non-empty array of at most `max_items` (an optional one may be
        missing or empty)."""
        value = self._take(name, required)
        if value is _MISSING:
            return
        if not isinstance(value, list):
            self._bad(name, f"expected an array, got {kind(value)}")
            return
        if not value and required:
            self._bad(name, "at least one item")
        if len(value) > max_items:
            self._bad(name, f"at most {max_items} items in one message, got {len(value)}")
            return
        for index, item in enumerate(value):
            yield JsonObject(item, f"{self.at(name)}/{index}", self.problems)

    def whole(self) -> dict[str, Any]:
        """Every field as sent, all of them read: for an object another strict reader checks
        (a declared delivery kind's record, ADR 0050)."""
        self._read.update(self._fields)
        return dict(self._fields)

    def finish(self) -> None:
        for name in self._fields:
            if name not in self._read:
                self.problems.add(self.at(name), "unknown field")
