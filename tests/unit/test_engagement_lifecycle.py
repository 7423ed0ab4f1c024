"""The engagement lifecycle: the full state x trigger table, the business guards and the events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from domain import engagement as eng
from domain.errors import DomainError, IllegalTransitionError
from domain.ids import ContractId, CustomerId, EngagementId
from tests.support.lifecycles import named, walked

S = eng.EngagementState
T = eng.EngagementTrigger

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSE_DATE = date(2026, 6, 30)

# Written by hand from the domain guide, section 4: not derived from the table under test.
EXPECTED: dict[tuple[S, T], S] = {
    (S.PROPOSED, T.CONTRACT): S.CONTRACTED,
    (S.CONTRACTED, T.START_PROVISIONING): S.PROVISIONING,
    (S.PROVISIONING, T.ACTIVATE): S.ACTIVE,
    (S.PROVISIONING, T.BLOCK_SETUP): S.SETUP_BLOCKED,
    (S.SETUP_BLOCKED, T.RESUME_PROVISIONING): S.PROVISIONING,
    (S.ACTIVE, T.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, T.RESUME): S.ACTIVE,
    (S.ACTIVE, T.START_CLOSING): S.CLOSING,
    (S.CLOSING, T.CLOSE): S.CLOSED,
    (S.PROPOSED, T.CANCEL): S.CANCELLED,
    (S.CONTRACTED, T.CANCEL): S.CANCELLED,
}


def proposed() -> eng.Engagement:
    return eng.Engagement.propose(
        EngagementId("ENG-1"), CustomerId("CUST-1"), ContractId("CON-1"), at=AT
    )


# One legal call per trigger, with arguments that satisfy every business guard.
CALLS: dict[T, Callable[[eng.Engagement], None]] = {
    T.CONTRACT: lambda e: e.contract(AT),
    T.START_PROVISIONING: lambda e: e.start_provisioning(AT),
    T.BLOCK_SETUP: lambda e: e.block_setup("tax profile missing in the ERP", AT),
    T.RESUME_PROVISIONING: lambda e: e.resume_provisioning(AT),
    T.ACTIVATE: lambda e: e.activate(AT),
    T.SUSPEND: lambda e: e.suspend("client paused the programme", AT),
    T.RESUME: lambda e: e.resume(AT),
    T.START_CLOSING: lambda e: e.start_closing(CLOSE_DATE, AT),
    T.CLOSE: lambda e: e.close(AT),
    T.CANCEL: lambda e: e.cancel("deal withdrawn", AT),
}

# A path of legal calls from `proposed` into each state.
PATHS: dict[S, list[T]] = {
    S.PROPOSED: [],
    S.CONTRACTED: [T.CONTRACT],
    S.PROVISIONING: [T.CONTRACT, T.START_PROVISIONING],
    S.SETUP_BLOCKED: [T.CONTRACT, T.START_PROVISIONING, T.BLOCK_SETUP],
    S.ACTIVE: [T.CONTRACT, T.START_PROVISIONING, T.ACTIVATE],
    S.SUSPENDED: [T.CONTRACT, T.START_PROVISIONING, T.ACTIVATE, T.SUSPEND],
    S.CLOSING: [T.CONTRACT, T.START_PROVISIONING, T.ACTIVATE, T.START_CLOSING],
    S.CLOSED: [T.CONTRACT, T.START_PROVISIONING, T.ACTIVATE, T.START_CLOSING, T.CLOSE],
    S.CANCELLED: [T.CANCEL],
}


def engagement_in(state: S) -> eng.Engagement:
    engagement: eng.Engagement = walked(proposed(), PATHS[state], CALLS)
    assert engagement.state is state
    return engagement


# The table (state by trigger, and the methods: tests/unit/test_lifecycle_tables.py) ---------


def test_every_state_is_reached_by_the_methods_alone() -> None:
    assert set(PATHS) == set(S)


def test_a_refused_transition_names_the_state_and_the_trigger() -> None:
    engagement = engagement_in(S.CLOSED)
    with pytest.raises(IllegalTransitionError, match="'closed' cannot 'resume'"):
        engagement.resume(AT)


def test_closed_and_cancelled_engagements_allow_nothing() -> None:
    assert eng.ENGAGEMENT_LIFECYCLE.allowed(S.CLOSED) == []
    assert eng.ENGAGEMENT_LIFECYCLE.allowed(S.CANCELLED) == []


# Creation and events -----------------------------------------------------------------------


def test_a_won_deal_is_proposed_with_its_customer_and_contract() -> None:
    engagement = proposed()
    assert engagement.state is S.PROPOSED
    assert engagement.revision == 1
    assert engagement.close_date is None
    assert engagement.blocked_reason is None
    assert engagement.events == [
        eng.EngagementProposed(
            engagement_id=EngagementId("ENG-1"),
            at=AT,
            customer_id=CustomerId("CUST-1"),
            contract_id=ContractId("CON-1"),
        )
    ]


def test_an_engagement_is_equal_only_to_itself() -> None:
    assert proposed() != proposed()


def test_the_blocked_setup_scenario_records_every_step_in_order() -> None:
    engagement = proposed()
    times = [datetime(2026, 3, day, 9, 0, tzinfo=UTC) for day in range(3, 8)]
    engagement.contract(times[0])
    engagement.start_provisioning(times[1])
    engagement.block_setup("tax profile missing in the ERP", times[2])
    engagement.resume_provisioning(times[3])
    engagement.activate(times[4])
    eid = EngagementId("ENG-1")
    assert engagement.events[1:] == [
        eng.EngagementContracted(eid, times[0]),
        eng.EngagementProvisioningStarted(eid, times[1]),
        eng.EngagementSetupBlocked(eid, times[2], "tax profile missing in the ERP"),
        eng.EngagementProvisioningResumed(eid, times[3]),
        eng.EngagementActivated(eid, times[4]),
    ]
    assert engagement.revision == 6


def test_a_blocked_setup_keeps_its_reason_until_the_replay_resumes_it() -> None:
    engagement = engagement_in(S.PROVISIONING)
    engagement.block_setup("  tax profile missing in the ERP ", AT)
    assert engagement.blocked_reason == "tax profile missing in the ERP"
    engagement.resume_provisioning(AT)
    assert engagement.blocked_reason is None


def test_suspension_resumption_closing_and_closure_are_recorded() -> None:
    engagement = engagement_in(S.ACTIVE)
    before = len(engagement.events)
    engagement.suspend("client paused the programme", AT)
    engagement.resume(AT)
    engagement.start_closing(CLOSE_DATE, AT)
    engagement.close(AT)
    eid = EngagementId("ENG-1")
    assert engagement.events[before:] == [
        eng.EngagementSuspended(eid, AT, "client paused the programme"),
        eng.EngagementResumed(eid, AT),
        eng.EngagementClosingStarted(eid, AT, CLOSE_DATE),
        eng.EngagementClosed(eid, AT),
    ]
    assert engagement.close_date == CLOSE_DATE


def test_a_cancelled_deal_records_why() -> None:
    engagement = engagement_in(S.CONTRACTED)
    engagement.cancel("client chose another vendor", AT)
    assert engagement.events[-1] == eng.EngagementCancelled(
        EngagementId("ENG-1"), AT, "client chose another vendor"
    )


def test_events_are_frozen() -> None:
    event = proposed().events[0]
    assert isinstance(event, eng.EngagementProposed)
    with pytest.raises(AttributeError):
        event.customer_id = CustomerId("someone else")  # type: ignore[misc]


# Business guards ---------------------------------------------------------------------------

REASONED: list[tuple[S, Callable[[eng.Engagement, str], None]]] = [
    (S.PROVISIONING, lambda e, reason: e.block_setup(reason, AT)),
    (S.ACTIVE, lambda e, reason: e.suspend(reason, AT)),
    (S.PROPOSED, lambda e, reason: e.cancel(reason, AT)),
]


@pytest.mark.parametrize(("state", "call"), REASONED, ids=["block_setup", "suspend", "cancel"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_blocking_suspending_and_cancelling_need_a_reason(
    state: S, call: Callable[[eng.Engagement, str], None], reason: str
) -> None:
    engagement = engagement_in(state)
    revision = engagement.revision
    with pytest.raises(eng.EngagementReasonRequiredError, match="needs a reason") as refused:
        call(engagement, reason)
    assert refused.value.code == "engagement_reason_required"
    assert engagement.state is state
    assert engagement.revision == revision


def test_an_illegal_transition_is_refused_before_the_missing_reason_is_noticed() -> None:
    engagement = engagement_in(S.CLOSED)
    with pytest.raises(IllegalTransitionError):
        engagement.suspend("", AT)


# Time acceptance ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", [s for s in S if s not in (S.ACTIVE, S.CLOSING)], ids=named)
def test_time_is_refused_unless_the_engagement_is_active_or_closing(
    state: S,
) -> None:
    engagement = engagement_in(state)
    assert not engagement.accepts_time_on(date(2026, 3, 10))
    with pytest.raises(eng.TimeNotAcceptedError, match=f"'{state.value}'") as refused:
        engagement.require_time_accepted(date(2026, 3, 10))
    assert refused.value.code == "engagement_not_accepting_time"
    assert isinstance(refused.value, DomainError)


def test_time_is_accepted_for_any_date_while_active() -> None:
    engagement = engagement_in(S.ACTIVE)
    for work_date in (date(2025, 1, 1), date(2026, 3, 10), date(2030, 12, 31)):
        assert engagement.accepts_time_on(work_date)
        engagement.require_time_accepted(work_date)


def test_time_before_the_close_date_is_accepted_while_closing() -> None:
    engagement = engagement_in(S.CLOSING)
    assert engagement.accepts_time_on(date(2026, 6, 29))
    engagement.require_time_accepted(date(2026, 6, 29))


@pytest.mark.parametrize("work_date", [CLOSE_DATE, date(2026, 7, 1)], ids=named)
def test_time_is_refused_on_and_after_the_close_date(work_date: date) -> None:
    engagement = engagement_in(S.CLOSING)
    assert not engagement.accepts_time_on(work_date)
    with pytest.raises(eng.TimeNotAcceptedError, match="closing on 2026-06-30"):
        engagement.require_time_accepted(work_date)


def test_time_is_accepted_again_once_a_suspension_is_lifted() -> None:
    engagement = engagement_in(S.SUSPENDED)
    assert not engagement.accepts_time_on(date(2026, 3, 10))
    engagement.resume(AT)
    assert engagement.accepts_time_on(date(2026, 3, 10))


def test_a_closed_engagement_accepts_no_time_even_before_its_close_date() -> None:
    engagement = engagement_in(S.CLOSED)
    assert not engagement.accepts_time_on(date(2026, 6, 1))
