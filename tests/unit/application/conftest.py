"""A running application on in-memory adapters and fakes of every external system."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from adapters import memory
from application import commands as c
from application.context import RequestContext
from application.messagebus import MessageBus
from application.ports import CustomerRecord
from application.records import ExceptionKind, IntegrationException
from domain import ids
from domain.money import Currency
from domain.plausibility import PlausibilityPolicy
from domain.ratecard import RateCardVersion
from domain.split import ObligationPayers
from domain.tax import TaxRate, TaxRateTable
from domain.time_and_materials import TimeAndMaterialsTerms
from entrypoints.composition.bootstrap import dependencies_of, message_bus
from entrypoints.composition.externals import Externals

CUSTOMER = ids.CustomerId("acme")
ENTITY = ids.LegalEntityId("tl-uk")
EUR = Currency.of("EUR")
TM = ids.ObligationId("tm")


@attrs.define
class App:
    """The bus plus handles on the fakes, for tests that act and then look."""

    bus: MessageBus
    store: Any  # the in-memory store, or the SQL read view in tests/integration
    clock: memory.FakeClock
    master: memory.FakeCustomerMaster
    projects: memory.FakeProjects
    handover: memory.FakeHandover
    crm: memory.FakeCrm
    psa: memory.FakePsaTimeExport
    erp: memory.FakeErpReceivables

    def as_(self, actor: str, correlation_id: str = "corr-1") -> RequestContext:
        return RequestContext(actor, correlation_id)

    def do(self, command: object, actor: str = "ops") -> Any:
        return self.bus.handle(command, self.as_(actor))

    @property
    def data(self) -> Any:
        return self.store.data

    def the_exception(
        self, kind: ExceptionKind, reason_code: str | None = None
    ) -> IntegrationException:
        """The one integration exception the story left, which is of `kind` (and, when given,
        for `reason_code`)."""
        (exception,) = self.data.exceptions.values()
        assert exception.kind is kind, exception
        if reason_code is not None:
            assert exception.reason_code == reason_code, exception
        return exception


def complete_record(tax_code: str | None = "VAT20") -> CustomerRecord:
    return CustomerRecord(CUSTOMER, ENTITY, "Acme Ltd", "EUR", tax_code, False, "1 Main St")


#: The fixtures' clock stands at 1 March 2026, 09:00, while their stories book, bill and pay
#: the months that follow: the future-date rule (ADR 0025) is widened here, as a deployment
#: could with THROUGHLINE_FUTURE_TOLERANCE_DAYS. The rule's own tests use the default.
FIXTURE_PLAUSIBILITY = PlausibilityPolicy(future_tolerance_days=366)


@attrs.frozen
class _Units:
    """A unit-of-work factory, seen as the database the composition root opens."""

    make: Callable[..., Any]

    def unit_of_work(self, ctx: RequestContext, now: object, *, read_only: bool = False) -> Any:
        return self.make(ctx, read_only=read_only)


def wire(
    store: Any,
    uow: Callable[..., Any],
    clock: memory.FakeClock,
    plausibility: PlausibilityPolicy = FIXTURE_PLAUSIBILITY,
) -> App:
    """The bus on a unit-of-work factory, composed as a deployment composes it, with every
    external system faked and a stopwatch the tests move (shared by the in-memory tests here
    and the SQL ones in tests/integration)."""
    fakes = Externals(customer_master=memory.FakeCustomerMaster([complete_record()]))
    deps = dependencies_of(
        _Units(uow), clock, memory.SequentialIds(), fakes, plausibility=plausibility
    )
    bus = message_bus(attrs.evolve(deps, stopwatch=memory.FakeStopwatch()), fakes)
    return App(
        bus, store, clock, fakes.customer_master, fakes.projects, fakes.handover, fakes.crm,
        fakes.psa_time, fakes.erp_receivables,
    )  # fmt: skip


def start_clock() -> memory.FakeClock:
    return memory.FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


def in_memory_app(plausibility: PlausibilityPolicy = FIXTURE_PLAUSIBILITY) -> App:
    """The application on a new, empty in-memory store, its clock at 09:00 on 1 March 2026."""
    store, clock = memory.InMemoryStore(), start_clock()
    return wire(
        store,
        lambda ctx, read_only=False: memory.InMemoryUnitOfWork(
            store, ctx, clock.now, read_only=read_only
        ),
        clock,
        plausibility,
    )


def told_in_memory_too(app: App, story: Callable[[App], object]) -> App:
    """`story` told to a fresh in-memory application and then to `app`; the in-memory one, for
    the tests that ask both stores the same questions."""
    fresh = in_memory_app()
    for told in (fresh, app):
        story(told)
    return fresh


@pytest.fixture
def app() -> App:
    return in_memory_app()


def set_up_tm_contract(
    app: App, cap: Any = None, payers: tuple[ObligationPayers, ...] = ()
) -> None:
    """Deal won, rate card published, SOW with one T&M obligation approved."""
    set_up_rates_and_deal(app)
    terms = TimeAndMaterialsTerms(TM, "Advisory", EUR, ids.RateCardId("RC"), cap=cap)
    app.do(
        c.DraftContractVersion(ids.ContractId("C1"), date(2026, 1, 1), (terms,), payers=payers),
        actor="clm",
    )
    app.do(c.ApproveContractVersion(ids.ContractId("C1"), 1), actor="legal")


def sign_contract(
    app: App, engagement: str, contract: str, name: str, terms: Any, customer: str = CUSTOMER
) -> None:
    """Another engagement won and its contract approved, one version of `terms` from 1 January
    2026 (set up the rates first)."""
    app.do(
        c.ProposeEngagement(ids.EngagementId(engagement), customer, ids.ContractId(contract)),
        actor="crm",
    )
    app.do(c.RegisterContract(ids.ContractId(contract), customer, ENTITY, "EUR", name), actor="clm")
    app.do(
        c.DraftContractVersion(ids.ContractId(contract), date(2026, 1, 1), tuple(terms)),
        actor="clm",
    )
    app.do(c.ApproveContractVersion(ids.ContractId(contract), 1), actor="legal")


def set_up_rates_and_deal(app: App) -> None:
    """VAT at 20 %, rate card RC at 100.00 an hour for a consultant, engagement E1 won and
    contract C1 registered for acme, with no version yet."""
    app.do(c.SetTaxRates(TaxRateTable((TaxRate("VAT20", date(2020, 1, 1), Decimal("0.20")),))))
    app.do(c.CreateRateCard(ids.RateCardId("RC"), "UK rates", "EUR"))
    app.do(
        c.PublishRateCardVersion(
            ids.RateCardId("RC"),
            RateCardVersion(1, date(2026, 1, 1), EUR, {ids.Role("consultant"): Decimal("100")}),
        )
    )
    app.do(c.ProposeEngagement(ids.EngagementId("E1"), CUSTOMER, ids.ContractId("C1")), actor="crm")
    app.do(
        c.RegisterContract(ids.ContractId("C1"), CUSTOMER, ENTITY, "EUR", "Advisory"), actor="clm"
    )


def time_entry(entry_id: str, day: date, hours: str, **kwargs: Any) -> c.TimeEntryInput:
    fields: dict[str, Any] = {
        "entry_id": ids.TimeEntryId(entry_id),
        "engagement_id": ids.EngagementId("E1"),
        "obligation_id": TM,
        "resource_id": ids.ResourceId("r1"),
        "role": ids.Role("consultant"),
        "work_date": day,
        "hours": Decimal(hours),
    }
    fields.update(kwargs)
    return c.TimeEntryInput(**fields)
