"""The query ports of the finance screens, as one bundle the composition root builds for a
store (SQL or in-memory) and hands to the entry points."""

from __future__ import annotations

import attrs

from application.queries.books import BooksQueries
from application.queries.credit_memos import CreditMemoQueries
from application.queries.customers import CustomerQueries
from application.queries.dashboard import DashboardQueries
from application.queries.invoices import InvoiceQueries
from application.queries.periods import PeriodQueries


@attrs.frozen
class FinanceQueries:
    """One query port per finance route family."""

    dashboard: DashboardQueries
    invoices: InvoiceQueries
    credit_memos: CreditMemoQueries
    customers: CustomerQueries
    periods: PeriodQueries
    #: The journal, its export, leakage and balances: reports over the books as a whole.
    books: BooksQueries
