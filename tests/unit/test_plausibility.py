"""The plausibility rules (ADR 0025) as pure functions, and the two billing rules they lean on:
a person's day under a daily cap is billed as a whole across runs, and a blocking cap's running
total is the same whether priced at once or entry by entry."""

from __future__ import annotations

import decimal
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing import ObligationHistory
from domain.errors import CapExceededError
from domain.ids import RateCardId
from domain.money import EXACT, dsum
from domain.period import Period
from domain.plausibility import (
    DayOver24HoursError,
    FutureDateError,
    HoursNotPositiveError,
    HoursTooPreciseError,
    PeriodNotStartedError,
    PlausibilityPolicy,
    check_hours,
    check_not_future,
    check_period_started,
    check_person_day,
)
from domain.time_and_materials import (
    BlockingCapAdmission,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
    admit_time_entry,
    price_entries,
)
from domain.time_entry import TimeEntry
from tests.support.builders import EUR, TM, contract, d, entry, rate_card

TODAY = date(2026, 3, 10)


# -- hours ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", ["7.5", "7.50", "7.500", "0.01", "0.25", "24", "13"])
def test_hours_with_at_most_two_decimals_are_plausible(hours: str) -> None:
    check_hours(Decimal(hours))


@pytest.mark.parametrize("hours", ["0.0000000001", "7.501", "0.001", "1.005", "1E-7"])
def test_hours_finer_than_a_hundredth_are_refused_as_too_precise(hours: str) -> None:
    with pytest.raises(HoursTooPreciseError) as refused:
        check_hours(Decimal(hours))
    assert refused.value.code == "hours_too_precise"
    assert "two decimals" in str(refused.value)
    assert "E" not in str(refused.value).split(" h ")[0]  # said as written out: 0.0000001 h


@pytest.mark.parametrize("hours", ["0", "-1", "-0.01", "0.00", "NaN", "Infinity", "-Infinity"])
def test_hours_that_are_not_positive_are_refused(hours: str) -> None:
    with pytest.raises(HoursNotPositiveError) as refused:
        check_hours(Decimal(hours))
    assert refused.value.code == "hours_not_positive"


def test_the_precision_rule_does_not_depend_on_the_ambient_decimal_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec, ctx.rounding = 3, decimal.ROUND_DOWN
        check_hours(Decimal("1234.25"))
        with pytest.raises(HoursTooPreciseError):
            check_hours(Decimal("1234.251"))


# -- a person's day ---------------------------------------------------------------------------


def test_two_13_hour_entries_make_a_day_no_one_works() -> None:
    check_person_day("r1", TODAY, Decimal(0), Decimal(13))
    with pytest.raises(DayOver24HoursError) as refused:
        check_person_day("r1", TODAY, Decimal(13), Decimal(13))
    assert refused.value.code == "day_over_24_hours"
    assert "26 h on 2026-03-10" in str(refused.value)
    assert "13 h already recorded" in str(refused.value)


def test_a_day_of_exactly_24_hours_is_plausible() -> None:
    check_person_day("r1", TODAY, Decimal("16.75"), Decimal("7.25"))


# -- dates ------------------------------------------------------------------------------------


def test_a_fact_may_be_dated_up_to_the_tolerance_after_today() -> None:
    check_not_future(TODAY, TODAY, 1, "the work date")
    check_not_future(TODAY + timedelta(days=1), TODAY, 1, "the work date")
    with pytest.raises(FutureDateError) as refused:
        check_not_future(TODAY + timedelta(days=2), TODAY, 1, "the work date of t1")
    assert refused.value.code == "future_date"
    assert str(refused.value) == (
        "the work date of t1 is 2026-03-12, in the future: today is 2026-03-10, and nothing "
        "can be dated after 2026-03-11"
    )


def test_a_tolerance_of_zero_refuses_tomorrow() -> None:
    policy = PlausibilityPolicy(future_tolerance_days=0)
    policy.refuse_future(TODAY, TODAY, "the payment date")
    with pytest.raises(FutureDateError):
        policy.refuse_future(TODAY + timedelta(days=1), TODAY, "the payment date")


def test_the_default_tolerance_is_one_day() -> None:
    policy = PlausibilityPolicy()
    assert policy.future_tolerance_days == 1
    policy.refuse_future(TODAY + timedelta(days=1), TODAY, "the payment date")
    with pytest.raises(FutureDateError):
        policy.refuse_future(date(2031, 1, 15), TODAY, "the payment date")


@pytest.mark.parametrize("days", [-1, True, 1.5, "1"])
def test_a_tolerance_is_a_whole_number_of_days_from_zero(days: object) -> None:
    with pytest.raises(ValueError, match="whole number of days"):
        PlausibilityPolicy(future_tolerance_days=days)  # type: ignore[arg-type]


def test_a_run_bills_a_period_that_has_begun_and_none_that_has_not() -> None:
    check_period_started(Period.month(2026, 3), TODAY)
    check_period_started(Period(TODAY, TODAY), TODAY)  # it begins today
    with pytest.raises(PeriodNotStartedError) as refused:
        check_period_started(Period.month(2031, 1), TODAY)
    assert refused.value.code == "period_not_started"
    assert "period 2031-01 starts on 2031-01-01, after today (2026-03-10)" in str(refused.value)


# -- the daily cap across billing runs --------------------------------------------------------


def _daily_capped(cap: str = "8", increment: str | None = None) -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(
        TM,
        "Advisory",
        EUR,
        RateCardId("RC"),
        daily_cap_hours=Decimal(cap),
        billing_increment=None if increment is None else Decimal(increment),
    )


def _billed_per_day(
    history: ObligationHistory[TimeAndMaterialsTerms],
    first: list[TimeEntry],
    later: list[TimeEntry],
) -> dict[tuple[str, date], Decimal]:
    """What two runs bill per person-day: the first bills `first`; the second prices everything
    after the first's allocations and bills what is still open."""
    cards = {RateCardId("RC"): rate_card()}
    billed = {p.entry.entry_id: p.billable_hours for p in price_entries(history, cards, first)}
    everything = [*first, *later]
    second = price_entries(history, cards, everything, lambda e: billed.get(e.entry_id, d("0")))
    per_day: defaultdict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for p in second:
        done = billed.get(p.entry.entry_id, Decimal(0))
        more = max(Decimal(0), EXACT.subtract(p.billable_hours, done))
        per_day[(p.entry.resource_id, p.entry.work_date)] += EXACT.add(done, more)
    return dict(per_day)


def test_an_entry_that_arrives_after_its_day_was_billed_cannot_take_the_day_past_the_cap() -> None:
    history = contract([_daily_capped()]).obligation_history(TM)
    day = date(2026, 3, 2)
    billed = _billed_per_day(history, [entry("t2", day, "8")], [entry("t1", day, "8")])
    assert billed == {("r1", day): d("8")}


_SMALL_DAY = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2"]),
        st.integers(min_value=1, max_value=3),
        st.integers(min_value=1, max_value=40).map(lambda q: Decimal(q) / 4),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(rows=_SMALL_DAY)
def test_a_day_billed_over_two_runs_bills_what_one_run_would(
    rows: list[tuple[str, int, Decimal, bool]],
) -> None:
    """However the entries of a day arrive around a billing run, the day bills min(cap, hours)."""
    history = contract([_daily_capped("7.5")]).obligation_history(TM)
    entries = [
        entry(f"t{n:02d}", date(2026, 3, day), str(hours), resource=who)
        for n, (who, day, hours, _) in enumerate(rows)
    ]
    first = [e for e, (*_, early) in zip(entries, rows, strict=True) if early]
    later = [e for e in entries if e not in first]
    one_run = _billed_per_day(history, [], entries)
    two_runs = _billed_per_day(history, first, later)
    assert two_runs == one_run
    worked: defaultdict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for e in entries:
        worked[(e.resource_id, e.work_date)] += e.hours
    assert one_run == {day: min(d("7.5"), hours) for day, hours in worked.items()}


# -- a blocking cap, priced entry by entry ------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3"]),
            st.integers(min_value=1, max_value=4),
            st.integers(min_value=1, max_value=48).map(lambda q: Decimal(q) / 4),
            st.booleans(),
        ),
        min_size=1,
        max_size=15,
    ),
    cap_hours=st.integers(min_value=1, max_value=60),
)
def test_a_blocking_cap_admits_entry_by_entry_exactly_what_full_re_pricing_admits(
    rows: list[tuple[str, int, Decimal, bool]], cap_hours: int
) -> None:
    """The set-based admission (each entry re-prices its own person-day) refuses exactly the
    entries a full re-pricing of everything accepted would refuse."""
    terms = TimeAndMaterialsTerms(
        TM,
        "Advisory",
        EUR,
        RateCardId("RC"),
        billing_increment=Decimal("0.5"),
        daily_cap_hours=Decimal("6"),
        cap=NotToExceed(hours=Decimal(cap_hours), policy=OveragePolicy.BLOCK),
    )
    history = contract([terms]).obligation_history(TM)
    cards = {RateCardId("RC"): rate_card()}
    entries = [
        entry(f"t{n:02d}", date(2026, 3, day), str(hours), resource=who, billable=billable)
        for n, (who, day, hours, billable) in enumerate(rows)
    ]
    incremental = BlockingCapAdmission(history, cards, [])
    by_entry: list[str] = []
    by_pricing_all: list[str] = []
    accepted: list[TimeEntry] = []
    for e in entries:
        try:
            (incremental.admit if e.billable else incremental.record)(e)
            by_entry.append(e.entry_id)
        except CapExceededError:
            pass
        try:
            if e.billable:
                admit_time_entry(history, cards, accepted, e)
            accepted.append(e)
            by_pricing_all.append(e.entry_id)
        except CapExceededError:
            pass
    assert by_entry == by_pricing_all
    priced = price_entries(history, cards, accepted)
    assert dsum(p.billable_hours for p in priced) <= Decimal(cap_hours)
