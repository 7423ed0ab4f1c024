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
