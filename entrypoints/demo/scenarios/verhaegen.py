"""Scenario 3, a blocked setup: a T&M study for a customer whose ERP tax profile is missing;
the setup lands in the finance exception queue, time logged meanwhile is refused, finance fixes
the master data, a replay completes the setup and the refused time is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.ids import ObligationId
from domain.overage import OveragePolicy
from domain.period import Period
from domain.time_and_materials import NotToExceed, TimeAndMaterialsTerms
from entrypoints.demo.firm import (
    CONSULTANT,
    EUR,
    FR_ENTITY,
    FR_RATE_CARD,
    MANAGER,
    PARTNER,
    REVERSE_CHARGE,
    SENIOR,
    VERHAEGEN_FIXED,
)
from entrypoints.demo.steps import Work

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

NUMBER = 3
TITLE = "Blocked setup"
SUMMARY = (
    "Verhaegen Logistics NV (Belgium) signs a T&M study, but the ERP has no tax profile "
    "for it: setup parks in setup_blocked and lands in the finance exception queue. Time "
    "logged meanwhile is refused; finance adds a reverse-charge profile, a replay finishes "
    "the setup, the refused time is accepted, and the work is billed up to its 60-hour cap."
)
MONTHS = tuple(Period.month(2026, month) for month in range(3, 5))

ENGAGEMENT = "ENG-VER-01"
CONTRACT = "C-VER-2026-01"
STUDY = ObligationId("VER-STUDY")

VERHAEGEN_STUDY = TimeAndMaterialsTerms(
    STUDY,
    "Warehouse network study",
    EUR,
    FR_RATE_CARD,
    billing_increment=Decimal("0.25"),
    cap=NotToExceed(hours=Decimal(60), policy=OveragePolicy.HOLD),
)

EARLY_TIME = (
    Work("S3-T01", MANAGER, date(2026, 3, 9), "7"),
    Work("S3-T02", CONSULTANT, date(2026, 3, 10), "8"),
)
MARCH_TIME = (
    Work("S3-T03", SENIOR, date(2026, 3, 16), "7.5"),
    Work("S3-T04", CONSULTANT, date(2026, 3, 17), "8"),
    Work("S3-T05", SENIOR, date(2026, 3, 24), "6.25"),
    Work("S3-T06", PARTNER, date(2026, 3, 30), "2"),
)
APRIL_TIME = (
    Work("S3-T07", SENIOR, date(2026, 4, 2), "8"),
    Work("S3-T08", CONSULTANT, date(2026, 4, 3), "7.5"),
    Work("S3-T09", SENIOR, date(2026, 4, 7), "8"),
)


def script(run: ScenarioRun) -> Iterator[date]:
    """The scenario's steps, each at the date it happens."""
    yield date(2026, 3, 2)
    run.propose(ENGAGEMENT, "verhaegen", CONTRACT, "Closed-won in the CRM: Verhaegen Logistics NV")
    yield date(2026, 3, 4)
    blocked = run.sign(
        ENGAGEMENT,
        run.contract(CONTRACT, "verhaegen", FR_ENTITY, "EUR", "Warehouse network study"),
        [VERHAEGEN_STUDY],
        "SOW",
        "time and materials on the France regional rate card, not to exceed 60 hours (hours "
        "above the cap are held)",
    )
    if blocked is None:
        raise RuntimeError("the Verhaegen setup should have been blocked")
    yield date(2026, 3, 6)
    run.bill(Period.month(2026, 3), [CONTRACT], dry_run=True)
    for work in EARLY_TIME:
        yield work.day
        run.time(ENGAGEMENT, STUDY, [work], "March")
    yield date(2026, 3, 11)
    run.fix_customer_master(
        VERHAEGEN_FIXED,
        "Finance validates Verhaegen's Belgian VAT number and adds the missing tax profile in "
        f"the ERP: {REVERSE_CHARGE}, reverse charged (intra-EU B2B services)",
    )
    run.replay(blocked, ENGAGEMENT)
    run.time(ENGAGEMENT, STUDY, EARLY_TIME, "replay of the time refused during the block")
    yield date(2026, 3, 30)
    run.time(ENGAGEMENT, STUDY, MARCH_TIME, "March")
    yield date(2026, 3, 31)
    (first,) = run.bill(Period.month(2026, 3), [CONTRACT])

    yield date(2026, 4, 10)
    run.time(ENGAGEMENT, STUDY, APRIL_TIME, "April")
    yield date(2026, 4, 24)
    run.pay(first)
    yield date(2026, 4, 30)
    run.bill(Period.month(2026, 4), [CONTRACT])
