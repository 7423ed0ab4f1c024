"""Milestones: delivery says done (with evidence), the client accepts or rejects, billing invoices.

A `planned` milestone is `completed` by delivery with evidence; the client approver `accepted`
or `rejected` it, and a rejected milestone is completed again after rework. When the contract
grants passive acceptance, a completed milestone nobody answered counts as accepted N days after
completion. Only an accepted milestone is `invoiced`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import attrs

from domain.errors import DomainError, InvalidTermsError
from domain.ids import MilestoneId, ObligationId
from domain.lifecycle import Lifecycled, LifecycleTable

#: Who `accepted_by` names when nobody answered within the passive-acceptance window.
PASSIVE_ACCEPTANCE = "passive-acceptance"


class MilestoneState(StrEnum):
    PLANNED = "planned"
    COMPLETED = "completed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INVOICED = "invoiced"


class MilestoneTrigger(StrEnum):
    COMPLETE = "complete"
    ACCEPT = "accept"
    REJECT = "reject"
    ACCEPT_PASSIVELY = "accept_passively"
    MARK_INVOICED = "mark_invoiced"


_S = MilestoneState
_T = MilestoneTrigger

MILESTONE_LIFECYCLE: LifecycleTable[MilestoneState, MilestoneTrigger] = LifecycleTable(
    "milestone",
    MilestoneState,
    MilestoneTrigger,
    [
        (_T.COMPLETE, [_S.PLANNED, _S.REJECTED], _S.COMPLETED),
        (_T.ACCEPT, _S.COMPLETED, _S.ACCEPTED),
        (_T.REJECT, _S.COMPLETED, _S.REJECTED),
        (_T.ACCEPT_PASSIVELY, _S.COMPLETED, _S.ACCEPTED),
        (_T.MARK_INVOICED, _S.ACCEPTED, _S.INVOICED),
    ],
)


class MissingEvidenceError(DomainError):
    """Delivery can only call a milestone complete with evidence of the work."""

    code = "missing_evidence"


class ApproverRequiredError(DomainError):
    """An acceptance or a rejection names the client approver who gave it."""

    code = "approver_required"


class RejectionReasonRequiredError(DomainError):
    """A client rejecting a milestone says why, so delivery knows what to rework."""

    code = "rejection_reason_required"


class AcceptanceBeforeCompletionError(DomainError):
    """A milestone cannot be accepted on a date before delivery completed it."""

    code = "acceptance_before_completion"


class PassiveAcceptanceNotDueError(DomainError):
    """Passive acceptance needs a contract that grants it and N days elapsed since completion."""

    code = "passive_acceptance_not_due"


# Events ------------------------------------------------------------------------------------


@attrs.frozen
class MilestoneEvent:
    """Something that happened to one milestone, at a moment given by the caller."""

    milestone_id: MilestoneId
    at: datetime


@attrs.frozen
class MilestonePlanned(MilestoneEvent):
    obligation_id: ObligationId
    name: str
    passive_acceptance_days: int | None


@attrs.frozen
class MilestoneCompleted(MilestoneEvent):
    evidence: str
    completed_on: date


@attrs.frozen
class MilestoneAccepted(MilestoneEvent):
    accepted_by: str
    accepted_on: date


@attrs.frozen
class MilestonePassivelyAccepted(MilestoneEvent):
    accepted_on: date
    passive_acceptance_days: int


@attrs.frozen
class MilestoneRejected(MilestoneEvent):
    rejected_by: str
    reason: str


@attrs.frozen
class MilestoneInvoiced(MilestoneEvent):
    pass


# The entity --------------------------------------------------------------------------------


@attrs.define(slots=False, eq=False)
class Milestone(Lifecycled[MilestoneState, MilestoneTrigger, MilestoneEvent]):
    """One milestone. `revision` counts recorded changes: planning is revision 1."""

    _lifecycle = MILESTONE_LIFECYCLE

    milestone_id: MilestoneId
    obligation_id: ObligationId
    name: str
    state: MilestoneState
    evidence: str | None = None
    completed_on: date | None = None
    accepted_on: date | None = None
    accepted_by: str | None = None
    rejection_reason: str | None = None
    passive_acceptance_days: int | None = None
    revision: int = 0
    events: list[object] = attrs.field(factory=list)

    @classmethod
    def plan(
        cls,
        milestone_id: MilestoneId,
        obligation_id: ObligationId,
        name: str,
        at: datetime,
        passive_acceptance_days: int | None = None,
    ) -> Milestone:
        """A milestone of an obligation is planned; None days means no passive acceptance."""
        if passive_acceptance_days is not None and passive_acceptance_days < 0:
            raise InvalidTermsError(
                f"milestone {milestone_id}: passive acceptance after "
                f"{passive_acceptance_days} days is not a valid term"
            )
        milestone = cls(
            milestone_id,
            obligation_id,
            name,
            MilestoneState.PLANNED,
            passive_acceptance_days=passive_acceptance_days,
        )
        milestone._record(
            MilestonePlanned(milestone_id, at, obligation_id, name, passive_acceptance_days)
        )
        return milestone

    # Transitions ---------------------------------------------------------------------------

    def complete(self, evidence: str, on: date, at: datetime) -> None:
        """Delivery completes a planned (or reworked, rejected) milestone, with evidence."""
        dest = self._next(_T.COMPLETE)
        if not evidence.strip():
            raise MissingEvidenceError(
                f"milestone {self.milestone_id} cannot be completed without evidence"
            )
        self.evidence = evidence
        self.completed_on = on
        # The previous rejection was answered by this rework; its history stays in the events.
        self.rejection_reason = None
        self._move(dest, MilestoneCompleted(self.milestone_id, at, evidence, on))

    def accept(self, by: str, on: date, at: datetime) -> None:
        """The client approver accepts a completed milestone, on or after its completion."""
        dest = self._next(_T.ACCEPT)
        _require_approver(by, "accept", self.milestone_id)
        if self.completed_on is not None and on < self.completed_on:
            raise AcceptanceBeforeCompletionError(
                f"milestone {self.milestone_id} was completed on {self.completed_on} "
                f"and cannot be accepted on {on}"
            )
        self.accepted_by = by
        self.accepted_on = on
        self._move(dest, MilestoneAccepted(self.milestone_id, at, by, on))

    def reject(self, by: str, reason: str, at: datetime) -> None:
        """The client approver rejects a completed milestone and says why."""
        dest = self._next(_T.REJECT)
        _require_approver(by, "reject", self.milestone_id)
        if not reason.strip():
            raise RejectionReasonRequiredError(
                f"rejecting milestone {self.milestone_id} needs a reason"
            )
        self.rejection_reason = reason
        self._move(dest, MilestoneRejected(self.milestone_id, at, by, reason))

    def accept_passively(self, today: date, at: datetime) -> None:
        """Silence counts as acceptance N days after completion, when the contract grants it."""
        dest = self._next(_T.ACCEPT_PASSIVELY)
        days = self.passive_acceptance_days
        if days is None:
            raise PassiveAcceptanceNotDueError(
                f"the contract grants no passive acceptance for milestone {self.milestone_id}"
            )
        due_on = self.passive_acceptance_due_on
        if due_on is None or today < due_on:
            raise PassiveAcceptanceNotDueError(
                f"milestone {self.milestone_id} is passively accepted on {due_on}, "
                f"{days} days after completion; not yet on {today}"
            )
        self.accepted_by = PASSIVE_ACCEPTANCE
        self.accepted_on = due_on
        self._move(dest, MilestonePassivelyAccepted(self.milestone_id, at, due_on, days))

    def mark_invoiced(self, at: datetime) -> None:
        """Only an accepted milestone is invoiced."""
        self._fire(_T.MARK_INVOICED, MilestoneInvoiced(self.milestone_id, at))

    # Queries -------------------------------------------------------------------------------

    @property
    def passive_acceptance_due_on(self) -> date | None:
        """The day silence becomes acceptance, for a completed milestone under such a contract."""
        if self.passive_acceptance_days is None or self.completed_on is None:
            return None
        return self.completed_on + timedelta(days=self.passive_acceptance_days)


def _require_approver(by: str, action: str, milestone_id: MilestoneId) -> None:
    if not by.strip():
        raise ApproverRequiredError(
            f"to {action} milestone {milestone_id}, name the client approver"
        )
