"""A seeded world for the benchmarks: a bus on a real database, N active engagements with
contracts of every billing model, and deterministic delivery data."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from adapters.clock import MonotonicStopwatch
from adapters.memory import (
    FakeClock,
    FakeCrm,
    FakeCustomerMaster,
    FakeErpReceivables,
    FakeGeneralLedger,
    FakeHandover,
    FakeProjects,
    FakePsaTimeExport,
    SequentialIds,
)
from adapters.sqlalchemy.database import Database
from adapters.webhooks.mappings import JsonWebhookTranslator
from application import commands as c
from application.context import RequestContext
from application.handlers import create_bus
from application.messagebus import Dependencies, MessageBus
from application.ports import CustomerRecord
from domain.fixed_fee import FixedFeeTerms, Installment
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    InstallmentId,
    LegalEntityId,
    MilestoneId,
    ObligationId,
    RateCardId,
    ResourceId,
    Role,
    TimeEntryId,
)
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency
from domain.ratecard import RateCardVersion
from domain.retainer import RetainerTerms
from domain.tax import TaxRate, TaxRateTable
from domain.time_and_materials import TimeAndMaterialsTerms

EUR = Currency.of("EUR")
ENTITY = LegalEntityId("tl-fr")
CTX = RequestContext("bench", "bench-correlation")
ROLES = [Role("consultant"), Role("senior"), Role("manager")]


def bus_on(database: Database, customers: int) -> MessageBus:
    # The world stands on 1 March: January's time and February's payments have happened
    # (nothing is dated in the future, ADR 0025).
    clock = FakeClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    master = FakeCustomerMaster(
        CustomerRecord(CustomerId(f"CUST-{n:05d}"), ENTITY, f"Customer {n}", "EUR", "FR20",
                       False, f"{n} rue de la Paix")
        for n in range(customers)
    )  # fmt: skip
    deps = Dependencies(
        uow=lambda ctx, read_only=False: database.unit_of_work(ctx, clock.now, read_only=read_only),
        clock=clock,
        ids=SequentialIds(),
        customer_master=master,
        projects=FakeProjects(),
        handover=FakeHandover(),
        general_ledger=FakeGeneralLedger(),
        crm=FakeCrm(),
        psa_time=FakePsaTimeExport(),
        erp_receivables=FakeErpReceivables(),
        webhooks=JsonWebhookTranslator(),
        stopwatch=MonotonicStopwatch(),
    )
    return create_bus(deps)


def model_of(n: int) -> str:
    """Mixed portfolio: half T&M, then retainer, fixed fee and milestone contracts."""
    return ("tm", "tm", "retainer", "fixed_fee", "milestones")[n % 5]


def obligation(n: int) -> ObligationId:
    return ObligationId(f"OB-{n:05d}")


def _terms(n: int) -> object:
    oid, kind = obligation(n), model_of(n)
    if kind == "tm":
        return TimeAndMaterialsTerms(oid, "Delivery", EUR, RateCardId("RC"))
    if kind == "retainer":
        return RetainerTerms(oid, "Retainer", EUR, Decimal("12000"), Decimal("120"),
                             date(2026, 1, 1), rollover_cap_hours=Decimal("20"),
                             rollover_periods=2, overage_rate=Decimal("140"))  # fmt: skip
    if kind == "fixed_fee":
        return FixedFeeTerms(oid, "Programme", EUR, Decimal("90000.00"),
                             (Installment(InstallmentId(f"I{n}-1"), date(2026, 1, 31),
                                          percentage=Decimal("50")),
                              Installment(InstallmentId(f"I{n}-2"), date(2026, 3, 31),
                                          percentage=Decimal("50"))),
                             estimate_hours=Decimal("600"))  # fmt: skip
    specs = tuple(
        MilestoneSpec(MilestoneId(f"M{n}-{k}"), f"Phase {k}", percentage=Decimal("25"),
                      final=k == 4)
        for k in range(1, 5)
    )  # fmt: skip
    return MilestoneTerms(oid, "Milestones", EUR, Decimal("40000.00"), specs,
                          retention_percent=Decimal("10"))  # fmt: skip


def seed_engagements(bus: MessageBus, count: int) -> None:
    """Rates, tax, and `count` approved contracts, each with one obligation, all active."""
    rates = TaxRateTable((TaxRate("FR20", date(2020, 1, 1), Decimal("0.20")),))
    bus.handle(c.SetTaxRates(rates), CTX)
    bus.handle(c.CreateRateCard(RateCardId("RC"), "France", "EUR"), CTX)
    card = RateCardVersion(
        1, date(2025, 1, 1), EUR,
        {ROLES[0]: Decimal("120"), ROLES[1]: Decimal("165.50"), ROLES[2]: Decimal("210")},
    )  # fmt: skip
    bus.handle(c.PublishRateCardVersion(RateCardId("RC"), card), CTX)
    for n in range(count):
        contract_id = ContractId(f"C-{n:05d}")
        customer = CustomerId(f"CUST-{n:05d}")
        bus.handle(c.ProposeEngagement(EngagementId(f"E-{n:05d}"), customer, contract_id), CTX)
        bus.handle(c.RegisterContract(contract_id, customer, ENTITY, "EUR", f"Deal {n}"), CTX)
        bus.handle(c.DraftContractVersion(contract_id, date(2026, 1, 1), (_terms(n),)), CTX)
        bus.handle(c.ApproveContractVersion(contract_id, 1), CTX)


def time_entries(engagements: int, count: int, seed: int = 7) -> Iterator[c.TimeEntryInput]:
    """`count` approved entries spread over the engagements, January 2026, seeded; no
    person's day holds more than 24 h (a person drawn again until the hours fit)."""
    rng = random.Random(seed)
    people = max(400, count // 40)
    booked: dict[tuple[int, date], Decimal] = {}
    for i in range(count):
        n = i % engagements
        role = ROLES[rng.randrange(3)]
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(31))
        hours = Decimal(rng.randrange(1, 33)) / 4
        person = rng.randrange(people)
        while booked.get((person, day), Decimal(0)) + hours > 24:
            person = rng.randrange(people)
        booked[(person, day)] = booked.get((person, day), Decimal(0)) + hours
        yield c.TimeEntryInput(
            TimeEntryId(f"T-{i:08d}"),
            EngagementId(f"E-{n:05d}"),
            obligation(n),
            ResourceId(f"R-{person:04d}"),
            role,
            day,
            hours,
        )
