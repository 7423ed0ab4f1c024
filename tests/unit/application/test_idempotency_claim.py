"""The Idempotency-Key is claimed in the command's own transaction (ADR 0018): it commits with
the command's changes, or goes with them when the command is refused."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from application import commands as c
from application import idempotency
from application.errors import NotFoundError, RequestInProgressError
from application.records import IdempotencyStatus
from tests.unit.application.conftest import App, set_up_tm_contract, time_entry

FP = idempotency.fingerprint("POST", "/time-entries", {"entries": ["t1"]})


def _claiming(app: App, key: str, fingerprint: str = FP) -> tuple[object, idempotency.Claim]:
    claim = idempotency.Claim("psa", key, fingerprint, app.clock.now())
    return attrs.evolve(app.as_("psa"), idempotency=claim), claim


def _stored(app: App, key: str) -> object:
    with app.bus.deps.uow(app.as_("psa"), read_only=True) as uow:
        return uow.idempotency.find("psa", key)


def test_the_key_is_claimed_by_the_commit_that_records_the_time(app: App) -> None:
    set_up_tm_contract(app)
    ctx, claim = _claiming(app, "k1")
    commits = app.store.commits
    app.bus.handle(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)), ctx)
    record = _stored(app, "k1")
    assert claim.claimed
    assert app.store.commits == commits + 1  # one transaction: the entry and its claim
    assert record is not None
    assert record.status is IdempotencyStatus.IN_PROGRESS


def test_a_refused_command_leaves_no_claim_so_a_corrected_retry_works(app: App) -> None:
    ctx, claim = _claiming(app, "k2")
    with pytest.raises(NotFoundError):
        app.bus.handle(c.ApproveItem("nothing-like-it"), ctx)
    assert not claim.claimed
    assert _stored(app, "k2") is None


def test_a_key_answered_before_stops_the_command_before_it_reads_anything(app: App) -> None:
    set_up_tm_contract(app)
    ctx, _ = _claiming(app, "k3")
    app.bus.handle(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)), ctx)
    with app.bus.deps.uow(app.as_("psa")) as uow:
        idempotency.complete(uow, "psa", "k3", 201, '{"accepted": ["t1"]}')
        uow.commit()
    again, _ = _claiming(app, "k3")
    with pytest.raises(idempotency.AlreadyAnsweredError) as answered:
        app.bus.handle(c.RecordTimeEntries((time_entry("t9", date(2026, 3, 3), "8"),)), again)
    assert answered.value.record.response_body == '{"accepted": ["t1"]}'
    assert "t9" not in app.data.time_entries


def test_a_key_another_request_holds_is_in_progress(app: App) -> None:
    set_up_tm_contract(app)
    first, _ = _claiming(app, "k4")
    app.bus.handle(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)), first)
    other, _ = _claiming(app, "k4")
    with pytest.raises(RequestInProgressError):
        app.bus.handle(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)), other)


def test_a_read_only_unit_of_work_claims_nothing(app: App) -> None:
    ctx, claim = _claiming(app, "k5")
    with app.bus.deps.uow(ctx, read_only=True):
        pass
    assert not claim.claimed
    assert _stored(app, "k5") is None


def _answering(app: App, key: str) -> tuple[object, idempotency.Claim]:
    claim = idempotency.Claim("psa", key, FP, app.clock.now(), answer_in_transaction=True)
    return attrs.evolve(app.as_("psa"), idempotency=claim), claim


def _recorded_awaiting_the_answer(app: App, key: str) -> tuple[object, idempotency.Claim]:
    """A time entry recorded for a request whose answer goes in the command's transaction."""
    set_up_tm_contract(app)
    ctx, claim = _answering(app, key)
    app.bus.handle(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)), ctx)
    return ctx, claim


def test_the_answer_is_stored_with_the_entry_and_its_key_in_one_commit(app: App) -> None:
    set_up_tm_contract(app)
    ctx, claim = _answering(app, "k6")
    commits = app.store.commits
    app.bus.handle(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)), ctx)
    assert app.store.commits == commits  # the command's commit waits for the answer
    assert "t1" not in app.data.time_entries
    assert claim.answer(200, '{"accepted": ["t1"]}')
    record = _stored(app, "k6")
    assert app.store.commits == commits + 1
    assert claim.claimed
    assert "t1" in app.data.time_entries
    assert record is not None
    assert (record.status, record.response_body) == (
        IdempotencyStatus.COMPLETED,
        '{"accepted": ["t1"]}',
    )


def test_more_work_for_the_same_request_first_commits_the_work_waiting_for_the_answer(
    app: App,
) -> None:
    ctx, claim = _recorded_awaiting_the_answer(app, "k7")
    with app.bus.deps.uow(ctx, read_only=True) as uow:
        assert uow.delivery.time_entries_with_ids(["t1"])  # it reads what the command wrote
    assert claim.claimed
    assert not claim.answer(200, "{}")  # nothing waits: the answer goes in its own write
    record = _stored(app, "k7")
    assert record is not None
    assert record.status is IdempotencyStatus.IN_PROGRESS


def test_a_request_that_ends_without_an_answer_keeps_the_committed_work_and_its_claim(
    app: App,
) -> None:
    _, claim = _recorded_awaiting_the_answer(app, "k8")
    claim.settle()
    assert claim.claimed
    assert "t1" in app.data.time_entries
    claim.settle()  # nothing waits any more: nothing happens
    assert len(app.data.time_entries) == 1
