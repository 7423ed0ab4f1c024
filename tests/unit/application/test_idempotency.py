"""Idempotency keys: replay, conflict, in progress, abandon, stale claims, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application import idempotency
from application.errors import IdempotencyKeyReusedError, RequestInProgressError
from tests.unit.application.conftest import App

BODY = {"period": "2026-03", "dry_run": False}


def test_the_same_request_with_the_same_key_gets_the_stored_response(app: App) -> None:
    fp = idempotency.fingerprint("post", "/billing-runs", BODY)
    ctx = app.as_("erp-client")
    with app.bus.deps.uow(ctx) as uow:
        assert idempotency.begin(uow, "erp-client", "k1", fp, app.clock.now()) is None
        idempotency.complete(uow, "erp-client", "k1", 201, '{"id": "RUN-1"}')
        uow.commit()
    with app.bus.deps.uow(ctx) as uow:
        stored = idempotency.begin(uow, "erp-client", "k1", fp, app.clock.now())
    assert stored is not None
    assert (stored.response_status, stored.response_body) == (201, '{"id": "RUN-1"}')


def test_a_key_reused_for_another_request_is_a_conflict(app: App) -> None:
    ctx = app.as_("erp-client")
    fp1 = idempotency.fingerprint("POST", "/billing-runs", BODY)
    fp2 = idempotency.fingerprint("POST", "/billing-runs", {**BODY, "dry_run": True})
    assert fp1 != fp2
    assert fp1 == idempotency.fingerprint("POST", "/billing-runs", dict(reversed(BODY.items())))
    with app.bus.deps.uow(ctx) as uow:
        idempotency.begin(uow, "erp-client", "k1", fp1, app.clock.now())
        idempotency.complete(uow, "erp-client", "k1", 201, "{}")
        uow.commit()
    with app.bus.deps.uow(ctx) as uow, pytest.raises(IdempotencyKeyReusedError):
        idempotency.begin(uow, "erp-client", "k1", fp2, app.clock.now())


def test_keys_are_scoped_to_the_principal(app: App) -> None:
    fp = idempotency.fingerprint("POST", "/x", BODY)
    with app.bus.deps.uow(app.as_("a")) as uow:
        idempotency.begin(uow, "client-a", "k1", fp, app.clock.now())
        assert idempotency.begin(uow, "client-b", "k1", fp, app.clock.now()) is None


def test_a_key_still_running_is_in_progress_until_it_goes_stale(app: App) -> None:
    fp = idempotency.fingerprint("POST", "/x", BODY)
    with app.bus.deps.uow(app.as_("a")) as uow:
        idempotency.begin(uow, "a", "k1", fp, app.clock.now())
        uow.commit()
    with app.bus.deps.uow(app.as_("a")) as uow, pytest.raises(RequestInProgressError):
        idempotency.begin(uow, "a", "k1", fp, app.clock.now() + timedelta(minutes=1))
    with app.bus.deps.uow(app.as_("a")) as uow:  # the first process died: take it over
        assert idempotency.begin(uow, "a", "k1", fp, app.clock.now() + timedelta(minutes=6)) is None


def test_a_request_refused_before_any_change_frees_its_key(app: App) -> None:
    fp = idempotency.fingerprint("POST", "/x", BODY)
    with app.bus.deps.uow(app.as_("a")) as uow:
        idempotency.begin(uow, "a", "k1", fp, app.clock.now())
        idempotency.abandon(uow, "a", "k1")
        uow.commit()
    fixed = idempotency.fingerprint("POST", "/x", {**BODY, "period": "2026-04"})
    with app.bus.deps.uow(app.as_("a")) as uow:
        assert idempotency.begin(uow, "a", "k1", fixed, app.clock.now()) is None


def test_keys_are_kept_a_day_then_purged(app: App) -> None:
    fp = idempotency.fingerprint("POST", "/x", BODY)
    with app.bus.deps.uow(app.as_("a")) as uow:
        idempotency.begin(uow, "a", "k1", fp, app.clock.now())
        assert idempotency.purge(uow, app.clock.now() + timedelta(hours=23)) == 0
        assert idempotency.purge(uow, app.clock.now() + timedelta(hours=25)) == 1
