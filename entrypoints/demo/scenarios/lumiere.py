"""Scenario 1, a global transformation program: a fixed-fee program billed by four milestones
with a 10 % holdback, plus a T&M change request on the French rate card with VAT; the client
disputes the March invoice and a partial write-off credit memo resolves the dispute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.billing import SourceKind, SourceRef
from domain.ids import MilestoneId, ObligationId
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.period import Period
from domain.time_and_materials import IncrementRounding, TimeAndMaterialsTerms
from entrypoints.demo.firm import (
    CONSULTANT,
    ENGAGEMENT_MANAGER,
    EUR,
    FR_ENTITY,
    FR_RATE_CARD,
    MANAGER,
    SENIOR,
)
from entrypoints.demo.steps import StepKind, Work

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

NUMBER = 1
TITLE = "Global transformation program"
SUMMARY = (
    "Lumiere Retail Group SA (France) buys a 400,000.00 EUR fixed-fee program billed by "
    "four milestones with a 10 % holdback, plus a T&M change request on the France "
    "regional rate card, with 20 % French VAT. The client disputes the March invoice "
    "(milestone M2); a partial credit memo for the disputed change-request hours resolves "
    "it."
)
MONTHS = tuple(Period.month(2026, month) for month in range(1, 6))

ENGAGEMENT = "ENG-LUM-01"
CONTRACT = "C-LUM-2026-01"
CUSTOMER = "lumiere-retail"
PROGRAM = ObligationId("LUM-PROGRAM")
CHANGE_REQUEST = ObligationId("LUM-CR01")
CLIENT_SPONSOR = "e.fabre (Lumiere CIO)"

LUMIERE_PROGRAM = MilestoneTerms(
    PROGRAM,
    "Transformation program",
    EUR,
    Decimal("400000.00"),
    (
        MilestoneSpec(MilestoneId("LUM-M1"), "M1 Discovery and target model", Decimal(25)),
        MilestoneSpec(MilestoneId("LUM-M2"), "M2 Design", Decimal(25)),
        MilestoneSpec(MilestoneId("LUM-M3"), "M3 Build and pilot", Decimal(25)),
        MilestoneSpec(MilestoneId("LUM-M4"), "M4 Rollout", Decimal(25), final=True),
    ),
    retention_percent=Decimal(10),
)

LUMIERE_CHANGE_REQUEST = TimeAndMaterialsTerms(
    CHANGE_REQUEST,
    "CR-01 loyalty data migration",
    EUR,
    FR_RATE_CARD,
    billing_increment=Decimal("0.25"),
    increment_rounding=IncrementRounding.UP,
)

MARCH_TIME = (
    Work("S1-T01", MANAGER, date(2026, 3, 9), "4"),
    Work("S1-T02", SENIOR, date(2026, 3, 10), "7.5"),
    Work("S1-T03", SENIOR, date(2026, 3, 11), "8"),
    Work("S1-T04", CONSULTANT, date(2026, 3, 12), "7.5"),
    Work("S1-T05", CONSULTANT, date(2026, 3, 13), "2", billable=False),
    Work("S1-T06", SENIOR, date(2026, 3, 24), "6"),
    Work("S1-T07", SENIOR, date(2026, 3, 25), "6"),
)
APRIL_TIME = (
    Work("S1-T08", SENIOR, date(2026, 4, 7), "8"),
    Work("S1-T09", CONSULTANT, date(2026, 4, 8), "6.25"),
    Work("S1-T10", MANAGER, date(2026, 4, 14), "3.5"),
)
MAY_TIME = (Work("S1-T11", SENIOR, date(2026, 5, 5), "5"),)
DISPUTED = tuple(SourceRef(SourceKind.TIME_ENTRY, e) for e in ("S1-T06", "S1-T07"))


def script(run: ScenarioRun) -> Iterator[date]:
    """The scenario's steps, each at the date it happens."""
    yield date(2026, 1, 12)
    run.propose(ENGAGEMENT, CUSTOMER, CONTRACT, "Closed-won in the CRM: Lumiere Retail Group")
    yield date(2026, 1, 15)
    run.sign(
        ENGAGEMENT,
        run.contract(CONTRACT, CUSTOMER, FR_ENTITY, "EUR", "Global transformation program"),
        [LUMIERE_PROGRAM],
        "SOW",
        "fixed-fee program of 400,000.00 EUR billed by four 25 % milestones, 10 % retention "
        "released at final acceptance",
    )

    yield date(2026, 2, 20)
    run.milestone("LUM-M1", "target operating model signed off by the steering committee")
    yield date(2026, 2, 26)
    run.accept("LUM-M1", CLIENT_SPONSOR)
    yield date(2026, 2, 28)
    (first,) = run.bill(Period.month(2026, 2), [CONTRACT])

    yield date(2026, 3, 2)
    run.amend(
        CONTRACT,
        2,
        [LUMIERE_PROGRAM, LUMIERE_CHANGE_REQUEST],
        "Amendment 1 (CR-01)",
        "change request CR-01 added, time and materials on the France regional rate card "
        "(0.25 h increments)",
    )
    yield date(2026, 3, 25)
    run.milestone("LUM-M2", "future-state design pack approved by the design authority")
    yield date(2026, 3, 27)
    run.time(ENGAGEMENT, CHANGE_REQUEST, MARCH_TIME, "CR-01, March")
    run.pay(first, Decimal("108000.00"))
    yield date(2026, 3, 30)
    run.accept("LUM-M2", CLIENT_SPONSOR)
    yield date(2026, 3, 31)
    (second,) = run.bill(Period.month(2026, 3), [CONTRACT])

    yield date(2026, 4, 8)
    run.dispute(
        second,
        "the 12 senior-consultant hours of 24 and 25 March (S1-T06, S1-T07) reworked the "
        "Design deliverable, which the fixed fee of milestone M2 already covers",
    )
    yield date(2026, 4, 16)
    run.credit(
        second,
        DISPUTED,
        "M2 rework billed as change-request time: 12 h credited and written off",
        write_off=True,
        resolves_dispute=True,
    )
    run.note(
        ENGAGEMENT_MANAGER,
        StepKind.TIME,
        "S1-T06 and S1-T07 (12 h) are settled by the write-off credit: no later run bills "
        "them again, and they are not written off a second time",
    )
    yield date(2026, 4, 24)
    run.time(ENGAGEMENT, CHANGE_REQUEST, APRIL_TIME, "CR-01, April")
    run.milestone("LUM-M3", "pilot stores live, pilot report accepted by the PMO")
    yield date(2026, 4, 28)
    run.accept("LUM-M3", CLIENT_SPONSOR)
    yield date(2026, 4, 30)
    run.pay(second)
    (third,) = run.bill(Period.month(2026, 4), [CONTRACT])

    yield date(2026, 5, 8)
    run.time(ENGAGEMENT, CHANGE_REQUEST, MAY_TIME, "CR-01, May")
    yield date(2026, 5, 22)
    run.milestone("LUM-M4", "rollout to all 212 stores, handover to run signed")
    yield date(2026, 5, 28)
    run.pay(third)
    yield date(2026, 5, 29)
    run.accept("LUM-M4", CLIENT_SPONSOR)
    yield date(2026, 5, 31)
    run.bill(Period.month(2026, 5), [CONTRACT])
