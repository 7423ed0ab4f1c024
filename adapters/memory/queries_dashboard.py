"""The dashboard over the in-memory store: the committed objects added up by the
application's own rule (`overview_of`)."""

from __future__ import annotations

from typing import Any

from adapters.memory.store import StoreQueries
from application.queries.dashboard import Overview, overview_of


class MemoryDashboard(StoreQueries):
    """`DashboardQueries` on the in-memory store."""

    def version(self) -> None:
        """No data version here: the in-memory store is read in place, nothing is kept."""
        return None

    def overview(self) -> Overview:
        aggregates: dict[str, dict[str, Any]] = self._store.data.aggregates
        return overview_of(
            (invoice.figures for invoice in aggregates.get("invoice", {}).values()),
            (memo.state.value for memo in aggregates.get("credit_memo", {}).values()),
            (
                (exception.kind.value, exception.state)
                for exception in self._store.data.exceptions.values()
            ),
        )
