"""The schema comes from the Alembic migrations alone, and matches what the mapper expects."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.sqlalchemy import database as database_module
from adapters.sqlalchemy.database import Database, UnsupportedDatabaseError, default_database_url
from adapters.sqlalchemy.tables import metadata

#: The newest migration; the revisions form one line (a second head would fail here).
HEAD = ScriptDirectory(str(database_module.MIGRATIONS)).get_current_head()


def _diffs(db: Database, target: sa.MetaData) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, target))


def test_the_migrated_schema_is_exactly_the_mapped_tables(database: Database) -> None:
    assert database.current_revision() == HEAD
    assert _diffs(database, metadata) == []


def test_the_comparison_would_notice_a_drifted_table(database: Database) -> None:
    drifted = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(drifted)
    sa.Table("outbox", drifted, sa.Column("relay_note", sa.Text()), extend_existing=True)
    assert [d[:2] for d in _diffs(database, drifted)] == [("add_column", None)]  # type: ignore[index]


def test_upgrading_twice_changes_nothing(database: Database) -> None:
    database.upgrade()
    assert database.current_revision() == HEAD
    assert _diffs(database, metadata) == []


def test_an_unmigrated_database_has_no_tables(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with db.engine.connect() as connection:
            assert sa.inspect(connection).get_table_names() == []
        assert db.current_revision() is None
    finally:
        db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'nested' / 'throughline.db'}")  # folder created
    try:
        db.upgrade()
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        db.dispose()


def test_the_default_database_is_a_sqlite_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(database_module.DATABASE_URL_VARIABLE, raising=False)
    assert default_database_url() == "sqlite:///var/throughline.db"
    assert (tmp_path / "var").is_dir()
    monkeypatch.setenv(database_module.DATABASE_URL_VARIABLE, "postgresql://u:p@db/throughline")
    assert default_database_url() == "postgresql://u:p@db/throughline"


def test_postgresql_urls_use_psycopg_3_and_other_databases_are_refused() -> None:
    db = Database("postgresql://u:p@127.0.0.1:1/none")  # no connection is made yet
    try:
        assert db.engine.dialect.driver == "psycopg"
    finally:
        db.dispose()
    with pytest.raises(UnsupportedDatabaseError):
        Database("mysql://u:p@127.0.0.1/none")
