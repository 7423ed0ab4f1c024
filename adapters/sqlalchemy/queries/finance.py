"""The finance screens' query ports on one SQL database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from adapters.sqlalchemy.queries.credit_memos import SqlCreditMemos
from adapters.sqlalchemy.queries.customers import sql_customers
from adapters.sqlalchemy.queries.dashboard import SqlDashboard
from adapters.sqlalchemy.queries.invoices import SqlInvoices
from adapters.sqlalchemy.queries.periods import SqlPeriods
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.context import READ_SIDE
from application.ports import CustomerMaster
from application.queries.books import UnitOfWorkBooks
from application.queries.finance import FinanceQueries


def sql_finance_queries(
    engine: Engine, master: CustomerMaster, now: Callable[[], datetime]
) -> FinanceQueries:
    """Every finance query port, reading through `engine` (and asking the ERP's customer
    master for records nobody pushed, as setup does)."""

    def read() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, READ_SIDE, now, read_only=True)

    return FinanceQueries(
        dashboard=SqlDashboard(engine),
        invoices=SqlInvoices(engine),
        credit_memos=SqlCreditMemos(engine),
        customers=sql_customers(engine, master),
        periods=SqlPeriods(engine),
        books=UnitOfWorkBooks(read),
    )
