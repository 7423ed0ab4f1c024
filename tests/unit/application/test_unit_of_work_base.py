"""The commit every unit of work shares (ADR 0014, amended for issue 12), seen through the
in-memory storage: events told once, under one name per aggregate, with the request's trace
context, only when the change commits, and never from a read-only unit of work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from application.audit import verify_chain
from application.changes import RecordMoved
from application.context import RequestContext
from application.unit_of_work_base import ReadOnlyUnitOfWorkError, aggregate_identity
from domain.accounting_period import AccountingPeriod, PeriodClosed
from domain.ids import UserId
from domain.period import Period
from tests.unit.test_serialization import blocked_engagement, travel_expense

MARCH = Period.month(2026, 3)
APRIL_FIRST = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CTX = RequestContext("controller", "corr-close", traceparent=TRACEPARENT, tracestate="v=1")


def uow(store: InMemoryStore, *, read_only: bool = False) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store, CTX, lambda: APRIL_FIRST, read_only=read_only)


def close_march(unit: InMemoryUnitOfWork) -> AccountingPeriod:
    period = AccountingPeriod.open(MARCH)
    unit.periods.add(period)
    period.close(UserId("controller"), APRIL_FIRST.date(), APRIL_FIRST)
    return period


def test_a_period_is_named_by_its_key_and_other_aggregates_by_their_id() -> None:
    assert aggregate_identity(AccountingPeriod.open(MARCH)) == ("AccountingPeriod", "2026-03")
    assert aggregate_identity(blocked_engagement()) == ("Engagement", "EG-2")
    assert aggregate_identity(travel_expense()) == ("ExpenseItem", "x1")


def test_a_committed_change_tells_its_events_once_with_the_requests_trace_context() -> None:
    store = InMemoryStore()
    with uow(store) as unit:
        close_march(unit)
        unit.commit()
        unit.commit()  # nothing new happened: nothing more to tell
        told = unit.collect_events()
    (event,) = store.data.outbox
    assert (event.aggregate_type, event.aggregate_id, event.event_type) == (
        "AccountingPeriod",
        "2026-03",
        "PeriodClosed",
    )
    assert (event.correlation_id, event.traceparent, event.tracestate, event.occurred_at) == (
        "corr-close",
        TRACEPARENT,
        "v=1",
        APRIL_FIRST,
    )
    assert [type(e) for e in told] == [PeriodClosed]


def test_a_change_left_uncommitted_tells_nothing_and_stores_nothing() -> None:
    store = InMemoryStore()
    with uow(store) as unit:
        close_march(unit)
        told = unit.collect_events()
    assert (store.data.outbox, store.data.periods, told) == ([], {}, [])


def test_a_read_only_unit_of_work_refuses_to_commit_and_changes_nothing() -> None:
    store = InMemoryStore()
    with uow(store, read_only=True) as unit:
        close_march(unit)
        with pytest.raises(ReadOnlyUnitOfWorkError):
            unit.commit()
    assert (store.data.outbox, store.data.periods, store.commits) == ([], {}, 0)


def test_the_in_memory_outbox_numbers_events_after_those_already_stored() -> None:
    store = InMemoryStore()
    with uow(store) as unit:
        close_march(unit)
        unit.commit()
    with uow(store) as unit:
        period = unit.periods.get(MARCH)
        assert period is not None
        period.reopen(UserId("controller"), "late supplier invoice", APRIL_FIRST)
        unit.commit()
    assert [(e.event_id, e.event_type) for e in store.data.outbox] == [
        ("EVT-00000001", "PeriodClosed"),
        ("EVT-00000002", "PeriodReopened"),
    ]


def test_a_write_out_audits_what_was_stated_before_it_after_its_events_and_keeps_none() -> None:
    """ADR 0060: a long transaction holds no audit change or event to its commit; the trail
    and the outbox read as one commit's would."""
    store = InMemoryStore()
    with uow(store) as unit:
        unit.record(RecordMoved("invoice:INV-1", "draft", None, "draft"))
        close_march(unit)
        unit.write_out()
        assert [r.subject for r in unit.audit.all()] == ["period:2026-03", "invoice:INV-1"]
        unit.record(RecordMoved("billing_run:2026-03", "commit", None, None, "1 document"))
        unit.commit()
        told = unit.collect_events()
    assert [(r.sequence, r.subject) for r in store.data.audit] == [
        (1, "period:2026-03"),
        (2, "invoice:INV-1"),
        (3, "billing_run:2026-03"),
    ]
    assert [e.event_type for e in store.data.outbox] == ["PeriodClosed"]
    assert told == []  # the write-out's event is told by its outbox row
    assert verify_chain(store.data.audit).intact


def test_a_write_out_left_without_a_commit_stores_no_record_and_no_event() -> None:
    store = InMemoryStore()
    with uow(store) as unit:
        unit.record(RecordMoved("invoice:INV-1", "draft", None, "draft"))
        close_march(unit)
        unit.write_out()
    assert (store.data.audit, store.data.outbox, store.commits) == ([], [], 0)
