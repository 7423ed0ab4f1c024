"""The milestone lifecycle: the full state x trigger table, the business guards and the events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from domain.errors import IllegalTransitionError, InvalidTermsError
from domain.ids import MilestoneId, ObligationId
from domain.milestone import (
    MILESTONE_LIFECYCLE,
    PASSIVE_ACCEPTANCE,
    AcceptanceBeforeCompletionError,
    ApproverRequiredError,
    Milestone,
    MilestoneAccepted,
    MilestoneCompleted,
    MilestoneInvoiced,
    MilestonePassivelyAccepted,
    MilestonePlanned,
    MilestoneRejected,
    MilestoneState,
    MilestoneTrigger,
    MissingEvidenceError,
    PassiveAcceptanceNotDueError,
    RejectionReasonRequiredError,
)
from tests.support.lifecycles import walked

S = MilestoneState
T = MilestoneTrigger

AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
MID = MilestoneId("MS-2")
COMPLETED_ON = date(2026, 4, 1)
ACCEPTED_ON = date(2026, 4, 6)
PASSIVE_DAYS = 10

# Written by hand from the domain guide, section 4: not derived from the table under test.
EXPECTED: dict[tuple[MilestoneState, MilestoneTrigger], MilestoneState] = {
    (S.PLANNED, T.COMPLETE): S.COMPLETED,
    (S.COMPLETED, T.ACCEPT): S.ACCEPTED,
    (S.COMPLETED, T.REJECT): S.REJECTED,
    (S.REJECTED, T.COMPLETE): S.COMPLETED,
    (S.COMPLETED, T.ACCEPT_PASSIVELY): S.ACCEPTED,
    (S.ACCEPTED, T.MARK_INVOICED): S.INVOICED,
}


def planned(passive_acceptance_days: int | None = PASSIVE_DAYS) -> Milestone:
    return Milestone.plan(
        MID,
        ObligationId("OBL-1"),
        "Design signed off",
        at=AT,
        passive_acceptance_days=passive_acceptance_days,
    )


# One legal call per trigger, with arguments that satisfy every business guard.
CALLS: dict[MilestoneTrigger, Callable[[Milestone], None]] = {
    T.COMPLETE: lambda m: m.complete("sign-off sheet v1", on=COMPLETED_ON, at=AT),
    T.ACCEPT: lambda m: m.accept("client.approver@example.com", on=ACCEPTED_ON, at=AT),
    T.REJECT: lambda m: m.reject("client.approver@example.com", "diagrams missing", AT),
    T.ACCEPT_PASSIVELY: lambda m: m.accept_passively(today=date(2026, 12, 31), at=AT),
    T.MARK_INVOICED: lambda m: m.mark_invoiced(AT),
}

# A path of legal calls from `planned` into each state.
PATHS: dict[MilestoneState, list[MilestoneTrigger]] = {
    S.PLANNED: [],
    S.COMPLETED: [T.COMPLETE],
    S.ACCEPTED: [T.COMPLETE, T.ACCEPT],
    S.REJECTED: [T.COMPLETE, T.REJECT],
    S.INVOICED: [T.COMPLETE, T.ACCEPT, T.MARK_INVOICED],
}


def milestone_in(
    state: MilestoneState, passive_acceptance_days: int | None = PASSIVE_DAYS
) -> Milestone:
    milestone: Milestone = walked(planned(passive_acceptance_days), PATHS[state], CALLS)
    assert milestone.state is state
    return milestone


# The table (state by trigger, and the methods: tests/unit/test_lifecycle_tables.py) ---------


def test_every_state_is_reached_by_the_methods_alone() -> None:
    assert set(PATHS) == set(S)


def test_an_invoiced_milestone_allows_nothing() -> None:
    assert MILESTONE_LIFECYCLE.allowed(S.INVOICED) == []


# Creation and events -----------------------------------------------------------------------


def test_a_planned_milestone_records_its_obligation_and_acceptance_terms() -> None:
    milestone = planned()
    assert milestone.state is S.PLANNED
    assert milestone.revision == 1
    assert milestone.passive_acceptance_days == PASSIVE_DAYS
    assert milestone.events == [
        MilestonePlanned(MID, AT, ObligationId("OBL-1"), "Design signed off", PASSIVE_DAYS)
    ]


def test_negative_passive_acceptance_days_are_not_a_valid_term() -> None:
    with pytest.raises(InvalidTermsError):
        planned(passive_acceptance_days=-1)


def test_completion_records_the_evidence_and_the_date() -> None:
    milestone = milestone_in(S.COMPLETED)
    assert milestone.evidence == "sign-off sheet v1"
    assert milestone.completed_on == COMPLETED_ON
    assert milestone.events[-1] == MilestoneCompleted(MID, AT, "sign-off sheet v1", COMPLETED_ON)


def test_acceptance_records_the_client_approver_and_the_date() -> None:
    milestone = milestone_in(S.ACCEPTED)
    assert milestone.accepted_by == "client.approver@example.com"
    assert milestone.accepted_on == ACCEPTED_ON
    assert milestone.events[-1] == MilestoneAccepted(
        MID, AT, "client.approver@example.com", ACCEPTED_ON
    )


def test_invoicing_an_accepted_milestone_is_recorded() -> None:
    milestone = milestone_in(S.INVOICED)
    assert milestone.events[-1] == MilestoneInvoiced(MID, AT)
    assert milestone.revision == len(milestone.events) == 4


def test_a_milestone_rejected_then_reworked_is_accepted() -> None:
    milestone = milestone_in(S.COMPLETED)

    def snapshot() -> tuple[MilestoneState, str | None, str | None, date | None]:
        # Read through a function: mypy would otherwise keep narrowing across the calls.
        return (
            milestone.state,
            milestone.rejection_reason,
            milestone.evidence,
            milestone.completed_on,
        )

    milestone.reject("client.approver@example.com", "diagrams missing", AT)
    assert snapshot() == (S.REJECTED, "diagrams missing", "sign-off sheet v1", COMPLETED_ON)
    assert milestone.events[-1] == MilestoneRejected(
        MID, AT, "client.approver@example.com", "diagrams missing"
    )

    milestone.complete("sign-off sheet v2 with diagrams", on=date(2026, 4, 20), at=AT)
    assert snapshot() == (S.COMPLETED, None, "sign-off sheet v2 with diagrams", date(2026, 4, 20))

    milestone.accept("client.approver@example.com", on=date(2026, 4, 22), at=AT)
    assert snapshot()[0] is S.ACCEPTED
    assert [type(e) for e in milestone.events] == [
        MilestonePlanned,
        MilestoneCompleted,
        MilestoneRejected,
        MilestoneCompleted,
        MilestoneAccepted,
    ]


# Business guards ---------------------------------------------------------------------------


@pytest.mark.parametrize("evidence", ["", "  "])
def test_a_milestone_cannot_be_completed_without_evidence(evidence: str) -> None:
    milestone = planned()
    with pytest.raises(MissingEvidenceError) as refused:
        milestone.complete(evidence, on=COMPLETED_ON, at=AT)
    assert refused.value.code == "missing_evidence"
    assert milestone.state is S.PLANNED
    assert milestone.evidence is None
    assert milestone.revision == 1


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_rejection_needs_a_reason(reason: str) -> None:
    milestone = milestone_in(S.COMPLETED)
    with pytest.raises(RejectionReasonRequiredError) as refused:
        milestone.reject("client.approver@example.com", reason, AT)
    assert refused.value.code == "rejection_reason_required"
    assert milestone.state is S.COMPLETED
    assert milestone.rejection_reason is None


def test_acceptance_and_rejection_name_the_client_approver() -> None:
    milestone = milestone_in(S.COMPLETED)
    with pytest.raises(ApproverRequiredError):
        milestone.accept(" ", on=ACCEPTED_ON, at=AT)
    with pytest.raises(ApproverRequiredError):
        milestone.reject("", "diagrams missing", AT)
    assert milestone.state is S.COMPLETED


def test_a_milestone_cannot_be_accepted_before_it_was_completed() -> None:
    milestone = milestone_in(S.COMPLETED)
    with pytest.raises(AcceptanceBeforeCompletionError):
        milestone.accept("client.approver@example.com", on=date(2026, 3, 31), at=AT)
    milestone.accept("client.approver@example.com", on=COMPLETED_ON, at=AT)
    assert milestone.state is S.ACCEPTED


def test_silence_becomes_acceptance_n_days_after_completion() -> None:
    milestone = milestone_in(S.COMPLETED)
    due_on = date(2026, 4, 11)
    assert milestone.passive_acceptance_due_on == due_on
    milestone.accept_passively(today=due_on, at=AT)
    assert milestone.state is S.ACCEPTED
    assert milestone.accepted_by == PASSIVE_ACCEPTANCE == "passive-acceptance"
    assert milestone.accepted_on == due_on
    assert milestone.events[-1] == MilestonePassivelyAccepted(MID, AT, due_on, PASSIVE_DAYS)


def test_passive_acceptance_found_late_is_dated_on_the_day_it_fell_due() -> None:
    milestone = milestone_in(S.COMPLETED)
    milestone.accept_passively(today=date(2026, 5, 15), at=AT)
    assert milestone.accepted_on == date(2026, 4, 11)


def test_passive_acceptance_is_not_due_the_day_before() -> None:
    milestone = milestone_in(S.COMPLETED)
    with pytest.raises(PassiveAcceptanceNotDueError, match="2026-04-11") as refused:
        milestone.accept_passively(today=date(2026, 4, 10), at=AT)
    assert refused.value.code == "passive_acceptance_not_due"
    assert milestone.state is S.COMPLETED
    assert milestone.accepted_by is None
    assert milestone.revision == 2


def test_no_passive_acceptance_unless_the_contract_grants_it() -> None:
    milestone = milestone_in(S.COMPLETED, passive_acceptance_days=None)
    assert milestone.passive_acceptance_due_on is None
    with pytest.raises(PassiveAcceptanceNotDueError, match="grants no passive acceptance"):
        milestone.accept_passively(today=date(2030, 1, 1), at=AT)
    assert milestone.state is S.COMPLETED


def test_zero_passive_acceptance_days_accept_on_the_completion_day() -> None:
    milestone = milestone_in(S.COMPLETED, passive_acceptance_days=0)
    milestone.accept_passively(today=COMPLETED_ON, at=AT)
    assert milestone.accepted_on == COMPLETED_ON


def test_a_rejected_milestone_is_not_passively_accepted() -> None:
    milestone = milestone_in(S.REJECTED)
    with pytest.raises(IllegalTransitionError):
        milestone.accept_passively(today=date(2030, 1, 1), at=AT)


def test_passive_acceptance_counts_from_the_new_completion_after_a_rejection() -> None:
    milestone = milestone_in(S.REJECTED)
    milestone.complete("sign-off sheet v2", on=date(2026, 5, 1), at=AT)
    with pytest.raises(PassiveAcceptanceNotDueError):
        milestone.accept_passively(today=date(2026, 5, 10), at=AT)
    milestone.accept_passively(today=date(2026, 5, 11), at=AT)
    assert milestone.accepted_on == date(2026, 5, 11)


def test_only_an_accepted_milestone_is_invoiced() -> None:
    milestone = milestone_in(S.COMPLETED)
    with pytest.raises(IllegalTransitionError, match="'completed' cannot 'mark_invoiced'"):
        milestone.mark_invoiced(AT)
