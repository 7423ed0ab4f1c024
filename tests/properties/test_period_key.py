"""A period's key names a calendar month exactly when the period is one, told without building
the month (a billing run asks for it on every document)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.period import Period


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9998, 1, 1)), st.integers(0, 400))
def test_the_key_is_the_month_exactly_when_the_period_is_that_month(start: date, days: int) -> None:
    period = Period(start, start + timedelta(days=days))
    if period == Period.month_of(start):
        assert period.key == f"{start:%Y-%m}"
    else:
        assert period.key == f"{period.start.isoformat()}..{period.end.isoformat()}"


@given(st.integers(1000, 9998), st.integers(1, 12))
def test_every_calendar_month_is_keyed_by_its_year_and_month(year: int, month: int) -> None:
    assert Period.month(year, month).key == f"{year:04d}-{month:02d}"
