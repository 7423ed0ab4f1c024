"""The rate-card amendment command: the maker proposes the changes, the card makes them the
whole next version, and a checker approves it; audited like any proposal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from domain.errors import InvalidTermsError, MakerCheckerError
from domain.ids import RateCardId, ResourceId, Role
from domain.ratecard import RateCardVersion
from tests.unit.application.conftest import EUR, App

RC = RateCardId("RC")
CONSULTANT, MANAGER = Role("consultant"), Role("manager")


def with_first_version(app: App) -> None:
    app.do(c.CreateRateCard(RC, "UK", "EUR"))
    rates = {CONSULTANT: Decimal("100"), MANAGER: Decimal("140")}
    first = RateCardVersion(1, date(2026, 1, 1), EUR, rates, {ResourceId("ana"): Decimal("120")})
    app.do(c.PublishRateCardVersion(RC, first))


def test_an_amendment_is_proposed_by_one_person_and_approved_by_another(app: App) -> None:
    with_first_version(app)
    change = c.ProposeRateCardAmendment(RC, date(2026, 7, 1), {MANAGER: Decimal("150")})
    app.do(change, actor="maker")
    card = app.data.aggregates["rate_card"]["RC"]
    (waiting,) = card.proposals
    assert dict(waiting.version.role_rates) == {CONSULTANT: Decimal(100), MANAGER: Decimal(150)}
    assert dict(waiting.version.resource_overrides) == {ResourceId("ana"): Decimal(120)}
    with pytest.raises(MakerCheckerError):
        app.do(c.ApproveRateCardVersion(RC, 2), actor="maker")
    app.do(c.ApproveRateCardVersion(RC, 2), actor="checker")
    card = app.data.aggregates["rate_card"]["RC"]
    assert card.rate_for(CONSULTANT, None, date(2026, 7, 1))[0].amount == Decimal(100)
    assert card.rate_for(MANAGER, None, date(2026, 7, 1))[0].amount == Decimal(150)
    trail = [(r.action, r.before, r.after, r.actor) for r in app.data.audit]
    assert ("propose", None, "v2:proposed", "maker") in trail
    assert ("approve", "v2:proposed", "v2", "checker") in trail


def test_an_amendment_that_cannot_apply_changes_nothing(app: App) -> None:
    with_first_version(app)
    removal = c.ProposeRateCardAmendment(RC, date(2026, 7, 1), removed_roles=(Role("partner"),))
    with pytest.raises(InvalidTermsError, match="removes role 'partner'"):
        app.do(removal, actor="maker")
    card = app.data.aggregates["rate_card"]["RC"]
    assert (card.proposals, len(card.versions)) == ([], 1)
    assert [r.action for r in app.data.audit] == ["publish"]
