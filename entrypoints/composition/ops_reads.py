"""The query ports of the delivery, setup and operations screens, chosen for a database: SQL
on a SQLAlchemy database, dictionaries on the in-memory one. Built once by whoever composes
the application (the HTTP server, the CLI, the tests' harnesses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from adapters.clock import SystemClock
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.queries_contracts import InMemoryContractQueries
from adapters.memory.queries_delivery import InMemoryDeliveryQueries
from adapters.memory.queries_engagements import InMemoryEngagementQueries
from adapters.memory.queries_milestones import InMemoryMilestoneQueries
from adapters.memory.queries_operations import InMemoryOperationsQueries
from adapters.memory.queries_setup import InMemoryLegalEntityQueries, InMemoryRateCardQueries
from application.queries.contracts import ContractQueries
from application.queries.delivery import DeliveryQueries
from application.queries.engagements import EngagementQueries
from application.queries.intercompany import IntercompanyQueries, UnitOfWorkIntercompany
from application.queries.milestones import MilestoneQueries
from application.queries.operations import OperationsQueries
from application.queries.setup import LegalEntityQueries, RateCardQueries
from entrypoints.composition.database import Database, MemoryDatabase

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: The clock of the read-only units of work (they stamp nothing a reader sees).
_SYSTEM_CLOCK = SystemClock()


@attrs.frozen
class OpsReads:
    """One query port per route family of delivery, setup and operations."""

    engagements: EngagementQueries
    operations: OperationsQueries
    delivery: DeliveryQueries
    milestones: MilestoneQueries
    contracts: ContractQueries
    rate_cards: RateCardQueries
    legal_entities: LegalEntityQueries
    intercompany: IntercompanyQueries


def ops_reads_in_memory(
    store: InMemoryStore, now: Callable[[], datetime] = _SYSTEM_CLOCK.now
) -> OpsReads:
    """The read side over an in-memory store."""
    return OpsReads(
        InMemoryEngagementQueries(store),
        InMemoryOperationsQueries(store),
        InMemoryDeliveryQueries(store),
        InMemoryMilestoneQueries(store),
        InMemoryContractQueries(store),
        InMemoryRateCardQueries(store),
        InMemoryLegalEntityQueries(store),
        UnitOfWorkIntercompany(lambda ctx: InMemoryUnitOfWork(store, ctx, now, read_only=True)),
    )


def ops_reads_on_sql(engine: Engine, now: Callable[[], datetime] = _SYSTEM_CLOCK.now) -> OpsReads:
    """The read side over a SQLAlchemy engine (imported only when a SQL database is used)."""
    from adapters.sqlalchemy.queries.contracts import SqlAlchemyContractQueries
    from adapters.sqlalchemy.queries.delivery import SqlAlchemyDeliveryQueries
    from adapters.sqlalchemy.queries.engagements import SqlAlchemyEngagementQueries
    from adapters.sqlalchemy.queries.milestones import SqlAlchemyMilestoneQueries
    from adapters.sqlalchemy.queries.operations import SqlAlchemyOperationsQueries
    from adapters.sqlalchemy.queries.setup import (
        SqlAlchemyLegalEntityQueries,
        SqlAlchemyRateCardQueries,
    )
    from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

    return OpsReads(
        SqlAlchemyEngagementQueries(engine),
        SqlAlchemyOperationsQueries(engine),
        SqlAlchemyDeliveryQueries(engine),
        SqlAlchemyMilestoneQueries(engine),
        SqlAlchemyContractQueries(engine),
        SqlAlchemyRateCardQueries(engine),
        SqlAlchemyLegalEntityQueries(engine),
        UnitOfWorkIntercompany(lambda ctx: SqlAlchemyUnitOfWork(engine, ctx, now, read_only=True)),
    )


def ops_reads_for(database: Database) -> OpsReads:
    """The read side of the database the composition root opened."""
    if isinstance(database, MemoryDatabase):
        return ops_reads_in_memory(database.store)
    from adapters.sqlalchemy.database import Database as SqlDatabase

    if not isinstance(database, SqlDatabase):  # pragma: no cover - open_database makes one
        raise TypeError(f"no read side for {type(database).__name__}")
    return ops_reads_on_sql(database.engine)
