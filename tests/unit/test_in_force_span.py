"""What is in force on a date stays in force up to the bound `domain.in_force_span` gives, and
no further; and a batch admitted with decisions carried across dates answers each entry as
that entry alone would be answered."""

from __future__ import annotations

from datetime import date, timedelta

from domain.admission import TimeAdmission, reason_code
from domain.contract import Contract
from domain.engagement import Engagement
from domain.errors import DomainError
from domain.ids import ObligationId, RateCardId
from domain.in_force_span import (
    NO_END,
    card_version_through,
    time_accepted_through,
    version_in_force_through,
)
from domain.money import Currency
from domain.period import Period
from domain.plausibility import PlausibilityPolicy
from domain.ratecard import RateCard
from domain.time_and_materials import TimeAndMaterialsTerms
from tests.support.admission import AT, FakeScope, active_engagement, time
from tests.support.builders import contract, rate_card

EUR = Currency.of("EUR")
FIRST, LAST = date(2025, 12, 20), date(2026, 5, 10)
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


def _tm(oid: str = "tm") -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(ObligationId(oid), "T&M", EUR, RateCardId("RC"))


def _amended_and_terminated() -> Contract:
    """A SOW from 1 January, an amendment from 1 March without `tm`, terminated 15 April."""
    amended = contract([_tm()])
    amended.draft_version(date(2026, 3, 1), [_tm("other")])
    amended.approve_version(2, "legal", AT)
    amended.terminate(date(2026, 4, 15), AT)
    return amended


def _card() -> RateCard:
    """Seniors priced from 1 January; a version from 20 January prices consultants only, and
    one from 20 March both (none changes with the contract)."""
    return rate_card(
        versions=(
            (date(2026, 1, 1), {"senior": "120"}),
            (date(2026, 1, 20), {"consultant": "100"}),
            (date(2026, 3, 20), {"consultant": "100", "senior": "130"}),
        )
    )


def _closing() -> Engagement:
    engagement = active_engagement("E1", "C1")
    engagement.start_closing(date(2026, 4, 10), AT)
    return engagement


def _answer(rule: object, on: date) -> object:
    try:
        return rule(on)  # type: ignore[operator]
    except DomainError as refusal:
        return type(refusal)


def _holds_through(rule: object, on: date, last: date) -> None:
    """The rule answers on every date from `on` to `last` as on `on`, and otherwise after."""
    first = _answer(rule, on)
    assert all(_answer(rule, day) is first for day in DAYS if on <= day <= last)
    if last < NO_END:
        assert _answer(rule, last + timedelta(days=1)) is not first


def test_a_contracts_version_in_force_stays_so_up_to_its_bound_and_no_further() -> None:
    amended = _amended_and_terminated()
    for on in DAYS:
        try:
            version = amended.version_in_force(on)
        except DomainError:
            continue
        _holds_through(amended.version_in_force, on, version_in_force_through(amended, version, on))


def test_a_rate_cards_version_in_force_stays_so_up_to_its_bound_and_no_further() -> None:
    card = _card()
    for on in DAYS:
        if on >= date(2026, 1, 1):
            _holds_through(card.version_in_force, on, card_version_through(card, on))


def test_an_engagement_accepts_time_up_to_its_bound_and_no_further() -> None:
    for engagement in (active_engagement("E1", "C1"), _closing()):
        for on in DAYS:
            if engagement.accepts_time_on(on):
                _holds_through(engagement.accepts_time_on, on, time_accepted_through(engagement))


def _scope(engagement: Engagement) -> FakeScope:
    return FakeScope(
        [engagement], [_amended_and_terminated()], [_card()], closed=[Period.month(2026, 2)]
    )


def _outcome(admission: TimeAdmission, entry: object) -> str:
    try:
        admission.admit(entry)  # type: ignore[arg-type]
    except DomainError as refusal:
        return reason_code(refusal)
    return "accepted"


def test_a_batch_across_versions_a_closed_period_and_a_closing_date_answers_each_entry_alone() -> (
    None
):
    today = date(2026, 6, 1)
    entries = [
        time(f"T{n:03d}-{oid}-{role}", day, "1", obligation=oid, resource=f"r{n}-{role}", role=role)
        for n, day in enumerate(DAYS)
        for oid in ("tm", "other")
        for role in ("consultant", "senior")
    ]
    for engagement in (active_engagement("E1", "C1"), _closing()):
        scope = _scope(engagement)
        batch = TimeAdmission(scope, PlausibilityPolicy(), today, scope.days(), entries)
        together = [_outcome(batch, e) for e in entries]
        alone = []
        for e in entries:
            single = _scope(engagement)
            alone.append(_outcome(TimeAdmission(single, PlausibilityPolicy(), today, {}, [e]), e))
        assert together == alone
        assert {"accepted", "period_closed", "outside_contract", "unknown_obligation"} <= set(
            together
        )
        assert "rate_not_found" in together
