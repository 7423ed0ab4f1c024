"""Accounting periods: open or closed, and the lock that keeps closed periods untouched.

Closing a period freezes it: nothing is posted, voided or credited on a date inside it.
Reopening is a separate, audited action that names who did it and why. A date that falls in no
known period counts as open, so a firm that has not yet set up its calendar is never blocked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

import attrs

from domain.errors import DomainError, PeriodClosedError
from domain.ids import UserId
from domain.lifecycle import Lifecycled, LifecycleTable
from domain.period import Period


class PeriodState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PeriodTrigger(StrEnum):
    CLOSE = "close"
    REOPEN = "reopen"


ACCOUNTING_PERIOD_LIFECYCLE: LifecycleTable[PeriodState, PeriodTrigger] = LifecycleTable(
    "accounting period",
    PeriodState,
    PeriodTrigger,
    [
        (PeriodTrigger.CLOSE, PeriodState.OPEN, PeriodState.CLOSED),
        (PeriodTrigger.REOPEN, PeriodState.CLOSED, PeriodState.OPEN),
    ],
)


class PeriodNotEndedError(DomainError):
    """A period can be closed only once its last day has come."""

    code = "period_not_ended"


class ReopenReasonRequiredError(DomainError):
    """Reopening a closed period is audited and always states a reason."""

    code = "reopen_reason_required"


# Events ------------------------------------------------------------------------------------


@attrs.frozen
class PeriodClosed:
    period: Period
    by: UserId
    at: datetime


@attrs.frozen
class PeriodReopened:
    period: Period
    by: UserId
    reason: str
    at: datetime


# The entity --------------------------------------------------------------------------------


@attrs.define(slots=False, eq=False)
class AccountingPeriod(Lifecycled[PeriodState, PeriodTrigger, PeriodClosed | PeriodReopened]):
    """One accounting period. `closed_by`/`closed_at` describe the closure in force, if any;
    `reopen_reason` the latest reopening. Opening records no event: revision 0."""

    _lifecycle = ACCOUNTING_PERIOD_LIFECYCLE

    period: Period
    state: PeriodState
    closed_by: UserId | None = None
    closed_at: datetime | None = None
    reopen_reason: str | None = None
    revision: int = 0
    events: list[object] = attrs.field(factory=list)

    @classmethod
    def open(cls, period: Period) -> AccountingPeriod:
        """A period starts open."""
        return cls(period, PeriodState.OPEN)

    @property
    def is_closed(self) -> bool:
        return self.state is PeriodState.CLOSED

    def close(self, by: UserId, today: date, at: datetime) -> None:
        """Only an open period whose last day has come can be closed."""
        dest = self._next(PeriodTrigger.CLOSE)
        if self.period.end > today:
            raise PeriodNotEndedError(
                f"accounting period {self.period} ends on {self.period.end} "
                f"and cannot be closed on {today}"
            )
        self.closed_by = by
        self.closed_at = at
        self._move(dest, PeriodClosed(self.period, by, at))

    def reopen(self, by: UserId, reason: str, at: datetime) -> None:
        """A closed period is reopened only by a named person for a stated reason."""
        dest = self._next(PeriodTrigger.REOPEN)
        if not reason.strip():
            raise ReopenReasonRequiredError(
                f"reopening accounting period {self.period} needs a reason"
            )
        self.closed_by = None
        self.closed_at = None
        self.reopen_reason = reason
        self._move(dest, PeriodReopened(self.period, by, reason, at))


@attrs.frozen
class PeriodLock:
    """The closed periods at one moment; posting, voiding and crediting ask it first."""

    closed: frozenset[Period] = frozenset()

    @classmethod
    def of(cls, periods: Iterable[AccountingPeriod]) -> PeriodLock:
        """The lock made by whichever of these periods are closed."""
        return cls(frozenset(p.period for p in periods if p.is_closed))

    def closed_period_containing(self, on: date) -> Period | None:
        """The closed period a date falls in, if any (the earliest, should periods overlap)."""
        return min((p for p in self.closed if p.contains(on)), default=None)

    def is_open_on(self, on: date) -> bool:
        return self.closed_period_containing(on) is None

    def check(self, on: date, action: str) -> None:
        """Refuse to `action` anything dated inside a closed accounting period."""
        period = self.closed_period_containing(on)
        if period is not None:
            raise PeriodClosedError(
                f"cannot {action} on {on}: accounting period {period} is closed"
            )


def ensure_open(periods: Iterable[AccountingPeriod], on: date, action: str = "post") -> None:
    """A date inside a closed period is refused; a date in no known period counts as open."""
    PeriodLock.of(periods).check(on, action)
