"""Milestones as the delivery screens read them: an engagement's, by obligation, and one
milestone with the contract and engagement it belongs to (a client viewer sees its
customer's only)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

import attrs

from application.queries.paging import Page, PageRequest
from domain.milestone import Milestone


@attrs.frozen
class MilestoneView:
    """One milestone as it stands, with whose contract and engagement it is."""

    milestone_id: str
    obligation_id: str
    contract_id: str
    customer_id: str
    engagement_id: str | None
    name: str
    state: str
    evidence: str | None
    completed_on: date | None
    accepted_on: date | None
    accepted_by: str | None
    rejection_reason: str | None
    passive_acceptance_days: int | None
    passive_acceptance_due_on: date | None

    @classmethod
    def of(
        cls, milestone: Milestone, contract_id: str, customer_id: str, engagement_id: str | None
    ) -> MilestoneView:
        return cls(
            milestone.milestone_id,
            milestone.obligation_id,
            contract_id,
            customer_id,
            engagement_id,
            milestone.name,
            milestone.state.value,
            milestone.evidence,
            milestone.completed_on,
            milestone.accepted_on,
            milestone.accepted_by,
            milestone.rejection_reason,
            milestone.passive_acceptance_days,
            milestone.passive_acceptance_due_on,
        )


def milestone_key(view: MilestoneView) -> tuple[str, str]:
    """The keyset of an engagement's milestones: the obligation, then the milestone id."""
    return (view.obligation_id, view.milestone_id)


class MilestoneQueries(Protocol):
    """The milestone screens' questions, one call each."""

    def milestones(
        self, engagement_id: str, visible_to: str | None, page: PageRequest
    ) -> Page[MilestoneView] | None:
        """The page, or None when the engagement does not exist or is not the caller's."""
        ...

    def milestone(self, milestone_id: str) -> MilestoneView | None: ...
