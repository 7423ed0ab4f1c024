"""Accounting periods: the open/closed table, closing and audited reopening, and the period lock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from domain.accounting_period import (
    AccountingPeriod,
    PeriodClosed,
    PeriodLock,
    PeriodNotEndedError,
    PeriodReopened,
    PeriodState,
    PeriodTrigger,
    ReopenReasonRequiredError,
    ensure_open,
)
from domain.errors import PeriodClosedError
from domain.ids import UserId
from domain.period import Period
from tests.support.lifecycles import named

S = PeriodState
T = PeriodTrigger

MARCH = Period.month(2026, 3)
APRIL = Period.month(2026, 4)
CONTROLLER = UserId("controller")
AT = datetime(2026, 4, 3, 17, 0, tzinfo=UTC)
AFTER_MARCH = date(2026, 4, 3)

# Written by hand from the domain guide, section 4: not derived from the table under test.
EXPECTED: dict[tuple[PeriodState, PeriodTrigger], PeriodState] = {
    (S.OPEN, T.CLOSE): S.CLOSED,
    (S.CLOSED, T.REOPEN): S.OPEN,
}


CALLS: dict[PeriodTrigger, Callable[[AccountingPeriod], None]] = {
    T.CLOSE: lambda p: p.close(CONTROLLER, today=AFTER_MARCH, at=AT),
    T.REOPEN: lambda p: p.reopen(CONTROLLER, "late supplier invoice", AT),
}


def march_in(state: PeriodState) -> AccountingPeriod:
    period = AccountingPeriod.open(MARCH)
    if state is S.CLOSED:
        CALLS[T.CLOSE](period)
    assert period.state is state
    return period


# Closing -----------------------------------------------------------------------------------


def test_a_period_starts_open_with_nothing_recorded() -> None:
    period = AccountingPeriod.open(MARCH)
    assert period.state is S.OPEN
    assert not period.is_closed
    assert period.revision == 0
    assert period.events == []


def test_closing_records_who_closed_it_and_when() -> None:
    period = march_in(S.CLOSED)
    assert period.is_closed
    assert period.closed_by == CONTROLLER
    assert period.closed_at == AT
    assert period.events == [PeriodClosed(MARCH, CONTROLLER, AT)]


def test_a_period_can_be_closed_on_its_last_day() -> None:
    period = AccountingPeriod.open(MARCH)
    period.close(CONTROLLER, today=date(2026, 3, 31), at=AT)
    assert period.is_closed


@pytest.mark.parametrize(
    "today", [date(2026, 3, 30), date(2026, 3, 1), date(2026, 2, 1)], ids=named
)
def test_a_period_ending_in_the_future_cannot_be_closed(today: date) -> None:
    period = AccountingPeriod.open(MARCH)
    with pytest.raises(PeriodNotEndedError, match="ends on 2026-03-31") as refused:
        period.close(CONTROLLER, today=today, at=AT)
    assert refused.value.code == "period_not_ended"
    assert period.state is S.OPEN
    assert period.closed_by is None
    assert period.revision == 0


# Reopening ---------------------------------------------------------------------------------


def test_reopening_is_audited_with_who_and_why() -> None:
    period = march_in(S.CLOSED)
    reopened_at = datetime(2026, 4, 10, 8, 30, tzinfo=UTC)
    period.reopen(UserId("cfo"), "late supplier invoice", reopened_at)
    assert period.state is S.OPEN
    assert period.reopen_reason == "late supplier invoice"
    assert period.closed_by is None
    assert period.closed_at is None
    assert period.events[-1] == PeriodReopened(
        MARCH, UserId("cfo"), "late supplier invoice", reopened_at
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_reopening_without_a_reason_is_refused(reason: str) -> None:
    period = march_in(S.CLOSED)
    with pytest.raises(ReopenReasonRequiredError) as refused:
        period.reopen(CONTROLLER, reason, AT)
    assert refused.value.code == "reopen_reason_required"
    assert period.is_closed
    assert period.revision == 1


def test_a_reopened_period_can_be_closed_again() -> None:
    period = march_in(S.CLOSED)
    period.reopen(CONTROLLER, "late supplier invoice", AT)
    period.close(CONTROLLER, today=AFTER_MARCH, at=AT)
    assert period.is_closed
    assert period.revision == len(period.events) == 3
    assert [type(e) for e in period.events] == [PeriodClosed, PeriodReopened, PeriodClosed]


# The lock ----------------------------------------------------------------------------------


def test_nothing_is_posted_in_a_closed_period() -> None:
    periods = [march_in(S.CLOSED), AccountingPeriod.open(APRIL)]
    with pytest.raises(PeriodClosedError, match="2026-03 is closed") as refused:
        ensure_open(periods, date(2026, 3, 31))
    assert refused.value.code == "period_closed"


def test_an_open_period_accepts_postings() -> None:
    periods = [march_in(S.CLOSED), AccountingPeriod.open(APRIL)]
    ensure_open(periods, date(2026, 4, 1))


def test_a_date_in_no_known_period_counts_as_open() -> None:
    ensure_open([march_in(S.CLOSED)], date(2026, 5, 15))
    ensure_open([], date(2026, 3, 15))


def test_a_reopened_period_accepts_postings_again() -> None:
    period = march_in(S.CLOSED)
    period.reopen(CONTROLLER, "late supplier invoice", AT)
    ensure_open([period], date(2026, 3, 15))


def test_ensure_open_accepts_any_iterable_of_periods() -> None:
    with pytest.raises(PeriodClosedError):
        ensure_open((p for p in [march_in(S.CLOSED)]), date(2026, 3, 1))


@pytest.mark.parametrize("action", ["post", "void", "credit"])
def test_the_lock_names_the_refused_action_and_the_closed_period(action: str) -> None:
    lock = PeriodLock.of([march_in(S.CLOSED), AccountingPeriod.open(APRIL)])
    with pytest.raises(
        PeriodClosedError,
        match=f"cannot {action} on 2026-03-15: accounting period 2026-03 is closed",
    ):
        lock.check(date(2026, 3, 15), action)


def test_the_lock_holds_only_the_closed_periods() -> None:
    lock = PeriodLock.of([march_in(S.CLOSED), AccountingPeriod.open(APRIL)])
    assert lock.closed == frozenset({MARCH})
    assert not lock.is_open_on(date(2026, 3, 1))
    assert lock.is_open_on(date(2026, 4, 1))
    lock.check(date(2026, 4, 30), "post")


def test_an_empty_lock_refuses_nothing() -> None:
    lock = PeriodLock()
    assert lock.is_open_on(date(2026, 3, 15))
    lock.check(date(2026, 3, 15), "post")


def test_the_lock_is_a_value_that_later_changes_to_the_periods_do_not_alter() -> None:
    period = march_in(S.CLOSED)
    lock = PeriodLock.of([period])
    period.reopen(CONTROLLER, "late supplier invoice", AT)
    assert not lock.is_open_on(date(2026, 3, 15))
    assert lock == PeriodLock(frozenset({MARCH}))
