"""The finance screens' query ports on one SQL database."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from adapters.sqlalchemy.queries.credit_memos import SqlCreditMemos
from adapters.sqlalchemy.queries.customers import sql_customers
from adapters.sqlalchemy.queries.dashboard import SqlDashboard
from adapters.sqlalchemy.queries.invoices import SqlInvoices
from application.ports import CustomerMaster
from application.queries.finance import FinanceQueries


def sql_finance_queries(engine: Engine, master: CustomerMaster) -> FinanceQueries:
    """Every finance query port, reading through `engine` (and asking the ERP's customer
    master for records nobody pushed, as setup does)."""
    return FinanceQueries(
        dashboard=SqlDashboard(engine),
        invoices=SqlInvoices(engine),
        credit_memos=SqlCreditMemos(engine),
        customers=sql_customers(engine, master),
    )
