"""The process's container: the one `Container` (bootstrap.py) a server worker or a CLI run
builds its objects from, and the small typed functions entry points ask it through.

No wiring: entry points ask for what they use (`provide_clock()`, `provide_unit_of_work()`,
...), never the bus for its dependencies; tests replace a provider with `override`:

    container.clock.override(providers.Object(FakeClock(...)))
    container.settings.override(providers.Object(Settings("memory://")))

Handlers never see the container. The container is the only state here: what it opened it
also releases (`release_connections`, `configure`).
"""

from __future__ import annotations

from dependency_injector import providers

from application.messagebus import Dependencies, MessageBus, UnitOfWorkFactory
from application.ports import Clock, CustomerMaster, IdGenerator
from application.queries.finance import FinanceQueries
from entrypoints.composition.bootstrap import Container
from entrypoints.composition.database import Database, Reader
from entrypoints.composition.externals import Externals
from entrypoints.composition.ops_reads import OpsReads
from entrypoints.composition.settings import Settings

__all__ = ["Container", "container"]

container = Container()


def configure(settings: Settings) -> None:
    """Use these settings from now on (the CLI's options); new settings start new singletons
    and release the database the old ones opened.

    The same settings again keep what exists, so a `memory://` database lives on across the
    commands one process runs.
    """
    if container.settings.overridden and container.settings() == settings:
        return
    container.shutdown_resources()
    container.settings.reset_override()
    container.settings.override(providers.Object(settings))
    container.reset_singletons()


def release_connections() -> None:
    """Close the pooled connections of the database the container opened (they reconnect on
    use); a command that never reached its database opens none here, and a database given
    by override belongs to whoever gave it."""
    database = container.database
    if database.initialized and not database.overridden:
        database().dispose()


# What the process is configured with -------------------------------------------------------


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


def provide_customer_master() -> CustomerMaster:
    """The ERP's customer master (addresses and tax codes for documents)."""
    return container.customer_master()


# The write side ----------------------------------------------------------------------------


def provide_bus() -> MessageBus:
    return container.bus()


def provide_unit_of_work() -> UnitOfWorkFactory:
    """New units of work, for entry points that keep their own books (the relay, maintenance
    jobs); the same factory the handlers are bound to."""
    return container.unit_of_work()


def provide_dependencies() -> Dependencies:
    """Everything the handlers may name, for the relay's ERP postings, which use several."""
    return container.handler_dependencies()


# The read side -----------------------------------------------------------------------------


def provide_reader() -> Reader:
    """Read-only units of work, for the questions entry points ask (lists, reports)."""
    return container.reader()


def provide_finance_queries() -> FinanceQueries:
    """The finance screens' query ports (ADR 0042)."""
    return container.finance_queries()


def provide_ops_reads() -> OpsReads:
    """The query ports of the delivery, setup and operations screens (HTTP and CLI)."""
    return container.ops_reads()
