"""The delivery screens' questions over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

from datetime import date

from adapters.memory.store import StoreQueries
from application.queries.delivery import TimeEntryFilter, TimeEntryView, time_entry_key
from application.queries.paging import InvalidPageRequestError, Page, PageRequest
from domain.contract import Contract
from domain.engagement import Engagement


class InMemoryDeliveryQueries(StoreQueries):
    """`DeliveryQueries` on the in-memory store."""

    def time_entries(self, where: TimeEntryFilter, page: PageRequest) -> Page[TimeEntryView] | None:
        aggregates = self._store.data.aggregates
        engagement: Engagement | None = aggregates.get("engagement", {}).get(where.engagement_id)
        if engagement is None or where.visible_to not in (None, engagement.customer_id):
            return None
        contract: Contract = aggregates["contract"][engagement.contract_id]
        obligations = set(contract.obligation_ids())
        month = where.month
        chosen = sorted(
            (
                TimeEntryView.of(e)
                for e in self._store.data.time_entries.values()
                if e.obligation_id in obligations and (month is None or month.contains(e.work_date))
            ),
            key=time_entry_key,
        )
        if page.after is not None:
            after = (_day(page.after[0]).isoformat(), page.after[-1])
            chosen = [v for v in chosen if time_entry_key(v) > after]
        return Page.from_rows(chosen[: page.limit + 1], page, time_entry_key)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidPageRequestError("the cursor is not one this API returned") from None
