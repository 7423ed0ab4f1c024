"""The finance read side on each store in turn: the same world seeded through the
application's commands, and the query ports of that store (ADR 0042: the parity tests run
every query-port test on the in-memory, SQLite and PostgreSQL implementations)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.queries_finance import memory_finance_queries
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.queries.finance import sql_finance_queries
from application.context import RequestContext
from application.handlers import create_bus
from application.queries.finance import FinanceQueries
from tests.e2e.http.world import World, seed
from tests.integration.conftest import empty_database_url
from tests.integration.support import build_app
from tests.unit.application.conftest import App, start_clock, wire
from tests.unit.application.test_journal_posting import CHARTS

__all__ = ["Books", "books_on"]


@attrs.frozen
class Books:
    """A seeded world, the app that seeded it and the query ports of its store."""

    app: App
    world: World
    queries: FinanceQueries
    store: str


def _booking(app: App) -> App:
    """The app posting its journal on the fixtures' chart of accounts."""
    return attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=CHARTS)))


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def books_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Books]:
    """Both customers' world (tests/e2e/http/world.py) on each store in turn, its journal
    posted on the fixtures' chart of accounts."""
    if request.param == "memory":
        store, clock = InMemoryStore(), start_clock()

        def unit_of_work(ctx: RequestContext, read_only: bool = False) -> InMemoryUnitOfWork:
            return InMemoryUnitOfWork(store, ctx, clock.now)

        app = _booking(wire(store, unit_of_work, clock))
        yield Books(app, seed(app), memory_finance_queries(store, app.master, clock.now), "memory")
        return
    database = Database(empty_database_url(request, request.param, tmp_path))
    try:
        sql_app = _booking(build_app(database))
        world = seed(sql_app)
        yield Books(
            sql_app,
            world,
            sql_finance_queries(database.engine, sql_app.master, sql_app.clock.now),
            request.param,
        )
    finally:
        database.dispose()
