"""The composition root: the one place that builds a running application.

`Container` declares the whole graph once: settings → the database → the clock, ids and
neighbouring systems → the `Dependencies` handlers name → the message bus, and the read side
beside it (read-only units of work, the query ports). Every process takes its objects from it:
a server worker or a CLI command through the process's container (`container.py` and its
`provide_*` functions), a script or a test through `bootstrap()`, a fresh container with the
pieces it is given in place of the defaults (ADR 0046). The functions the providers call build
one piece each; `compose` is the two of them that make a bus, for a bus over a given database.
Handlers receive what they name from `Dependencies` and never see the container or this module.

Database URLs: `memory://` is the in-memory unit of work (one store per process: tests,
embedding); anything else goes to the SQLAlchemy adapter (`sqlite:///...`,
`postgresql+psycopg://...`), imported only when asked for so that `throughline --version` and
the pure-domain report stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict, Unpack

from dependency_injector import containers, providers

from adapters.chart_of_accounts import read_charts
from adapters.clock import MonotonicStopwatch, SystemClock
from adapters.ids import RandomIds
from adapters.tax import TableTaxEngine
from adapters.webhooks.mappings import JsonWebhookTranslator
from application.commands import SeedCustomerRecords
from application.context import RequestContext
from application.handlers import create_bus
from application.messagebus import Dependencies, MessageBus
from application.ports import Clock, IdGenerator, TaxEngine
from domain.chart_of_accounts import ChartsOfAccounts, InvalidChartOfAccountsError
from domain.plausibility import PlausibilityPolicy
from entrypoints.composition.database import (
    Database,
    open_database,
    reader,
)
from entrypoints.composition.externals import ExternalDataError, Externals, load_externals
from entrypoints.composition.finance_reads import finance_queries
from entrypoints.composition.ops_reads import ops_reads_for
from entrypoints.composition.settings import Settings


def plausibility_of(settings: Settings) -> PlausibilityPolicy:
    """The plausibility rules as the deployment set them (ADR 0025)."""
    return PlausibilityPolicy(future_tolerance_days=settings.future_tolerance_days)


def charts_of(settings: Settings) -> ChartsOfAccounts | None:
    """The charts of accounts the settings name (ADR 0033), read and checked now, so a bad
    mapping stops start-up; None: entries stay in the journal and nothing goes to the ERP."""
    if settings.chart_of_accounts is None:
        return None
    try:
        return read_charts(settings.chart_of_accounts)
    except InvalidChartOfAccountsError as error:
        raise ExternalDataError(str(error)) from None


def opened_database(url: str) -> Iterator[Database]:
    """The database a URL names, for as long as the container holds it; released after."""
    database = open_database(url)
    try:
        yield database
    finally:
        database.dispose()


class Choices(TypedDict, total=False):
    """What a deployment chooses beside its adapters; each left out is as a deployment that
    sets nothing has it."""

    #: The plausibility rules of time (ADR 0025); by default, the policy's own defaults.
    plausibility: PlausibilityPolicy
    #: Tax per category; by default from our own tables (ADR 0030).
    tax_engine: TaxEngine
    #: The ERP accounts per legal entity (ADR 0033); None: entries stay in the journal.
    charts: ChartsOfAccounts | None


def dependencies_of(
    database: Database,
    clock: Clock,
    ids: IdGenerator,
    externals: Externals,
    **choices: Unpack[Choices],
) -> Dependencies:
    """What handlers may name, over the chosen adapters and the deployment's `Choices`."""
    return Dependencies(
        uow=lambda ctx, read_only=False: database.unit_of_work(ctx, clock.now, read_only=read_only),
        clock=clock,
        ids=ids,
        customer_master=externals.customer_master,
        projects=externals.projects,
        handover=externals.handover,
        general_ledger=externals.general_ledger,
        crm=externals.crm,
        psa_time=externals.psa_time,
        erp_receivables=externals.erp_receivables,
        webhooks=JsonWebhookTranslator(),
        stopwatch=MonotonicStopwatch(),
        plausibility=choices.get("plausibility") or PlausibilityPolicy(),
        tax_engine=choices.get("tax_engine") or TableTaxEngine(),
        charts=choices.get("charts"),
    )


def message_bus(deps: Dependencies, externals: Externals) -> MessageBus:
    """Every handler bound to the dependencies, once; the customer master file seeds the
    store (what the ERP pushed since wins, ADR 0035)."""
    bus = create_bus(deps)
    if externals.customer_seed:
        seeding = RequestContext("customer-master-seed", "customer-master-seed")
        bus.handle(SeedCustomerRecords(externals.customer_seed), seeding)
    return bus


def compose(
    database: Database,
    clock: Clock,
    ids: IdGenerator,
    externals: Externals,
    **choices: Unpack[Choices],
) -> MessageBus:
    """A message bus over a database already chosen: the container's two steps, for tests and
    loaders that bring their own database and fakes."""
    return message_bus(dependencies_of(database, clock, ids, externals, **choices), externals)


class Container(containers.DeclarativeContainer):
    """Settings → database, clock, ids, neighbouring systems → Dependencies → the message bus;
    the read side beside it. Each provider builds once per container; override any of them
    (`container.clock.override(providers.Object(FakeClock(...)))`) to replace it."""

    settings = providers.Singleton(Settings.from_env)
    #: Opened on first use; `shutdown_resources()` releases it.
    database = providers.Resource(opened_database, settings.provided.database_url)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    externals = providers.Singleton(load_externals, settings)
    plausibility = providers.Singleton(plausibility_of, settings)
    #: Tax per category from our tables (ADR 0030); override with an external tax engine.
    tax_engine = providers.Singleton(TableTaxEngine)
    #: The ERP accounts per legal entity (ADR 0033), from $THROUGHLINE_CHART_OF_ACCOUNTS.
    charts = providers.Singleton(charts_of, settings)

    # The write side: what handlers name, and the bus that binds it ---------------------------
    #: (`dependencies` is a name the container keeps for itself.)
    handler_dependencies = providers.Singleton(
        dependencies_of,
        database,
        clock,
        ids,
        externals,
        plausibility=plausibility,
        tax_engine=tax_engine,
        charts=charts,
    )
    bus = providers.Singleton(message_bus, handler_dependencies, externals)
    #: New units of work (the relay, maintenance jobs); the same factory handlers get.
    unit_of_work = handler_dependencies.provided.uow
    customer_master = externals.provided.customer_master

    # The read side: read-only units of work and the query ports (application/queries/) -------
    reader = providers.Singleton(reader, database, clock)
    #: The query ports of the delivery, setup and operations screens.
    ops_reads = providers.Singleton(ops_reads_for, database)
    #: The query ports of the finance screens (ADR 0042), on the same database.
    finance_queries = providers.Singleton(
        finance_queries, database, externals.provided.customer_master, clock.provided.now
    )


def bootstrap(
    database_url: str | None = None,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    externals: Externals | None = None,
) -> MessageBus:
    """A message bus on the database the URL names (default: the environment's), the system
    clock, process-safe ids and the neighbouring systems; pass any of them to replace it.
    The bus of a fresh `Container`: the graph is declared there only."""
    root = Container()
    root.settings.override(providers.Object(Settings.from_env(database_url=database_url)))
    for provider, given in ((root.clock, clock), (root.ids, ids), (root.externals, externals)):
        if given is not None:
            provider.override(providers.Object(given))
    bus: MessageBus = root.bus()
    return bus
