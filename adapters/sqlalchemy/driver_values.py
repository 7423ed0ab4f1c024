"""Values as the driver gives and takes them, for the bulk paths that skip Core's type
processors (`codec`, `billing_reads`, the ledger's write): the same checks and the same
stored forms as `types.ExactDecimal` and SQLAlchemy's `Date`, at a fraction of the cost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

#: Distinct texts a parse-once table keeps before it starts again.
LIMIT = 4096


class ExactText(dict[Any, Any]):
    """The exact decimal a stored value reads as, each distinct text parsed once.

    The bulk read takes the exact columns as the driver gives them (the decimal's text on
    SQLite, a `Decimal` on PostgreSQL) instead of through `ExactDecimal` value by value: a
    time entry has six of them and they repeat (hours in quarters, zeros for the decisions),
    so a billing run over 200k entries parses a few dozen texts, not 1.2 million, and its
    entries share the parsed values (a `Decimal` is immutable). Texts are the cache's keys,
    so "1.0" and "1.00" stay apart; anything else is passed through or refused, as
    `ExactDecimal` does.
    """

    def __missing__(self, value: Any) -> Decimal | None:
        if type(value) is str:
            if len(self) >= LIMIT:
                self.clear()
            parsed = self[value] = Decimal(value)
            return parsed
        if value is None or isinstance(value, Decimal):
            return value
        raise TypeError(f"the database returned a {type(value).__name__} for an exact column")


class DayText(dict[Any, date]):
    """A stored day as a date, each distinct ISO text parsed once (a date passes through)."""

    def __missing__(self, value: Any) -> date:
        if len(self) >= LIMIT:
            self.clear()
        if type(value) is str:
            parsed = self[value] = date.fromisoformat(value)
            return parsed
        if isinstance(value, date):
            self[value] = value
            return value
        raise TypeError(f"the database returned a {type(value).__name__} for a date column")


#: The parse-once tables the bulk reads share.
EXACT_TEXT = ExactText()
DAY_TEXT = DayText()


def exact_parameter(value: Decimal) -> Decimal:
    """An exact column's value as the driver takes it on PostgreSQL (`ExactDecimal`'s check)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"an exact column takes a finite Decimal, not {value!r}")
    return value


def exact_text(value: Decimal) -> str:
    """An exact column's value as stored on SQLite: the plain decimal string."""
    return format(exact_parameter(value), "f")
