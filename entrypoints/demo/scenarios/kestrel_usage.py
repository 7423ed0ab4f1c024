"""Scenario 5, metered usage: Kestrel Pharma Inc. pays for the calls its labs make to the
analytics platform's API, by graduated tiers with a monthly minimum (ADR 0051)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.ids import ObligationId
from domain.period import Period
from domain.usage import USAGE, UsageRecord, UsageTerms, UsageTier
from entrypoints.demo.firm import US_ENTITY, USD

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

NUMBER = 5
TITLE = "Metered platform usage"
SUMMARY = (
    "Kestrel Pharma Inc. pays for its labs' calls to the analytics platform's API: 0.0200 USD "
    "a call up to 50,000 a month, 0.0150 above, at least 1,000.00 a month. The metering system "
    "reports the calls and recounts one before billing; March and May fall short of the "
    "minimum, April passes the first tier."
)
MONTHS = tuple(Period.month(2026, month) for month in range(2, 7))

CONTRACT = "C-KES-US-02"
API = ObligationId("KES-API")

KESTREL_API = UsageTerms(
    API,
    "Analytics platform API",
    USD,
    "calls",
    (
        UsageTier(Decimal(0), Decimal("0.0200"), Decimal(50000)),
        UsageTier(Decimal(50000), Decimal("0.0150")),
    ),
    service_start=date(2026, 3, 1),
    service_end=date(2026, 5, 31),
    minimum_per_period=Decimal("1000.00"),
)


def calls(record_id: str, day: date, count: int) -> UsageRecord:
    return UsageRecord(record_id, API, day, Decimal(count), "calls", "lab gateway")


def script(run: ScenarioRun) -> Iterator[date]:
    """The scenario's steps, each at the date it happens."""
    yield date(2026, 2, 16)
    run.propose("ENG-KES-API", "kestrel-us", CONTRACT, "Closed-won in the CRM: platform API")
    yield date(2026, 2, 23)
    run.sign(
        "ENG-KES-API",
        run.contract(CONTRACT, "kestrel-us", US_ENTITY, "USD", "Analytics platform API"),
        [KESTREL_API],
        "Usage order",
        "API calls at 0.0200 USD up to 50,000 a month, 0.0150 above, at least 1,000.00 a "
        "month from March to May 2026, billed monthly in arrears",
    )

    yield date(2026, 3, 31)
    run.report(
        USAGE.name,
        [
            calls("KES-API-0315", date(2026, 3, 15), 30000),
            calls("KES-API-0331", date(2026, 3, 31), 9000),
        ],
        "March's calls reported by the metering system",
    )
    run.report(
        USAGE.name,
        [calls("KES-API-0331", date(2026, 3, 31), 12000)],
        "The metering system recounts 31 March",
    )
    yield date(2026, 4, 1)
    # 42,000 calls x 0.0200 = 840.00; the 1,000.00 minimum asks 160.00 more.
    run.bill(Period.month(2026, 3), [CONTRACT])

    yield date(2026, 4, 30)
    run.report(
        USAGE.name,
        [
            calls("KES-API-0415", date(2026, 4, 15), 40000),
            calls("KES-API-0430", date(2026, 4, 30), 28000),
        ],
        "April's calls reported by the metering system",
    )
    yield date(2026, 5, 1)
    # 68,000 calls: 50,000 x 0.0200 + 18,000 x 0.0150 = 1,000.00 + 270.00 = 1,270.00.
    run.bill(Period.month(2026, 4), [CONTRACT])

    yield date(2026, 5, 29)
    run.report(
        USAGE.name,
        [calls("KES-API-0529", date(2026, 5, 29), 45000)],
        "May's calls reported by the metering system",
    )
    yield date(2026, 6, 1)
    # 45,000 calls x 0.0200 = 900.00; the minimum asks 100.00 more. The service has ended.
    run.bill(Period.month(2026, 5), [CONTRACT])
