"""The milestone screens' questions over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

from adapters.memory.store import StoreQueries
from application.queries.milestones import MilestoneView, milestone_key
from application.queries.paging import Page, PageRequest
from domain.contract import Contract
from domain.engagement import Engagement
from domain.milestone import Milestone


class InMemoryMilestoneQueries(StoreQueries):
    """`MilestoneQueries` on the in-memory store."""

    def milestones(
        self, engagement_id: str, visible_to: str | None, page: PageRequest
    ) -> Page[MilestoneView] | None:
        aggregates = self._store.data.aggregates
        engagement: Engagement | None = aggregates.get("engagement", {}).get(engagement_id)
        if engagement is None or visible_to not in (None, engagement.customer_id):
            return None
        contract: Contract = aggregates["contract"][engagement.contract_id]
        obligations = set(contract.obligation_ids())
        milestones: dict[str, Milestone] = aggregates.get("milestone", {})
        chosen = sorted(
            (
                MilestoneView.of(m, contract.contract_id, contract.customer_id, engagement_id)
                for m in milestones.values()
                if m.obligation_id in obligations
            ),
            key=milestone_key,
        )
        if page.after is not None:
            after = (page.after[0], page.after[-1])
            chosen = [v for v in chosen if milestone_key(v) > after]
        return Page.from_rows(chosen[: page.limit + 1], page, milestone_key)

    def milestone(self, milestone_id: str) -> MilestoneView | None:
        aggregates = self._store.data.aggregates
        milestone: Milestone | None = aggregates.get("milestone", {}).get(milestone_id)
        if milestone is None:
            return None
        contracts: dict[str, Contract] = aggregates.get("contract", {})
        for _, contract in sorted(contracts.items()):
            if milestone.obligation_id in contract.obligation_ids():
                engagements: dict[str, Engagement] = aggregates.get("engagement", {})
                engagement = next(
                    (e for e in engagements.values() if e.contract_id == contract.contract_id),
                    None,
                )
                return MilestoneView.of(
                    milestone,
                    contract.contract_id,
                    contract.customer_id,
                    engagement.engagement_id if engagement is not None else None,
                )
        return None
