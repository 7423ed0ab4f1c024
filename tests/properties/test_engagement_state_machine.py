"""Random walks through the engagement lifecycle, legal and illegal calls mixed.

A small hand-written model predicts the state after every call; the invariants say that a
refused call changes nothing, that the revision counts the proposal plus every accepted call,
that every change is recorded as exactly one event, and that time is accepted only while the
engagement is active (or closing, for work before the close date).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain import engagement as eng
from domain.errors import IllegalTransitionError
from domain.ids import ContractId, CustomerId, EngagementId

S = eng.EngagementState

# The model: for each method, the states it may be called from and where it leads.
MODEL: dict[str, dict[S, S]] = {
    "contract": {S.PROPOSED: S.CONTRACTED},
    "start_provisioning": {S.CONTRACTED: S.PROVISIONING},
    "block_setup": {S.PROVISIONING: S.SETUP_BLOCKED},
    "resume_provisioning": {S.SETUP_BLOCKED: S.PROVISIONING},
    "activate": {S.PROVISIONING: S.ACTIVE},
    "suspend": {S.ACTIVE: S.SUSPENDED},
    "resume": {S.SUSPENDED: S.ACTIVE},
    "start_closing": {S.ACTIVE: S.CLOSING},
    "close": {S.CLOSING: S.CLOSED},
    "cancel": {S.PROPOSED: S.CANCELLED, S.CONTRACTED: S.CANCELLED},
}

EVENT_OF: dict[str, type[eng.EngagementEvent]] = {
    "contract": eng.EngagementContracted,
    "start_provisioning": eng.EngagementProvisioningStarted,
    "block_setup": eng.EngagementSetupBlocked,
    "resume_provisioning": eng.EngagementProvisioningResumed,
    "activate": eng.EngagementActivated,
    "suspend": eng.EngagementSuspended,
    "resume": eng.EngagementResumed,
    "start_closing": eng.EngagementClosingStarted,
    "close": eng.EngagementClosed,
    "cancel": eng.EngagementCancelled,
}

# Legal paths from `proposed`, so that walks also start deep in the lifecycle.
PATHS: dict[S, list[str]] = {
    S.PROPOSED: [],
    S.CONTRACTED: ["contract"],
    S.PROVISIONING: ["contract", "start_provisioning"],
    S.SETUP_BLOCKED: ["contract", "start_provisioning", "block_setup"],
    S.ACTIVE: ["contract", "start_provisioning", "activate"],
    S.SUSPENDED: ["contract", "start_provisioning", "activate", "suspend"],
    S.CLOSING: ["contract", "start_provisioning", "activate", "start_closing"],
    S.CLOSED: ["contract", "start_provisioning", "activate", "start_closing", "close"],
    S.CANCELLED: ["cancel"],
}

reasons = st.sampled_from(["", "   ", "tax profile missing", "client paused", "deal lost"])
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))
# Fixed probes for the time invariant, spread around any close date `days` can produce.
PROBES = [date(2025, 12, 31), date(2026, 3, 31), date(2026, 7, 1), date(2027, 1, 1)]


class EngagementMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.engagement = eng.Engagement.propose(
            EngagementId("ENG-P"), CustomerId("CUST-P"), ContractId("CON-P"), at=self.tick()
        )
        self.expected_state = S.PROPOSED
        self.expected_close_date: date | None = None
        self.accepted_calls = 0

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def attempt(
        self, method: str, call: Callable[[datetime], None], reason: str | None = None
    ) -> bool:
        """Make one call and check it against the model; True when the model accepted it."""
        before = (self.engagement.state, self.engagement.revision, len(self.engagement.events))
        at = self.tick()
        dest = MODEL[method].get(self.expected_state)
        if dest is None:
            with pytest.raises(IllegalTransitionError):
                call(at)
        elif reason is not None and not reason.strip():
            with pytest.raises(eng.EngagementReasonRequiredError):
                call(at)
        else:
            call(at)
            self.expected_state = dest
            self.accepted_calls += 1
            last = self.engagement.events[-1]
            assert isinstance(last, EVENT_OF[method])
            assert last.at == at
            assert last.engagement_id == EngagementId("ENG-P")
            return True
        after = (self.engagement.state, self.engagement.revision, len(self.engagement.events))
        assert after == before, f"refused {method} changed the engagement"
        return False

    @initialize(start=st.sampled_from(S), close_date=days)
    def walk_to(self, start: S, close_date: date) -> None:
        """Start the random walk from any state, reached by legal calls checked like the rest."""
        for method in PATHS[start]:
            if method == "start_closing":
                self.start_closing(close_date)
            elif method in ("block_setup", "suspend", "cancel"):
                getattr(self, method)("on the way")
            else:
                getattr(self, method)()
        assert self.expected_state is start

    # Calls -----------------------------------------------------------------------------------

    @rule()
    def contract(self) -> None:
        self.attempt("contract", self.engagement.contract)

    @rule()
    def start_provisioning(self) -> None:
        self.attempt("start_provisioning", self.engagement.start_provisioning)

    @rule(reason=reasons)
    def block_setup(self, reason: str) -> None:
        if self.attempt("block_setup", lambda at: self.engagement.block_setup(reason, at), reason):
            assert self.engagement.blocked_reason == reason.strip()

    @rule()
    def resume_provisioning(self) -> None:
        if self.attempt("resume_provisioning", self.engagement.resume_provisioning):
            assert self.engagement.blocked_reason is None

    @rule()
    def activate(self) -> None:
        self.attempt("activate", self.engagement.activate)

    @rule(reason=reasons)
    def suspend(self, reason: str) -> None:
        self.attempt("suspend", lambda at: self.engagement.suspend(reason, at), reason)

    @rule()
    def resume(self) -> None:
        self.attempt("resume", self.engagement.resume)

    @rule(close_date=days)
    def start_closing(self, close_date: date) -> None:
        if self.attempt("start_closing", lambda at: self.engagement.start_closing(close_date, at)):
            self.expected_close_date = close_date

    @rule()
    def close(self) -> None:
        self.attempt("close", self.engagement.close)

    @rule(reason=reasons)
    def cancel(self, reason: str) -> None:
        self.attempt("cancel", lambda at: self.engagement.cancel(reason, at), reason)

    @rule(work_date=days)
    def log_time(self, work_date: date) -> None:
        if self.time_expected_on(work_date):
            self.engagement.require_time_accepted(work_date)
        else:
            with pytest.raises(eng.TimeNotAcceptedError):
                self.engagement.require_time_accepted(work_date)

    # Invariants ------------------------------------------------------------------------------

    def time_expected_on(self, work_date: date) -> bool:
        if self.expected_state is S.ACTIVE:
            return True
        if self.expected_state is S.CLOSING:
            assert self.expected_close_date is not None
            return work_date < self.expected_close_date
        return False

    @invariant()
    def state_is_a_lifecycle_state_and_matches_the_model(self) -> None:
        assert isinstance(self.engagement.state, S)
        assert self.engagement.state is self.expected_state

    @invariant()
    def revision_counts_the_proposal_and_every_accepted_call(self) -> None:
        assert self.engagement.revision == 1 + self.accepted_calls

    @invariant()
    def every_change_is_recorded_as_one_event(self) -> None:
        assert len(self.engagement.events) == self.engagement.revision

    @invariant()
    def time_is_accepted_only_while_active_or_before_the_close_date(self) -> None:
        for work_date in [*PROBES, *filter(None, [self.expected_close_date])]:
            expected = self.time_expected_on(work_date)
            assert self.engagement.accepts_time_on(work_date) is expected, work_date


EngagementMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None
)
TestEngagement = EngagementMachine.TestCase
