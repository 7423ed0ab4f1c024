"""Integration fixtures: the same application on real SQLite and real PostgreSQL.

`database_url` runs each test on a fresh SQLite file and on PostgreSQL (a fresh schema per test
run and xdist worker, emptied before each test, in the database `THROUGHLINE_TEST_POSTGRES_URL`
names; without it the PostgreSQL half is skipped, CI always sets it). Both are created by the
Alembic migrations, as in production.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.tables import metadata
from tests.integration.support import SqlApp, build_app

POSTGRES_URL_VARIABLE = "THROUGHLINE_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_URL_VARIABLE) or None


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_VARIABLE} (CI sets it in .ci/run)")
    engine = sa.create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_schema(postgres_admin: sa.Engine) -> Iterator[str]:
    """A schema of this test run (one per xdist worker), created by the migrations; its URL."""
    schema = f"tl_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = postgres_admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
        rendered = url.render_as_string(hide_password=False)
        _migrate(rendered)
        yield rendered
    finally:
        with postgres_admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file created by the migrations, copied for each test (a copy is cheaper than
    running the migrations again, and is the same file)."""
    path = tmp_path_factory.mktemp("template") / "throughline.db"
    database = Database(f"sqlite:///{path}")
    try:
        database.upgrade()
    finally:
        database.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file of the test's own, or the run's
    PostgreSQL schema with every row deleted."""
    return empty_database_url(request, request.param, tmp_path)


def empty_database_url(request: pytest.FixtureRequest, store: str, tmp_path: Path) -> str:
    """The URL of a migrated, empty database on `store` ("sqlite" or "postgresql"), for the
    fixtures that run one story on every store."""
    if store == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "throughline.db")
        return f"sqlite:///{tmp_path / 'throughline.db'}"
    url: str = request.getfixturevalue("postgres_schema")
    _empty(url)
    return url


def _migrate(url: str) -> None:
    database = Database(url)
    try:
        database.upgrade()
    finally:
        database.dispose()


def _empty(url: str) -> None:
    """Delete every row, children first (cheaper than TRUNCATE on small tables)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '20s'")  # a leak fails, not hangs
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def app(database: Database) -> SqlApp:
    """The unit tests' application, with the SQL unit of work instead of the in-memory one."""
    return build_app(database)
