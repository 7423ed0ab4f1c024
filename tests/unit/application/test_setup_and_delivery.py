"""Contract approved → setup across the systems; blocked setups, replay, retries; time
ingestion with a reason code for every rejection."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application import commands as c
from application.audit import verify_chain
from application.errors import DownstreamUnavailableError
from application.records import ExceptionKind, ExceptionState
from domain.engagement import EngagementState
from domain.ids import EngagementId, ObligationId, RateCardId, Role
from domain.time_and_materials import NotToExceed, OveragePolicy
from domain.time_entry import TimeEntry
from tests.unit.application.conftest import (
    CUSTOMER,
    ENTITY,
    App,
    complete_record,
    set_up_tm_contract,
    time_entry,
)


def engagement_state(app: App) -> EngagementState:
    return app.data.aggregates["engagement"]["E1"].state


def test_an_approved_contract_sets_the_engagement_up_straight_through(app: App) -> None:
    set_up_tm_contract(app)
    assert engagement_state(app) is EngagementState.ACTIVE
    assert list(app.projects.projects) == ["E1:project"]
    assert (CUSTOMER, ENTITY) in app.data.tax_profiles
    actions = [(r.subject, r.action, r.after) for r in app.data.audit if "engagement" in r.subject]
    assert actions == [
        ("engagement:E1", "propose", "proposed"),
        ("engagement:E1", "contract", "contracted"),
        ("engagement:E1", "start_provisioning", "provisioning"),
        ("engagement:E1", "activate", "active"),
    ]
    assert verify_chain(app.data.audit).intact


def test_missing_tax_profile_blocks_setup_until_finance_fixes_it_and_replays(app: App) -> None:
    app.master.records[(CUSTOMER, ENTITY)] = complete_record(tax_code=None)
    set_up_tm_contract(app)
    assert engagement_state(app) is EngagementState.SETUP_BLOCKED
    exception = app.the_exception(ExceptionKind.MASTER_DATA, "missing_master_data")
    assert "tax_profile" in exception.detail
    assert exception.state is ExceptionState.OPEN  # waits for a person, no automatic retry
    # time logged meanwhile is refused with a reason, not lost
    report = app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "4"),)))
    assert [(r.item_id, r.reason_code) for r in report.rejected] == [
        ("t1", "engagement_not_accepting_time")
    ]
    # finance fixes the master data in the ERP, then replays
    app.master.records[(CUSTOMER, ENTITY)] = complete_record()
    assert app.do(c.ReplayException(exception.exception_id), actor="finance") is True
    assert engagement_state(app) is EngagementState.ACTIVE
    assert app.data.exceptions[exception.exception_id].state is ExceptionState.RESOLVED
    assert len(app.projects.projects) == 1
    assert app.projects.calls == 1
    report = app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "4"),)))
    assert report.accepted == ("t1",)
    replays = [r for r in app.data.audit if r.action in ("replay", "replayed")]
    assert [r.actor for r in replays] == ["finance", "finance"]


def test_a_replay_after_a_crash_mid_setup_provisions_the_project_only_once(app: App) -> None:
    original = app.projects.provision

    def provision_then_fail(key: str, engagement_id: EngagementId, contract: object) -> str:
        original(key, engagement_id, contract)  # type: ignore[arg-type]  # the effect happens
        raise DownstreamUnavailableError("connection reset after the project was created")

    app.projects.provision = provision_then_fail  # type: ignore[method-assign]
    set_up_tm_contract(app)
    assert engagement_state(app) is EngagementState.PROVISIONING
    (exception,) = app.data.exceptions.values()
    app.projects.provision = original  # type: ignore[method-assign]
    app.do(c.ReplayException(exception.exception_id), actor="integration")
    assert engagement_state(app) is EngagementState.ACTIVE
    assert list(app.projects.projects) == ["E1:project"]  # the same key: no second project


def test_a_downstream_outage_is_retried_on_schedule_then_dead_then_replayed(app: App) -> None:
    app.projects.available = False
    set_up_tm_contract(app)
    exception = app.the_exception(ExceptionKind.DOWNSTREAM_UNAVAILABLE)
    assert exception.state is ExceptionState.RETRY_SCHEDULED
    assert exception.next_attempt_at == app.clock.now() + timedelta(minutes=1)
    assert app.do(c.RetryDueExceptions()) == []  # not due yet
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
    for wait in waits:
        app.clock.advance(seconds=wait.total_seconds())
        assert app.do(c.RetryDueExceptions()) == [exception.exception_id]
    assert app.data.exceptions[exception.exception_id].state is ExceptionState.DEAD
    app.projects.available = True
    assert app.do(c.ReplayException(exception.exception_id), actor="integration") is True
    assert engagement_state(app) is EngagementState.ACTIVE
    assert app.data.exceptions[exception.exception_id].state is ExceptionState.RESOLVED


def test_each_rejected_entry_carries_a_reason_code(app: App) -> None:
    set_up_tm_contract(app)
    batch = (
        time_entry("ok", date(2026, 3, 2), "4"),
        time_entry("no-engagement", date(2026, 3, 2), "4", engagement_id=EngagementId("E9")),
        time_entry("before-contract", date(2025, 12, 31), "4"),
        time_entry("no-obligation", date(2026, 3, 2), "4", obligation_id=ObligationId("zz")),
        time_entry("no-rate", date(2026, 3, 2), "4", role=Role("astronaut")),
        time_entry("bad-hours", date(2026, 3, 2), "25"),
    )
    report = app.do(c.RecordTimeEntries(batch))
    assert report.accepted == ("ok",)
    assert {r.item_id: r.reason_code for r in report.rejected} == {
        "no-engagement": "unknown_engagement",
        "before-contract": "outside_contract",
        "no-obligation": "unknown_obligation",
        "no-rate": "rate_not_found",
        "bad-hours": "invalid_quantity",
    }
    assert all(r.detail for r in report.rejected)


def test_a_resent_batch_is_acknowledged_without_a_second_effect(app: App) -> None:
    set_up_tm_contract(app)
    batch = (time_entry("t1", date(2026, 3, 2), "4"), time_entry("t2", date(2026, 3, 3), "2"))
    first = app.do(c.RecordTimeEntries(batch))
    again = app.do(c.RecordTimeEntries(batch))
    assert first.accepted == ("t1", "t2")
    assert (again.accepted, again.duplicates) == ((), ("t1", "t2"))
    assert sorted(app.data.time_entries) == ["t1", "t2"]


def test_a_blocking_cap_refuses_the_entry_that_would_cross_it(app: App) -> None:
    set_up_tm_contract(app, cap=NotToExceed(amount=Decimal("1000"), policy=OveragePolicy.BLOCK))
    first = app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    second = app.do(
        c.RecordTimeEntries(
            (time_entry("t2", date(2026, 3, 3), "3"), time_entry("t3", date(2026, 3, 4), "2"))
        )
    )
    assert first.accepted == ("t1",)
    # 800 + 300 > 1000: t2 is refused; 800 + 200 = 1000 fits exactly
    assert [(r.item_id, r.reason_code) for r in second.rejected] == [("t2", "cap_exceeded")]
    assert second.accepted == ("t3",)


def test_a_crash_in_the_middle_of_a_batch_changes_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_tm_contract(app)
    before = app.store.commits
    arrive = TimeEntry.received_approved

    def crash_on_t2(*args: Any, **kwargs: Any) -> TimeEntry:
        if args[0] == "t2":
            raise RuntimeError("process killed")
        return arrive(*args, **kwargs)

    monkeypatch.setattr(TimeEntry, "received_approved", crash_on_t2)
    batch = (time_entry("t1", date(2026, 3, 2), "4"), time_entry("t2", date(2026, 3, 3), "4"))
    with pytest.raises(RuntimeError):
        app.do(c.RecordTimeEntries(batch))
    assert app.store.commits == before
    assert app.data.time_entries == {}
    monkeypatch.setattr(TimeEntry, "received_approved", arrive)
    assert app.do(c.RecordTimeEntries(batch)).accepted == ("t1", "t2")  # the re-run completes


def test_rate_card_versions_are_published_through_the_application(app: App) -> None:
    set_up_tm_contract(app)
    card = app.data.aggregates["rate_card"][RateCardId("RC")]
    assert [v.version for v in card.versions] == [1]


def test_delivery_dated_in_a_closed_period_is_refused_until_it_is_reopened(app: App) -> None:
    from domain.period import Period

    set_up_tm_contract(app)
    app.clock.advance(days=40)  # 10 April: March has ended
    app.do(c.ClosePeriod(Period.month(2026, 3)), actor="controller")
    late = (time_entry("late", date(2026, 3, 30), "2"), time_entry("now", date(2026, 4, 2), "2"))
    report = app.do(c.RecordTimeEntries(late), actor="psa-import")
    assert report.accepted == ("now",)
    assert [(r.item_id, r.reason_code) for r in report.rejected] == [("late", "period_closed")]
    app.do(c.ReopenPeriod(Period.month(2026, 3), "late timesheets"), actor="controller")
    assert app.do(c.RecordTimeEntries(late)).accepted == ("late",)
