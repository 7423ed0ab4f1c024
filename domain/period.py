"""Date ranges: billing periods, retainer periods, service periods (inclusive of both ends)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

import attrs

from domain.errors import DomainError


@attrs.frozen(order=True)
class Period:
    """An inclusive range of calendar days."""

    start: date
    end: date

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise DomainError(f"period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """The calendar month, first to last day."""
        last = calendar.monthrange(year, month)[1]
        return cls(date(year, month, 1), date(year, month, last))

    @classmethod
    def month_of(cls, day: date) -> Period:
        """The calendar month containing a day."""
        return cls.month(day.year, day.month)

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """`YYYY-MM` to the calendar month."""
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.month(year, month)
        except (ValueError, calendar.IllegalMonthError):
            raise DomainError(f"{text!r} is not a month in the form YYYY-MM") from None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def key(self) -> str:
        """A stable label: `2026-03` for a calendar month, `start..end` otherwise."""
        start, end = self.start, self.end
        # A calendar month, told without building one (every document of a run asks).
        if (
            start.day == 1
            and (end.year, end.month) == (start.year, start.month)
            and end.day == calendar.monthrange(start.year, start.month)[1]
        ):
            return f"{start:%Y-%m}"
        return f"{start.isoformat()}..{end.isoformat()}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlap(self, other: Period) -> Period | None:
        """The days both periods share, if any."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None

    def served(self, start: date, end: date | None) -> Period | None:
        """The days of this period a service from `start` covers, through `end` or open-ended."""
        last = end if end is not None else self.end
        if last < start:
            return None
        return self.overlap(Period(start, last))

    def next(self) -> Period:
        """The following calendar month (for monthly periods)."""
        return Period.month_of(self.end + timedelta(days=1))

    def months(self) -> Iterator[Period]:
        """The calendar months this period touches, in order."""
        current = Period.month_of(self.start)
        while current.start <= self.end:
            yield current
            current = current.next()

    def __str__(self) -> str:
        return self.key
