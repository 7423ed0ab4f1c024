"""Scenario 4, a retainer: 40 hours a month with rollover of up to 20 hours for two months, an
overage month billed in arrears, and hours lost to the rollover cap and to expiry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.ids import ObligationId
from domain.overage import OveragePolicy
from domain.period import Period
from domain.retainer import RetainerTerms
from entrypoints.demo.firm import ADVISOR, EUR, FR_ENTITY
from entrypoints.demo.steps import Work

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

NUMBER = 4
TITLE = "Retainer"
SUMMARY = (
    "Bellerive Hotels SAS (France) keeps a monthly retainer of 40 hours for 6,000.00 EUR "
    "billed in advance; up to 20 unused hours roll over for two months. March runs over "
    "(overage billed in arrears by the April run); a quiet May and June lose hours over "
    "the rollover cap and let April's carried hours expire (breakage)."
)
MONTHS = tuple(Period.month(2026, month) for month in range(1, 7))

ENGAGEMENT = "ENG-BEL-01"
CONTRACT = "C-BEL-2026-01"
RETAINER = ObligationId("BEL-RETAINER")

BELLERIVE_RETAINER = RetainerTerms(
    RETAINER,
    "Digital advisory retainer",
    EUR,
    fee_per_period=Decimal("6000.00"),
    hours_per_period=Decimal(40),
    start=date(2026, 1, 1),
    end=date(2026, 12, 31),
    rollover_cap_hours=Decimal(20),
    rollover_periods=2,
    overage_rate=Decimal("170.00"),
    overage_policy=OveragePolicy.BILL,
)

#: Hours worked each month of 2026, one entry every third day from the 5th.
RETAINER_USAGE = {
    1: ("8", "7.5", "6.5", "8", "4"),  # 34 h
    2: ("8", "8", "7", "7.5", "7.5"),  # 38 h
    3: ("8", "8", "8", "7.5", "8", "7.5", "8"),  # 55 h: the overage month
    4: ("8", "8", "8"),  # 24 h
    5: ("6",),  # 6 h
    6: ("3",),  # 3 h
}
#: The day of each month's billing run, and the day the month's fee is paid (June's stays open).
RUN_DAYS = {1: 2, 2: 2, 3: 2, 4: 1, 5: 4, 6: 1}
PAID_DAYS = {1: 15, 2: 15, 3: 15, 4: 15, 5: 15}


def _work(month: int) -> list[Work]:
    hours = RETAINER_USAGE[month]
    return [
        Work(f"S4-{month:02d}{n:02d}", ADVISOR, date(2026, month, 5 + 3 * (n - 1)), h)
        for n, h in enumerate(hours, 1)
    ]


def script(run: ScenarioRun) -> Iterator[date]:
    """The scenario's steps, each at the date it happens."""
    yield date(2025, 12, 8)
    run.propose(ENGAGEMENT, "bellerive", CONTRACT, "Closed-won in the CRM: Bellerive Hotels SAS")
    yield date(2025, 12, 15)
    run.sign(
        ENGAGEMENT,
        run.contract(CONTRACT, "bellerive", FR_ENTITY, "EUR", "Digital advisory retainer"),
        [BELLERIVE_RETAINER],
        "SOW",
        "6,000.00 EUR a month in advance for 40 hours, up to 20 unused hours roll over for "
        "two months, overage at 170.00 EUR/h billed in arrears",
    )
    for month in RETAINER_USAGE:
        period = Period.month(2026, month)
        yield date(2026, month, RUN_DAYS[month])
        (invoice,) = run.bill(period, [CONTRACT])
        work = _work(month)
        approved_on = work[-1].day
        paid_on = date(2026, month, PAID_DAYS[month]) if month in PAID_DAYS else None
        if paid_on is not None and paid_on < approved_on:
            yield paid_on
            run.pay(invoice)
        yield approved_on
        run.time(ENGAGEMENT, RETAINER, work, f"retainer, {period.key}")
        if paid_on is not None and paid_on >= approved_on:
            yield paid_on
            run.pay(invoice)
