"""The composition root: the one place that chooses the adapters and binds them to handlers.

`bootstrap()` opens the database, picks the real clock and id generator, and hands the
neighbouring systems (in-memory fakes until the real clients exist) to the message bus.
Handlers receive `Dependencies` and never see the container or this module.

Database URLs: `memory://` is the in-memory unit of work (one store per process: tests,
embedding); anything else goes to the SQLAlchemy adapter (`sqlite:///...`,
`postgresql+psycopg://...`), imported only when asked for so that `throughline --version` and
the pure-domain report stay fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from adapters.chart_of_accounts import read_charts
from adapters.clock import MonotonicStopwatch, SystemClock
from adapters.ids import RandomIds
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.tax import TableTaxEngine
from adapters.webhooks.mappings import JsonWebhookTranslator
from application.commands import SeedCustomerRecords
from application.context import RequestContext
from application.handlers import create_bus
from application.messagebus import Dependencies, MessageBus
from application.ports import Clock, CustomerMaster, IdGenerator, TaxEngine
from application.queries.finance import FinanceQueries
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import ChartsOfAccounts, InvalidChartOfAccountsError
from domain.plausibility import PlausibilityPolicy
from entrypoints.externals import ExternalDataError, Externals, load_externals
from entrypoints.settings import MEMORY_URL, Settings

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


class DatabaseUrlError(ValueError):
    """The database URL names no database this build can open."""


Reader = Callable[[RequestContext], UnitOfWork]


class Database(Protocol):
    """What the composition root needs of a database: schema, units of work, cleanup."""

    def upgrade(self) -> None: ...

    def unit_of_work(
        self, ctx: RequestContext, now: Callable[[], datetime], *, read_only: bool = False
    ) -> UnitOfWork: ...

    def dispose(self) -> None: ...


class MemoryDatabase:
    """`memory://`: the in-memory unit of work over one store that lives with the process."""

    def __init__(self) -> None:
        self.store = InMemoryStore()

    def upgrade(self) -> None:
        """An in-memory store has no schema to migrate."""

    def unit_of_work(
        self, ctx: RequestContext, now: Callable[[], datetime], *, read_only: bool = False
    ) -> UnitOfWork:
        return InMemoryUnitOfWork(self.store, ctx, now, read_only=read_only)

    def dispose(self) -> None:
        """Nothing to release; the store lives as long as this object."""


def open_database(url: str) -> Database:
    """The database a URL names (no connection is made until a unit of work needs one)."""
    if url.startswith(MEMORY_URL):
        return MemoryDatabase()
    if not _URL.match(url):
        raise DatabaseUrlError(
            f"{redact(url)!r} is not a database URL; expected e.g. sqlite:///var/throughline.db,"
            " postgresql+psycopg://user@host/db or memory://"
        )
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from adapters.sqlalchemy.database import Database as SqlDatabase
    from adapters.sqlalchemy.database import UnsupportedDatabaseError

    try:
        return SqlDatabase(url)
    except (ArgumentError, NoSuchModuleError, UnsupportedDatabaseError) as error:
        raise DatabaseUrlError(f"cannot open {redact(url)}: {error}") from None


def redact(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def reader(database: Database, clock: Clock) -> Reader:
    """Units of work for questions only: they never commit, and on SQLite never take the
    write lock, so reading does not queue behind writers."""
    return lambda ctx: database.unit_of_work(ctx, clock.now, read_only=True)


def finance_queries(
    database: Database, master: CustomerMaster, now: Callable[[], datetime]
) -> FinanceQueries:
    """The finance screens' query ports on the same store as the units of work (ADR 0042),
    asking the ERP's customer master where nobody pushed a record."""
    if isinstance(database, MemoryDatabase):
        from adapters.memory.queries_finance import memory_finance_queries

        return memory_finance_queries(database.store, master, now)
    from adapters.sqlalchemy.database import Database as SqlDatabase
    from adapters.sqlalchemy.queries.finance import sql_finance_queries

    assert isinstance(database, SqlDatabase), database
    return sql_finance_queries(database.engine, master, now)


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


def compose(
    database: Database,
    clock: Clock,
    ids: IdGenerator,
    externals: Externals,
    plausibility: PlausibilityPolicy | None = None,
    tax_engine: TaxEngine | None = None,
    charts: ChartsOfAccounts | None = None,
) -> MessageBus:
    """Bind the chosen adapters to every handler, once (the plausibility rules as given, by
    default as a deployment that sets nothing has them; tax from our own tables unless a
    deployment passes its tax engine, ADR 0030)."""
    deps = Dependencies(
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
        plausibility=plausibility or PlausibilityPolicy(),
        tax_engine=tax_engine or TableTaxEngine(),
        charts=charts,
    )
    bus = create_bus(deps)
    if externals.customer_seed:
        # The customer master file seeds the store; what the ERP pushed since wins (ADR 0035).
        seeding = RequestContext("customer-master-seed", "customer-master-seed")
        bus.handle(SeedCustomerRecords(externals.customer_seed), seeding)
    return bus


def bootstrap(
    database_url: str | None = None,
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    externals: Externals | None = None,
) -> MessageBus:
    """A message bus on the database the URL names (default: the environment's), the system
    clock, process-safe ids and the neighbouring systems; pass any of them to replace it."""
    settings = Settings.from_env(database_url=database_url)
    return compose(
        open_database(settings.database_url),
        clock or SystemClock(),
        ids or RandomIds(),
        externals or load_externals(settings),
        plausibility_of(settings),
        charts=charts_of(settings),
    )
