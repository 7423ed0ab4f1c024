"""The finance screens' query ports on the in-memory store."""

from __future__ import annotations

from adapters.memory.queries_customers import memory_customers
from adapters.memory.queries_dashboard import MemoryDashboard
from adapters.memory.queries_invoices import MemoryCreditMemos, MemoryInvoices
from adapters.memory.store import InMemoryStore
from application.ports import CustomerMaster
from application.queries.finance import FinanceQueries


def memory_finance_queries(store: InMemoryStore, master: CustomerMaster) -> FinanceQueries:
    """Every finance query port, reading the store's committed state (and asking the ERP's
    customer master for records nobody pushed, as setup does)."""
    return FinanceQueries(
        dashboard=MemoryDashboard(store),
        invoices=MemoryInvoices(store),
        credit_memos=MemoryCreditMemos(store),
        customers=memory_customers(store, master),
    )
