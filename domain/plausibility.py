"""Plausibility: what delivered time, expenses, payments and billing periods can be, whatever
the contract says.

A contract's own rules (dates inside the contract, rates, caps) belong to its billing model.
These rules hold for every contract, because they describe the world, not the deal; each has
a stable reason code:

- `hours_not_positive`: an entry's hours are more than zero.
- `hours_too_precise`: hours carry at most two decimals (0.01 h, the precision time apps
  send); a finer value is a unit or rounding error upstream, never time someone worked.
- `day_over_24_hours`: one person's hours on one day, across every engagement, batch and
  source, never pass 24. Where it matters which entry of a full day is refused, entries are
  taken in billing order (work date, then id) within a batch; what is already recorded stays.
- `future_date`: work, expenses and payments are facts that have happened: dated at most the
  policy's tolerance after today (a time zone ahead, a PSA that stamps tomorrow), never later.
- `period_not_started`: a billing run bills only a period that has begun.

Each rule is a pure function over values; "today" is an argument (the handler reads the clock).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs

from domain.errors import DomainError
from domain.money import EXACT
from domain.period import Period

#: Hours in a day: no person's day holds more.
HOURS_IN_A_DAY = Decimal(24)
#: Days after today a fact may be dated, unless the deployment says otherwise.
DEFAULT_FUTURE_TOLERANCE_DAYS = 1


class HoursNotPositiveError(DomainError):
    """Time worked is more than nothing."""

    code = "hours_not_positive"


class HoursTooPreciseError(DomainError):
    """Hours carry at most two decimals (0.01 h)."""

    code = "hours_too_precise"


class DayOver24HoursError(DomainError):
    """A person's hours on one day, everything recorded included, never pass 24."""

    code = "day_over_24_hours"


class FutureDateError(DomainError):
    """Work, expenses and payments cannot be dated beyond the tolerance after today."""

    code = "future_date"


class PeriodNotStartedError(DomainError):
    """A billing run cannot bill a period that has not begun."""

    code = "period_not_started"


def check_hours(hours: Decimal) -> None:
    """Hours are positive and carry at most two decimals."""
    if not hours.is_finite() or hours <= 0:
        raise HoursNotPositiveError(f"{hours:f} h is not a positive number of hours")
    _sign, digits, exponent = hours.as_tuple()
    assert isinstance(exponent, int)  # finite
    beyond = -exponent - 2  # fractional digits past the second (exact, whatever the context)
    if beyond > 0 and any(digits[-beyond:]):
        raise HoursTooPreciseError(
            f"{hours:f} h is finer than 0.01 h; hours carry at most two decimals"
        )


def check_person_day(resource_id: str, day: date, recorded: Decimal, hours: Decimal) -> None:
    """The hours already recorded for the person's day plus these stay within 24."""
    total = EXACT.add(recorded, hours)
    if total > HOURS_IN_A_DAY:
        raise DayOver24HoursError(
            f"{resource_id} would have {total} h on {day.isoformat()} ({recorded} h already "
            f"recorded + {hours} h); a day holds at most 24 h"
        )


def check_not_future(on: date, today: date, tolerance_days: int, what: str) -> None:
    """A fact is dated at most `tolerance_days` after today."""
    latest = today + timedelta(days=tolerance_days)
    if on > latest:
        raise FutureDateError(
            f"{what} is {on.isoformat()}, in the future: today is {today.isoformat()}, and "
            f"nothing can be dated after {latest.isoformat()}"
        )


def check_period_started(period: Period, today: date) -> None:
    """The period's first day is today or earlier."""
    if period.start > today:
        raise PeriodNotStartedError(
            f"period {period.key} starts on {period.start.isoformat()}, after today "
            f"({today.isoformat()}): a billing or revenue run covers only a period that has "
            "begun"
        )


def _tolerance(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a tolerance is a whole number of days from 0, not {value!r}")
    return value


@attrs.frozen
class PlausibilityPolicy:
    """The deployment's settings of the rules above (today only the future tolerance)."""

    future_tolerance_days: int = attrs.field(
        default=DEFAULT_FUTURE_TOLERANCE_DAYS, converter=_tolerance
    )

    def refuse_future(self, on: date, today: date, what: str) -> None:
        """A fact is dated at most the policy's tolerance after today."""
        check_not_future(on, today, self.future_tolerance_days, what)
