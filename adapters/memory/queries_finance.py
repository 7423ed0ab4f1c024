"""The finance screens' query ports on the in-memory store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapters.memory.queries_customers import memory_customers
from adapters.memory.queries_dashboard import MemoryDashboard
from adapters.memory.queries_invoices import MemoryCreditMemos, MemoryInvoices
from adapters.memory.queries_periods import MemoryPeriods
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from application.context import READ_SIDE
from application.ports import CustomerMaster
from application.queries.books import UnitOfWorkBooks
from application.queries.finance import FinanceQueries


def memory_finance_queries(
    store: InMemoryStore, master: CustomerMaster, now: Callable[[], datetime]
) -> FinanceQueries:
    """Every finance query port, reading the store's committed state (and asking the ERP's
    customer master for records nobody pushed, as setup does)."""

    def read() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(store, READ_SIDE, now, read_only=True)

    return FinanceQueries(
        dashboard=MemoryDashboard(store),
        invoices=MemoryInvoices(store),
        credit_memos=MemoryCreditMemos(store),
        customers=memory_customers(store, master),
        periods=MemoryPeriods(store),
        books=UnitOfWorkBooks(read),
    )
