"""The engagement screens' questions over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

from adapters.memory.queries_paging import page_of
from adapters.memory.store import StoreQueries
from application.queries.engagements import (
    EngagementFilter,
    EngagementSummary,
    EngagementView,
    lifecycle_path,
    subject_of,
    summary_key,
)
from application.queries.paging import Page, PageRequest
from domain.engagement import Engagement


class InMemoryEngagementQueries(StoreQueries):
    """`EngagementQueries` on the in-memory store."""

    def engagements(self, where: EngagementFilter, page: PageRequest) -> Page[EngagementSummary]:
        items: dict[str, Engagement] = self._store.data.aggregates.get("engagement", {})
        rows = [
            EngagementSummary(e.engagement_id, e.customer_id, e.contract_id, e.state.value)
            for e in items.values()
            if where.admits(e.state.value, e.customer_id)
        ]
        return page_of(rows, summary_key, page)

    def engagement(self, engagement_id: str) -> EngagementView | None:
        engagement: Engagement | None = self._store.data.aggregates.get("engagement", {}).get(
            engagement_id
        )
        if engagement is None:
            return None
        subject = subject_of(engagement_id)
        exceptions = [x for x in self._store.data.exceptions.values() if x.subject == subject]
        return EngagementView.of(engagement, self.lifecycle_path(engagement_id), exceptions)

    def lifecycle_path(self, engagement_id: str) -> tuple[str, ...]:
        subject = subject_of(engagement_id)
        return lifecycle_path(
            (r.before, r.after) for r in self._store.data.audit if r.subject == subject
        )
