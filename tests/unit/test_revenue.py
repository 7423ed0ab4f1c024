"""Revenue positions: dispatch to the obligation's billing model, cumulative catch-up per period,
and WIP/deferred per obligation.

The billing models here are test-only: terms classes registered in this module whose
`recognise` returns a fixed cumulative schedule, so the arithmetic around it can be checked by
hand. The real models' recognition is tested by their own modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import obligation as obligation_registry
from domain.billing import ObligationHistory, TermsInForce
from domain.errors import CurrencyMismatchError, DomainError
from domain.ids import ObligationId
from domain.ledger import ObligationBalance
from domain.money import Currency, Money
from domain.obligation import (
    RevenueContext,
    UnknownBillingModelError,
    register_billing_model,
)
from domain.period import Period
from domain.revenue import (
    RevenuePosition,
    RevenueSummary,
    positions,
    recognised_to_date,
    recognition_for_period,
    recognition_in,
)
from tests.support.model_inputs import revenue_context, stub_model

USD = Currency.of("USD")
PROGRAM = ObligationId("program")
CHANGE_REQUEST = ObligationId("change-request")
SUPPORT = ObligationId("support")


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


@attrs.frozen
class ScheduleTerms:
    """Test-only terms: cumulative revenue earned by each date, as a controller's schedule."""

    obligation_id: ObligationId
    name: str
    cumulative: tuple[tuple[date, str], ...]


@attrs.frozen
class FlatTerms:
    """Test-only terms of another model: always 42.00 earned, whatever the date."""

    obligation_id: ObligationId
    name: str


@attrs.frozen
class SloppyTerms:
    """Test-only terms whose model forgets to round to minor units."""

    obligation_id: ObligationId
    name: str
    earned: str
    currency: str = "USD"


def _recognise_schedule(history: ObligationHistory[Any], ctx: RevenueContext) -> Money:
    terms: ScheduleTerms = history.latest.terms
    earned = Decimal(0)
    for day, amount in terms.cumulative:
        if day <= ctx.as_of:
            earned = Decimal(amount)
    return Money(earned, ctx.currency)


def _recognise_flat(history: ObligationHistory[Any], ctx: RevenueContext) -> Money:
    return Money(Decimal("42.00"), ctx.currency)


def _recognise_sloppily(history: ObligationHistory[Any], ctx: RevenueContext) -> Money:
    terms: SloppyTerms = history.latest.terms
    return Money.of(terms.earned, terms.currency)


@pytest.fixture(autouse=True, scope="module")
def _test_models() -> Iterator[None]:
    """The test-only models are registered for this module's tests alone, never for others
    (the registry's own test walks every registered model)."""
    saved = dict(obligation_registry._MODELS)
    register_billing_model(stub_model("test_schedule", ScheduleTerms, _recognise_schedule))
    register_billing_model(stub_model("test_flat", FlatTerms, _recognise_flat))
    register_billing_model(stub_model("test_sloppy", SloppyTerms, _recognise_sloppily))
    yield
    obligation_registry._MODELS.clear()
    obligation_registry._MODELS.update(saved)


# Cumulative revenue of the program: 1,000.00 by the end of January, 1,500.00 by the end of
# February, then the estimate at completion rises and the cumulative falls to 1,200.00 in March.
PROGRAM_SCHEDULE = ScheduleTerms(
    PROGRAM,
    "Transformation program",
    (
        (date(2026, 1, 31), "1000.00"),
        (date(2026, 2, 28), "1500.00"),
        (date(2026, 3, 31), "1200.00"),
    ),
)


def history_of(*terms: object, oid: ObligationId = PROGRAM) -> ObligationHistory[Any]:
    return ObligationHistory(
        oid,
        tuple(TermsInForce(date(2026, 1, 1 + n), n + 1, t) for n, t in enumerate(terms)),
    )


def context(as_of: date) -> RevenueContext:
    return revenue_context(as_of, USD)


# Dispatch ----------------------------------------------------------------------------------


def test_revenue_to_date_is_what_the_obligations_model_says_it_has_earned() -> None:
    history = history_of(PROGRAM_SCHEDULE)
    assert recognised_to_date(history, context(date(2026, 1, 30))) == usd("0")
    assert recognised_to_date(history, context(date(2026, 1, 31))) == usd("1000.00")
    assert recognised_to_date(history, context(date(2026, 2, 15))) == usd("1000.00")
    assert recognised_to_date(history, context(date(2026, 3, 31))) == usd("1200.00")


def test_the_model_is_chosen_by_the_type_of_the_latest_terms() -> None:
    flat_then_schedule = history_of(FlatTerms(PROGRAM, "v1"), PROGRAM_SCHEDULE)
    schedule_then_flat = history_of(PROGRAM_SCHEDULE, FlatTerms(PROGRAM, "v2"))
    on = context(date(2026, 2, 28))
    assert recognised_to_date(flat_then_schedule, on) == usd("1500.00")
    assert recognised_to_date(schedule_then_flat, on) == usd("42.00")


def test_terms_without_a_billing_model_are_refused() -> None:
    @attrs.frozen
    class UnregisteredTerms:
        obligation_id: ObligationId
        name: str

    with pytest.raises(UnknownBillingModelError):
        recognised_to_date(history_of(UnregisteredTerms(PROGRAM, "?")), context(date(2026, 1, 31)))


def test_a_model_that_does_not_round_to_minor_units_is_caught() -> None:
    with pytest.raises(DomainError, match="minor units"):
        recognised_to_date(
            history_of(SloppyTerms(PROGRAM, "sloppy", "10.005")), context(date(2026, 1, 31))
        )


def test_a_model_that_answers_in_another_currency_is_caught() -> None:
    with pytest.raises(CurrencyMismatchError):
        recognised_to_date(
            history_of(SloppyTerms(PROGRAM, "euros", "10.00", "EUR")),
            context(date(2026, 1, 31)),
        )


# Cumulative catch-up -----------------------------------------------------------------------


def test_a_periods_revenue_is_cumulative_at_its_end_less_cumulative_before_it_starts() -> None:
    history = history_of(PROGRAM_SCHEDULE)
    february = recognition_for_period(
        history, context(date(2026, 1, 31)), context(date(2026, 2, 28))
    )
    assert february == usd("500.00")  # 1,500.00 − 1,000.00


def test_a_fall_in_the_estimate_is_a_negative_catch_up_in_the_period_that_learns_of_it() -> None:
    history = history_of(PROGRAM_SCHEDULE)
    march = recognition_for_period(history, context(date(2026, 2, 28)), context(date(2026, 3, 31)))
    assert march == usd("-300.00")  # 1,200.00 − 1,500.00


def test_the_first_period_catches_up_everything_earned_so_far() -> None:
    history = history_of(PROGRAM_SCHEDULE)
    first_quarter = recognition_in(
        history, Period(date(2026, 1, 1), date(2026, 3, 31)), context(date(2026, 1, 1))
    )
    assert first_quarter == usd("1200.00")  # 1,200.00 − 0 on 31 December


def test_revenue_in_a_calendar_month_reads_the_day_before_it_starts_and_its_last_day() -> None:
    history = history_of(PROGRAM_SCHEDULE)
    # Whatever `as_of` the context carries is replaced by the month's two boundaries.
    assert recognition_in(history, Period.month(2026, 2), context(date(2030, 1, 1))) == usd(
        "500.00"
    )
    assert recognition_in(history, Period.month(2026, 3), context(date(2030, 1, 1))) == usd(
        "-300.00"
    )


def test_a_period_must_end_after_the_day_before_it_starts() -> None:
    history = history_of(PROGRAM_SCHEDULE)
    with pytest.raises(DomainError):
        recognition_for_period(history, context(date(2026, 2, 28)), context(date(2026, 1, 31)))


@given(
    st.lists(
        st.tuples(
            st.dates(date(2026, 1, 1), date(2026, 12, 31)),
            st.integers(min_value=0, max_value=10**9),
        ),
        max_size=8,
    )
)
def test_monthly_catch_ups_add_up_to_the_cumulative_revenue(
    schedule: list[tuple[date, int]],
) -> None:
    terms = ScheduleTerms(
        PROGRAM,
        "random schedule",
        tuple((day, str(Money.from_minor(minor, USD).amount)) for day, minor in sorted(schedule)),
    )
    history = history_of(terms)
    months = list(Period(date(2026, 1, 1), date(2026, 12, 31)).months())
    total = Money.zero(USD)
    for month in months:
        total = total + recognition_in(history, month, context(month.end))
    assert total == recognised_to_date(history, context(date(2026, 12, 31)))


# Positions ---------------------------------------------------------------------------------


def test_a_revenue_position_is_the_balance_the_ledger_posts_from() -> None:
    assert RevenuePosition is ObligationBalance


def test_positions_net_wip_and_deferred_per_obligation() -> None:
    histories = [
        history_of(PROGRAM_SCHEDULE, oid=PROGRAM),  # 1,200.00 earned by 31 March
        history_of(FlatTerms(CHANGE_REQUEST, "change request"), oid=CHANGE_REQUEST),  # 42.00
        history_of(FlatTerms(SUPPORT, "support"), oid=SUPPORT),  # 42.00, nothing billed
    ]
    billed = {PROGRAM: usd("1000.00"), CHANGE_REQUEST: usd("100.00")}

    found = positions(histories, context(date(2026, 3, 31)), billed)

    assert found == [
        RevenuePosition(PROGRAM, usd("1200.00"), usd("1000.00")),
        RevenuePosition(CHANGE_REQUEST, usd("42.00"), usd("100.00")),
        RevenuePosition(SUPPORT, usd("42.00"), usd("0")),
    ]
    program, change_request, support = found
    assert (program.unbilled_wip, program.deferred) == (usd("200.00"), usd("0"))  # 1,200 − 1,000
    assert (change_request.unbilled_wip, change_request.deferred) == (usd("0"), usd("58.00"))
    assert (support.unbilled_wip, support.deferred) == (usd("42.00"), usd("0"))


def test_the_summary_adds_wip_and_deferred_per_obligation_without_netting_across_them() -> None:
    summary = RevenueSummary.of(
        [
            RevenuePosition(PROGRAM, usd("1200.00"), usd("1000.00")),  # WIP 200.00
            RevenuePosition(CHANGE_REQUEST, usd("42.00"), usd("100.00")),  # deferred 58.00
            RevenuePosition(SUPPORT, usd("42.00"), usd("0")),  # WIP 42.00
        ],
        USD,
    )
    assert summary == RevenueSummary(
        USD,
        recognised=usd("1284.00"),  # 1,200 + 42 + 42
        billed=usd("1100.00"),  # 1,000 + 100
        unbilled_wip=usd("242.00"),  # 200 + 42
        deferred=usd("58.00"),
    )
    # The two balances together still explain the gap between earned and billed.
    assert summary.unbilled_wip - summary.deferred == summary.recognised - summary.billed


def test_a_summary_of_no_obligations_is_zero() -> None:
    assert RevenueSummary.of([], USD) == RevenueSummary(USD, usd("0"), usd("0"), usd("0"), usd("0"))


def test_billing_for_an_obligation_without_terms_is_refused() -> None:
    with pytest.raises(DomainError, match="no terms"):
        positions(
            [history_of(PROGRAM_SCHEDULE)],
            context(date(2026, 3, 31)),
            {PROGRAM: usd("1.00"), ObligationId("ghost"): usd("1.00")},
        )


def test_an_obligation_listed_twice_is_refused() -> None:
    with pytest.raises(DomainError, match="twice"):
        positions(
            [history_of(PROGRAM_SCHEDULE), history_of(PROGRAM_SCHEDULE)],
            context(date(2026, 3, 31)),
            {},
        )
