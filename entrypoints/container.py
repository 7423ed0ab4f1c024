"""The dependency-injector container: which object each entry point gets, built once.

No wiring: entry points ask through the small typed `provide_*` functions below (the CLI now,
Litestar's dependency functions later), and tests replace a provider with `override`:

    container.clock.override(providers.Object(FakeClock(...)))
    container.settings.override(providers.Object(Settings("memory://")))

Handlers never see the container; `bus` binds everything through `bootstrap.compose`.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.ids import RandomIds
from adapters.tax import TableTaxEngine
from application.messagebus import MessageBus
from application.ports import Clock, IdGenerator
from application.queries.finance import FinanceQueries
from entrypoints.bootstrap import (
    Database,
    Reader,
    charts_of,
    compose,
    finance_queries,
    open_database,
    plausibility_of,
    reader,
)
from entrypoints.externals import Externals, load_externals
from entrypoints.settings import Settings

_opened: list[Database] = []


def _open_database(url: str) -> Database:
    database = open_database(url)
    _opened.append(database)
    return database


class Container(containers.DeclarativeContainer):
    """Settings → database, clock, ids, neighbouring systems → the message bus."""

    settings = providers.Singleton(Settings.from_env)
    database = providers.Singleton(_open_database, settings.provided.database_url)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    externals = providers.Singleton(load_externals, settings)
    plausibility = providers.Singleton(plausibility_of, settings)
    #: Tax per category from our tables (ADR 0030); override with an external tax engine.
    tax_engine = providers.Singleton(TableTaxEngine)
    #: The ERP accounts per legal entity (ADR 0033), from $THROUGHLINE_CHART_OF_ACCOUNTS.
    charts = providers.Singleton(charts_of, settings)
    bus = providers.Singleton(
        compose, database, clock, ids, externals, plausibility, tax_engine, charts
    )
    reader = providers.Singleton(reader, database, clock)
    #: The finance screens' query ports (ADR 0042), on the same database.
    finance_queries = providers.Singleton(
        finance_queries, database, externals.provided.customer_master, clock.provided.now
    )


container = Container()


def configure(settings: Settings) -> None:
    """Use these settings from now on (the CLI's options); new settings start new singletons.

    The same settings again keep what exists, so a `memory://` database lives on across the
    commands one process runs.
    """
    if container.settings.overridden and container.settings() == settings:
        return
    container.settings.reset_override()
    container.settings.override(providers.Object(settings))
    container.reset_singletons()
    release_connections()
    _opened.clear()


def release_connections() -> None:
    """Close the pooled connections of the databases opened so far (they reconnect on use);
    a command that never reached its database opens none here."""
    for database in _opened:
        database.dispose()


def provide_settings() -> Settings:
    return container.settings()


def provide_database() -> Database:
    return container.database()


def provide_clock() -> Clock:
    return container.clock()


def provide_ids() -> IdGenerator:
    return container.ids()


def provide_externals() -> Externals:
    return container.externals()


def provide_bus() -> MessageBus:
    return container.bus()


def provide_reader() -> Reader:
    """Read-only units of work, for the questions entry points ask (lists, reports)."""
    return container.reader()


def provide_finance_queries() -> FinanceQueries:
    """The finance screens' query ports (ADR 0042)."""
    return container.finance_queries()
