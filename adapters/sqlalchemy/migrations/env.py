"""Alembic environment, run programmatically by `Database.upgrade()` (there is no alembic.ini).

The caller hands over an open connection in `config.attributes["connection"]`; the migration
runs in that connection's transaction. On PostgreSQL a transaction-scoped advisory lock makes
concurrent upgrades (several API and worker processes starting at once) take turns; on SQLite
the write transaction (`BEGIN IMMEDIATE`) already does.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.tables import metadata

#: One advisory lock per schema for migrations.
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.alembic'))"


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(MIGRATION_LOCK)
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through adapters.sqlalchemy.database.Database.upgrade()")
run(connection)
