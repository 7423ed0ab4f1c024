"""The rules of admission, decided by the domain over what the scope holds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.admission import (
    OUTSIDE_CONTRACT,
    TimeAdmission,
    UnknownEngagementError,
    UnknownObligationError,
    billing_order,
    reason_code,
    terms_in_force,
)
from domain.errors import (
    CapExceededError,
    NoTermsInForceError,
    PeriodClosedError,
    RateNotFoundError,
)
from domain.ids import EngagementId, ObligationId, RateCardId
from domain.money import Currency
from domain.period import Period
from domain.plausibility import (
    DayOver24HoursError,
    FutureDateError,
    HoursNotPositiveError,
    HoursTooPreciseError,
    PlausibilityPolicy,
)
from domain.time_and_materials import NotToExceed, OveragePolicy, TimeAndMaterialsTerms
from tests.support.admission import FakeScope, active_engagement, time
from tests.support.builders import contract, entry, rate_card

TODAY = date(2026, 3, 31)
EUR = Currency.of("EUR")


def _terms(cap: NotToExceed | None = None, card: str = "RC") -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(ObligationId("tm"), "T&M", EUR, RateCardId(card), cap=cap)


def _scope(cap: NotToExceed | None = None, **kwargs: object) -> FakeScope:
    return FakeScope(
        [active_engagement("E1", "C1")],
        [contract([_terms(cap)])],
        [rate_card()],
        **kwargs,  # type: ignore[arg-type]
    )


def _admission(scope: FakeScope, batch: list[object]) -> TimeAdmission:
    return TimeAdmission(scope, PlausibilityPolicy(), TODAY, scope.days(), batch)  # type: ignore[arg-type]


def test_time_for_an_unknown_engagement_is_refused_as_unknown_engagement() -> None:
    with pytest.raises(UnknownEngagementError) as refused:
        terms_in_force(_scope(), EngagementId("E9"), ObligationId("tm"), date(2026, 3, 2))
    assert reason_code(refused.value) == "unknown_engagement"


def test_time_for_an_obligation_the_contract_version_does_not_hold_is_refused() -> None:
    with pytest.raises(UnknownObligationError) as refused:
        terms_in_force(_scope(), EngagementId("E1"), ObligationId("ff"), date(2026, 3, 2))
    assert "has no obligation ff" in str(refused.value)


def test_time_dated_before_any_contract_version_is_outside_the_contract() -> None:
    with pytest.raises(NoTermsInForceError) as refused:
        terms_in_force(_scope(), EngagementId("E1"), ObligationId("tm"), date(2025, 12, 31))
    assert reason_code(refused.value) == OUTSIDE_CONTRACT


def test_time_dated_in_a_closed_period_is_refused_until_the_period_reopens() -> None:
    scope = _scope(closed=[Period.month(2026, 2)])
    with pytest.raises(PeriodClosedError):
        terms_in_force(scope, EngagementId("E1"), ObligationId("tm"), date(2026, 2, 27))
    assert terms_in_force(scope, EngagementId("E1"), ObligationId("tm"), date(2026, 3, 2))


def test_billable_time_of_a_role_the_rate_card_does_not_price_is_refused() -> None:
    admission = _admission(_scope(), [])
    with pytest.raises(RateNotFoundError):
        admission.admit(time("t1", date(2026, 3, 2), "2", role="architect"))


def test_non_billable_time_needs_no_rate() -> None:
    admission = _admission(_scope(), [])
    admitted = admission.admit(time("t1", date(2026, 3, 2), "2", role="architect", billable=False))
    assert admitted.billable is False


def test_an_unknown_rate_card_refuses_each_billable_entry_and_no_other() -> None:
    scope = FakeScope([active_engagement("E1", "C1")], [contract([_terms(card="RC-gone")])], [])
    admission = _admission(scope, [])
    day = date(2026, 3, 2)
    for n in (1, 2):  # the date's decision is remembered; the refusal is every entry's
        with pytest.raises(RateNotFoundError, match="RC-gone is unknown"):
            admission.admit(time(f"t{n}", day, "2"))
    assert admission.admit(time("t3", day, "2", billable=False)).billable is False


def test_time_dated_before_the_rate_cards_first_version_is_refused_when_billable() -> None:
    card = rate_card(versions=((date(2026, 3, 3), {"consultant": "100"}),))
    scope = FakeScope([active_engagement("E1", "C1")], [contract([_terms()])], [card])
    admission = _admission(scope, [])
    with pytest.raises(NoTermsInForceError):
        admission.admit(time("t1", date(2026, 3, 2), "2"))
    assert admission.admit(time("t2", date(2026, 3, 2), "2", billable=False)).billable is False
    assert admission.admit(time("t3", date(2026, 3, 3), "2")).billable is True


def test_a_persons_day_counts_what_is_recorded_and_what_the_batch_took_before() -> None:
    scope = _scope(recorded=[entry("old", date(2026, 3, 2), "10")])
    batch = [time("t1", date(2026, 3, 2), "8"), time("t2", date(2026, 3, 2), "7")]
    admission = _admission(scope, batch)
    admission.admit(batch[0])
    with pytest.raises(DayOver24HoursError):
        admission.admit(batch[1])


def _reads_for(size: int) -> dict[str, int]:
    scope = _scope()
    batch = [time(f"t{n}", date(2026, 3, 2), "1", resource=f"r{n}") for n in range(size)]
    admission = _admission(scope, batch)
    for raw in batch:
        admission.admit(raw)
    return dict(scope.reads)


def test_each_engagement_obligation_and_date_is_decided_once_per_batch() -> None:
    assert _reads_for(50) == _reads_for(5)


def test_a_batch_far_below_a_blocking_cap_reads_only_the_summed_time() -> None:
    scope = _scope(
        NotToExceed(amount=Decimal("100000"), policy=OveragePolicy.BLOCK),
        recorded=[entry("old", date(2026, 3, 2), "8")],
    )
    batch = [time("t1", date(2026, 3, 3), "8")]
    _admission(scope, batch).admit(batch[0])
    assert scope.reads["recorded_time"] == 1
    assert scope.reads["recorded_entries"] == 0


def test_billable_time_that_would_cross_a_blocking_cap_is_refused() -> None:
    scope = _scope(
        NotToExceed(amount=Decimal("1000"), policy=OveragePolicy.BLOCK),
        recorded=[entry("old", date(2026, 3, 2), "8")],
    )
    batch = [time("t1", date(2026, 3, 3), "2"), time("t2", date(2026, 3, 4), "1")]
    admission = _admission(scope, batch)
    admission.admit(batch[0])  # 800 + 200 = 1000: at the cap, not over it
    with pytest.raises(CapExceededError):
        admission.admit(batch[1])


def test_a_batch_is_admitted_in_work_date_then_id_order_whatever_order_it_came_in() -> None:
    batch = [
        (0, time("b", date(2026, 3, 3), "1")),
        (1, time("a", date(2026, 3, 3), "1")),
        (2, time("c", date(2026, 3, 2), "1")),
    ]
    assert [p for p, _ in billing_order(batch)] == [2, 1, 0]


def _two_engagements(closed: list[Period]) -> FakeScope:
    return FakeScope(
        [active_engagement("E1", "C1"), active_engagement("E2", "C2")],
        [contract([_terms()]), contract([_terms()], contract_id="C2")],
        [rate_card()],
        closed=closed,
    )


def test_time_of_every_engagement_dated_in_a_closed_period_is_refused() -> None:
    admission = _admission(_two_engagements([Period.month(2026, 2)]), [])
    for engagement in ("E1", "E2"):
        with pytest.raises(PeriodClosedError) as refused:
            admission.admit(time(f"t-{engagement}", date(2026, 2, 27), "2", engagement=engagement))
        assert "accounting period" in str(refused.value)
    assert admission.admit(time("t3", date(2026, 3, 2), "2", engagement="E2")).hours == 2


def test_a_value_of_hours_that_met_the_precision_rule_once_still_refuses_a_finer_one() -> None:
    admission = _admission(_scope(), [])
    admission.admit(time("t1", date(2026, 3, 2), "1.50", resource="r1"))
    admission.admit(time("t2", date(2026, 3, 2), "1.5", resource="r2"))
    with pytest.raises(HoursTooPreciseError):
        admission.admit(time("t3", date(2026, 3, 2), "1.505", resource="r3"))
    for odd in ("NaN", "sNaN", "Infinity", "0", "-1"):
        with pytest.raises(HoursNotPositiveError):
            admission.admit(time(f"odd-{odd}", date(2026, 3, 2), odd, resource="r4"))


def test_time_dated_past_the_future_tolerance_is_refused_and_up_to_it_is_admitted() -> None:
    scope = _scope()
    admission = TimeAdmission(scope, PlausibilityPolicy(2), date(2026, 3, 2), scope.days(), [])
    assert admission.admit(time("t1", date(2026, 3, 4), "1")).work_date == date(2026, 3, 4)
    with pytest.raises(FutureDateError) as refused:
        admission.admit(time("t2", date(2026, 3, 5), "1"))
    assert "the work date of t2" in str(refused.value)


def test_a_persons_day_may_reach_exactly_24_hours() -> None:
    admission = _admission(_scope(), [])
    admission.admit(time("t1", date(2026, 3, 2), "16"))
    assert admission.admit(time("t2", date(2026, 3, 2), "8")).hours == 8
    with pytest.raises(DayOver24HoursError):
        admission.admit(time("t3", date(2026, 3, 2), "0.25"))


def test_a_persons_own_rate_prices_a_role_the_card_does_not() -> None:
    scope = FakeScope(
        [active_engagement("E1", "C1")],
        [contract([_terms()])],
        [rate_card(overrides={"ana": "150"})],
    )
    admission = _admission(scope, [])
    architect = admission.admit(time("t1", date(2026, 3, 2), "2", role="architect", resource="ana"))
    assert architect.resource_id == "ana"
    with pytest.raises(RateNotFoundError):
        admission.admit(time("t2", date(2026, 3, 2), "2", role="architect", resource="bob"))
