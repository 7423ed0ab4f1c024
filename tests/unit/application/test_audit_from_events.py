"""The audit trail is written by the unit of work at commit, from the aggregates' events and
the changes the application states, as the outbox is: a handler writes no record by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from application.audit import verify_chain
from application.audit_trail import AUDITED, AuditEntry, audit_entries
from application.changes import RecordMoved
from application.context import RequestContext
from domain.engagement import Engagement, EngagementState, EngagementSuspended
from domain.ids import ContractId, CustomerId, EngagementId

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CTX = RequestContext("ops", "corr-7")


def store_with(engagement: Engagement) -> InMemoryStore:
    store = InMemoryStore()
    engagement.events.clear()
    store.data.aggregates["engagement"][engagement.engagement_id] = engagement
    return store


def contracted() -> Engagement:
    engagement = Engagement.propose(EngagementId("E1"), CustomerId("acme"), ContractId("C1"), AT)
    engagement.contract(AT)
    return engagement


def trail(store: InMemoryStore) -> list[tuple[str, str, str | None, str | None, str]]:
    return [(r.subject, r.action, r.before, r.after, r.reason) for r in store.data.audit]


def test_each_move_of_an_aggregate_in_one_commit_is_one_record_chained_state_to_state() -> None:
    store = store_with(contracted())
    with InMemoryUnitOfWork(store, CTX, lambda: AT) as uow:
        engagement = uow.engagements.get(EngagementId("E1"))
        engagement.claim_setup(AT)
        engagement.block_setup("missing master data: tax_profile", AT)
        uow.commit()
    assert trail(store) == [
        ("engagement:E1", "start_provisioning", "contracted", "provisioning", ""),
        ("engagement:E1", "block_setup", "provisioning", "setup_blocked", ""),
    ]
    assert [(r.actor, r.correlation_id, r.at) for r in store.data.audit] == [
        ("ops", "corr-7", AT),
        ("ops", "corr-7", AT),
    ]
    assert verify_chain(store.data.audit).intact


def test_a_stated_change_is_recorded_after_the_events_of_the_same_commit() -> None:
    store = store_with(contracted())
    with InMemoryUnitOfWork(store, CTX, lambda: AT) as uow:
        uow.record(RecordMoved("exception:EXC-1", "raised", None, "open", "the PSA is down"))
        uow.engagements.get(EngagementId("E1")).claim_setup(AT)
        uow.commit()
    assert [r.action for r in store.data.audit] == ["start_provisioning", "raised"]


def fail_before_commit(uow: InMemoryUnitOfWork) -> None:
    with uow:
        uow.engagements.get(EngagementId("E1")).claim_setup(AT)
        uow.record(RecordMoved("exception:EXC-1", "raised", None, "open"))
        raise RuntimeError("the handler failed before its commit")


def test_a_unit_of_work_left_without_commit_records_nothing() -> None:
    store = store_with(contracted())
    uow = InMemoryUnitOfWork(store, CTX, lambda: AT)
    with pytest.raises(RuntimeError):
        fail_before_commit(uow)
    with uow:
        uow.commit()  # its next use does not pick up what the failed one stated
    assert store.data.audit == []


def test_the_audit_record_and_the_outbox_event_come_from_the_same_event() -> None:
    store = store_with(contracted())
    with InMemoryUnitOfWork(store, CTX, lambda: AT) as uow:
        uow.engagements.get(EngagementId("E1")).claim_setup(AT)
        uow.commit()
    assert [e.event_type for e in store.data.outbox] == ["EngagementProvisioningStarted"]
    assert [r.action for r in store.data.audit] == ["start_provisioning"]


def test_an_event_the_table_knows_names_its_subject_action_and_reason() -> None:
    engagement = Engagement(
        EngagementId("E1"), CustomerId("acme"), ContractId("C1"), EngagementState.ACTIVE
    )
    engagement.suspend("  client asked for a pause  ", AT)
    (event,) = engagement.events
    assert isinstance(event, EngagementSuspended)
    entries = audit_entries([(engagement, event)], {id(engagement): "active"}, [engagement])
    assert entries == [
        AuditEntry("engagement:E1", "suspend", "active", "suspended", "client asked for a pause")
    ]


def test_an_event_the_table_does_not_know_writes_no_record() -> None:
    class SomethingNobodyAudits:
        pass

    assert SomethingNobodyAudits not in AUDITED
    assert audit_entries([(object(), SomethingNobodyAudits())], {}, []) == []
