"""Consultant transfers through the application: a finance user sets a resource's history
and the transfer pricing (validated, stored, audited), and the period's recharges are worked
out from the stored time. The same cases run on SQLite and PostgreSQL in
`tests/integration/test_intercompany_sql.py`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from application.intercompany import (
    SetEmploymentHistory,
    SetTransferPricing,
    intercompany_statement,
)
from domain.employment import Employment, InvalidEmploymentHistoryError
from domain.ids import LegalEntityId, ResourceId
from domain.intercompany import IntercompanyStatement, RechargeProblem, TransferPolicy
from domain.money import Money
from domain.period import Period
from tests.unit.application.conftest import ENTITY, App, set_up_tm_contract, time_entry

B = LegalEntityId("tl-de")
C = LegalEntityId("tl-fr")
FEBRUARY = Period.month(2026, 2)  # the fake clock stands on 1 March: February is behind it
R1 = ResourceId("r1")


def transferred_mid_month(app: App) -> None:
    """r1 is in B until 14 February and in C from the 15th; B and C recharge A (ENTITY)."""
    app.do(
        SetEmploymentHistory(
            R1,
            (Employment(B, date(2026, 1, 1), date(2026, 2, 14)), Employment(C, date(2026, 2, 15))),
        ),
        actor="fin",
    )
    app.do(
        SetTransferPricing(
            (TransferPolicy(B, ENTITY, Decimal(10)),), default_markup_percent=Decimal(5)
        ),
        actor="fin",
    )


def worked(app: App) -> None:
    set_up_tm_contract(app)
    app.do(
        c.RecordTimeEntries(
            (
                time_entry("T1", date(2026, 2, 10), "8", cost_rate=Decimal("60.00")),
                time_entry("T2", date(2026, 2, 20), "4", cost_rate=Decimal("60.00")),
                time_entry("T3", date(2026, 2, 23), "2"),
            )
        ),
        actor="psa",
    )


def statement_of(app: App, period: Period = FEBRUARY) -> IntercompanyStatement:
    with app.bus.deps.uow(app.as_("fin"), read_only=True) as uow:
        return intercompany_statement(uow, period)


def test_a_resource_transferred_mid_month_is_recharged_by_each_entity_for_its_own_days(
    app: App,
) -> None:
    worked(app)
    transferred_mid_month(app)
    found = statement_of(app)
    # B: 8 h x 60.00 = 480.00, +10 % = 528.00; C (default 5 %): 4 h x 60.00 = 240.00 -> 252.00
    assert [(r.provider, r.recipient, r.amount) for r in found.recharges] == [
        (B, ENTITY, Money.of("528.00", "EUR")),
        (C, ENTITY, Money.of("252.00", "EUR")),
    ]
    assert [(p.entry_id, p.reason) for p in found.exceptions] == [
        ("T3", RechargeProblem.NO_COST_RATE)
    ]


def test_setting_a_history_replaces_the_one_before_and_is_audited(app: App) -> None:
    transferred_mid_month(app)
    app.do(SetEmploymentHistory(R1, (Employment(ENTITY, date(2026, 1, 1)),)), actor="fin")
    with app.bus.deps.uow(app.as_("fin"), read_only=True) as uow:
        history = uow.intercompany.employment_history(R1)
        pricing = uow.intercompany.transfer_pricing()
        trail = [r for r in uow.audit.all() if r.subject in ("resource:r1", "transfer-pricing")]
    assert history is not None
    assert history.employments == (Employment(ENTITY, date(2026, 1, 1)),)
    assert pricing.markup_for(B, ENTITY) == 10
    assert [(r.actor, r.action, r.before, r.after) for r in trail] == [
        ("fin", "set_employment_history", None, "tl-de 2026-01-01..2026-02-14; tl-fr 2026-02-15.."),
        ("fin", "set_transfer_pricing", "none", "tl-de>tl-uk 10%; default 5%"),
        (
            "fin",
            "set_employment_history",
            "tl-de 2026-01-01..2026-02-14; tl-fr 2026-02-15..",
            "tl-uk 2026-01-01..",
        ),
    ]


def test_an_overlapping_history_is_refused_and_changes_nothing(app: App) -> None:
    transferred_mid_month(app)
    with pytest.raises(InvalidEmploymentHistoryError):
        app.do(
            SetEmploymentHistory(
                R1, (Employment(B, date(2026, 1, 1)), Employment(C, date(2026, 2, 1)))
            ),
            actor="fin",
        )
    with app.bus.deps.uow(app.as_("fin"), read_only=True) as uow:
        history = uow.intercompany.employment_history(R1)
    assert history is not None
    assert history.entity_on(date(2026, 2, 20)) == C


def test_the_recharges_of_a_closed_period_are_shown_as_not_postable(app: App) -> None:
    worked(app)
    transferred_mid_month(app)
    before = statement_of(app)
    app.do(c.ClosePeriod(FEBRUARY), actor="fin")
    after = statement_of(app)
    assert before.postable
    assert not after.postable
    assert after.recharges == before.recharges
