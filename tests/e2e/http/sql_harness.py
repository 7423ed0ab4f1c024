"""The HTTP app on the in-memory adapters, on a real SQLite file and on real PostgreSQL: the
`api_on` fixture runs a test three times, for what the database could change (what is stored
and read back, and that a refused request leaves nothing behind).

The folder's conftest.py offers the fixtures to every module here, so that the migrated
SQLite template and the PostgreSQL schema are made once per test run and xdist worker (a module
importing them would make its own).

The PostgreSQL case skips unless `THROUGHLINE_TEST_POSTGRES_URL` is set (tests/integration).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path

import pytest
from litestar.testing import TestClient

from adapters.sqlalchemy.database import Database
from entrypoints.composition.database import reader
from entrypoints.composition.finance_reads import finance_queries
from entrypoints.composition.ops_reads import ops_reads_on_sql
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Services
from tests.e2e.http.harness import Api, authenticator, running_api
from tests.e2e.http.stage import UNLIMITED
from tests.integration.conftest import (
    empty_database_url,
    postgres_admin,
    postgres_schema,
    sqlite_template,
)
from tests.integration.support import build_app

__all__ = ["api_on", "postgres_admin", "postgres_schema", "running_sql_api", "sqlite_template"]


@contextmanager
def running_sql_api(database: Database) -> Iterator[Api]:
    """The app over `database`, with the unit tests' fakes and clock (tests/integration)."""
    app = build_app(database)
    services = Services(
        app.bus,
        reader(database, app.clock),
        app.clock,
        UNLIMITED,
        ops=ops_reads_on_sql(database.engine),
        finance=finance_queries(database, app.master, app.clock.now),
    )
    asgi = create_app(services, authenticator())
    with TestClient(asgi, raise_server_exceptions=False) as client:
        yield Api(app, asgi, client)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def api_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app on each store in turn (a fresh, migrated, empty database for the SQL ones)."""
    in_memory = partial(running_api, limits=UNLIMITED)
    with running_on(request, tmp_path, in_memory, running_sql_api) as api:
        yield api


@contextmanager
def running_on(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    in_memory: Callable[[], AbstractContextManager[Api]],
    on_sql: Callable[[Database], AbstractContextManager[Api]],
) -> Iterator[Api]:
    """The app as `in_memory` or `on_sql` runs it, on the store `request.param` names (a fresh,
    migrated, empty database for the SQL ones)."""
    if request.param == "memory":
        with in_memory() as api:
            yield api
        return
    database = Database(empty_database_url(request, request.param, tmp_path))
    try:
        with on_sql(database) as api:
            yield api
    finally:
        database.dispose()
