"""Scenario 2, a multi-country engagement: phased fixed-fee milestones in EUR from the French
company and a managed service in USD from the US company; payments flow back to the CRM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.ids import MilestoneId, ObligationId
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.period import Period
from domain.recurring import RecurringTerms
from entrypoints.demo.firm import EUR, FR_ENTITY, US_ENTITY, USD

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

NUMBER = 2
TITLE = "Multi-country engagement"
SUMMARY = (
    "Kestrel Pharma buys phased fixed-fee milestones in EUR from the French company "
    "(French VAT) and a managed service in USD from the US company: two contracts, so two "
    "invoices per run. The first month of service is prorated by days; payments flow back "
    "to the CRM account."
)
MONTHS = tuple(Period.month(2026, month) for month in range(2, 6))

EU_CONTRACT, US_CONTRACT = "C-KES-EU-01", "C-KES-US-01"
PHASES = ObligationId("KES-PHASES")
MANAGED = ObligationId("KES-MANAGED")
KESTREL_SPONSOR = "j.marchand (Kestrel VP Operations)"

KESTREL_PHASES = MilestoneTerms(
    PHASES,
    "Lab analytics programme",
    EUR,
    Decimal("180000.00"),
    (
        MilestoneSpec(MilestoneId("KES-P1"), "Phase 1 Assessment", amount=Decimal(45000)),
        MilestoneSpec(MilestoneId("KES-P2"), "Phase 2 Design", amount=Decimal(60000)),
        MilestoneSpec(MilestoneId("KES-P3"), "Phase 3 Implementation", amount=Decimal(75000)),
    ),
)

KESTREL_MANAGED = RecurringTerms(
    MANAGED,
    "Managed analytics platform",
    USD,
    Decimal("12500.00"),
    service_start=date(2026, 3, 16),
    service_end=date(2027, 3, 15),
)


def script(run: ScenarioRun) -> Iterator[date]:
    """The scenario's steps, each at the date it happens."""
    eu, us = EU_CONTRACT, US_CONTRACT
    won = "Closed-won in the CRM: Kestrel Pharma, France and United States"
    yield date(2026, 2, 9)
    run.propose("ENG-KES-EU", "kestrel-fr", eu, won)
    run.propose("ENG-KES-US", "kestrel-us", us, won)
    yield date(2026, 2, 16)
    run.sign(
        "ENG-KES-EU",
        run.contract(eu, "kestrel-fr", FR_ENTITY, "EUR", "Lab analytics programme"),
        [KESTREL_PHASES],
        "SOW",
        "three phased fixed-fee milestones (45,000.00 + 60,000.00 + 75,000.00 EUR), French VAT",
    )
    run.sign(
        "ENG-KES-US",
        run.contract(us, "kestrel-us", US_ENTITY, "USD", "Managed analytics service"),
        [KESTREL_MANAGED],
        "Service order",
        "managed service at 12,500.00 USD a month from 16 March 2026, billed monthly in advance",
    )

    yield date(2026, 3, 2)
    (usd_march,) = run.bill(Period.month(2026, 3), [eu, us])
    yield date(2026, 3, 12)
    run.milestone("KES-P1", "assessment report and roadmap delivered")
    yield date(2026, 3, 13)
    run.accept("KES-P1", KESTREL_SPONSOR)
    yield date(2026, 3, 31)
    run.pay(usd_march)
    run.account_status()

    yield date(2026, 4, 1)
    april = run.bill(Period.month(2026, 4), [eu, us])
    eur_p1, usd_april = sorted(april, key=lambda i: i.gross.currency.code)
    yield date(2026, 4, 23)
    run.milestone("KES-P2", "solution design signed by the Kestrel architecture board")
    yield date(2026, 4, 24)
    run.accept("KES-P2", KESTREL_SPONSOR)
    yield date(2026, 4, 29)
    run.pay(eur_p1)
    yield date(2026, 4, 30)
    run.pay(usd_april)
    run.account_status()

    yield date(2026, 5, 1)
    may = run.bill(Period.month(2026, 5), [eu, us])
    eur_p2 = next(i for i in may if i.gross.currency.code == "EUR")
    yield date(2026, 5, 28)
    run.milestone("KES-P3", "platform live in the Lyon and Basel labs")
    yield date(2026, 5, 29)
    run.pay(eur_p2, Decimal("40000.00"), payer="Kestrel Pharma France SAS (part)")
    run.account_status()
