"""The query ports of the finance screens (ADR 0042), chosen for a database: SQL on a
SQLAlchemy database, dictionaries on the in-memory one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from application.ports import CustomerMaster
from application.queries.finance import FinanceQueries
from entrypoints.composition.database import Database, MemoryDatabase


def finance_queries(
    database: Database, master: CustomerMaster, now: Callable[[], datetime]
) -> FinanceQueries:
    """The finance screens' query ports on the same store as the units of work, asking the
    ERP's customer master where nobody pushed a record."""
    if isinstance(database, MemoryDatabase):
        from adapters.memory.queries_finance import memory_finance_queries

        return memory_finance_queries(database.store, master, now)
    from adapters.sqlalchemy.database import Database as SqlDatabase
    from adapters.sqlalchemy.queries.finance import sql_finance_queries

    if not isinstance(database, SqlDatabase):  # pragma: no cover - open_database makes one
        raise TypeError(f"no read side for {type(database).__name__}")
    return sql_finance_queries(database.engine, master, now)
