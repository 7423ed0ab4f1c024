"""Setup calls the ERP and the PSA between transactions, never inside one: it claims the setup
(the engagement is provisioning, committed), calls, then records what the PSA answered. A
failure leaves a typed exception and nothing half-done; a crash between the call and the
record is made good by a replay, with the same project."""

from __future__ import annotations

from typing import Any

import pytest

from application import commands as c
from application.audit import verify_chain
from application.records import ExceptionKind
from domain.engagement import EngagementState
from domain.ids import EngagementId
from tests.unit.application.conftest import CUSTOMER, ENTITY, App, set_up_tm_contract

E1 = EngagementId("E1")


class ProcessDied(BaseException):
    """The process ends mid-way (killed, out of memory): no `except Exception` runs."""


def committed_state(app: App) -> EngagementState:
    """The engagement as the store holds it: only what a transaction committed."""
    state: EngagementState = app.store.data.aggregates["engagement"]["E1"].state
    return state


def test_the_psa_is_called_only_once_the_claim_is_committed(app: App) -> None:
    seen: list[tuple[EngagementState, int]] = []
    original = app.projects.provision

    def provision(key: str, engagement_id: EngagementId, contract: Any) -> str:
        seen.append((committed_state(app), app.store.commits))
        return original(key, engagement_id, contract)

    app.projects.provision = provision  # type: ignore[method-assign]
    set_up_tm_contract(app)
    ((state_at_call, commits_at_call),) = seen
    assert state_at_call is EngagementState.PROVISIONING
    assert committed_state(app) is EngagementState.ACTIVE
    assert app.store.commits == commits_at_call + 1  # the record is its own transaction


def test_the_erp_is_asked_for_the_customer_outside_any_transaction(app: App) -> None:
    states: list[EngagementState] = []
    original = app.master.lookup

    def lookup(customer_id: Any, legal_entity_id: Any) -> Any:
        states.append(committed_state(app))
        return original(customer_id, legal_entity_id)

    app.master.lookup = lookup  # type: ignore[method-assign]
    set_up_tm_contract(app)
    assert states == [EngagementState.PROVISIONING]


def test_a_psa_that_fails_leaves_a_typed_exception_and_nothing_half_done(app: App) -> None:
    app.projects.available = False
    set_up_tm_contract(app)
    assert committed_state(app) is EngagementState.PROVISIONING
    exception = app.the_exception(ExceptionKind.DOWNSTREAM_UNAVAILABLE, "downstream_unavailable")
    assert exception.replay == {"command": "SetUpEngagement", "args": {"engagement_id": "E1"}}
    assert app.data.aggregates["engagement"]["E1"].project_code is None
    assert (CUSTOMER, ENTITY) not in app.data.tax_profiles  # kept only with the activation
    assert "EngagementActivated" not in [e.event_type for e in app.data.outbox]


def test_a_crash_between_the_call_and_the_record_is_made_good_by_a_replay(app: App) -> None:
    original = app.projects.provision

    def provision_then_die(key: str, engagement_id: EngagementId, contract: Any) -> str:
        original(key, engagement_id, contract)
        raise ProcessDied("the process died after the PSA created the project")

    app.projects.provision = provision_then_die  # type: ignore[method-assign]
    with pytest.raises(ProcessDied):
        set_up_tm_contract(app)
    assert committed_state(app) is EngagementState.PROVISIONING
    assert app.data.exceptions == {}  # nothing could be recorded: the process was gone
    app.projects.provision = original  # type: ignore[method-assign]
    assert app.do(c.SetUpEngagement(E1), actor="integration") is True
    assert committed_state(app) is EngagementState.ACTIVE
    assert app.data.aggregates["engagement"]["E1"].project_code == "PRJ-E1"
    assert list(app.projects.projects) == ["E1:project"]  # the same key: one project
    assert verify_chain(app.data.audit).intact


def test_a_replay_of_a_finished_setup_calls_no_one(app: App) -> None:
    set_up_tm_contract(app)
    calls = (app.master.calls, app.projects.calls)
    commits = app.store.commits
    assert app.do(c.SetUpEngagement(E1), actor="integration") is True
    assert (app.master.calls, app.projects.calls) == calls
    assert app.store.commits == commits
