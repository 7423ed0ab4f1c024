"""The engagement screens' questions over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

from adapters.memory.store import InMemoryStore
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


class InMemoryEngagementQueries:
    """`EngagementQueries` on the in-memory store."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def engagements(self, where: EngagementFilter, page: PageRequest) -> Page[EngagementSummary]:
        items: dict[str, Engagement] = self._store.data.aggregates.get("engagement", {})
        after = page.after[0] if page.after is not None else None
        rows = [
            EngagementSummary(e.engagement_id, e.customer_id, e.contract_id, e.state.value)
            for key, e in sorted(items.items())
            if (after is None or key > after) and where.admits(e.state.value, e.customer_id)
        ]
        return Page.from_rows(rows[: page.limit + 1], page, summary_key)

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
