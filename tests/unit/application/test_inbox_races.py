"""A message whose command loses a race to another writer (ADR 0026's inbox): the command runs
again on the new state, as a replay from the queue would, before anything is parked. Two
payments of one invoice sent together by the ERP are both applied, neither waits on the
exception queue for someone to replay it."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from application import commands as c
from application.errors import ConcurrentChangeError
from application.handlers import HANDLERS, create_bus
from application.handlers.inbox import RUNS_ON_CONCURRENT_CHANGE
from application.messagebus import MessageBus
from application.records import ExceptionKind
from tests.unit.application.conftest import App
from tests.unit.application.test_inbox import deliver, engagement, example, rate_card_and_tax


def losing(
    app: App, monkeypatch: pytest.MonkeyPatch, races_lost: int
) -> tuple[MessageBus, list[int]]:
    """A bus whose `ProposeEngagement` loses `races_lost` races before it runs; the calls."""
    real = HANDLERS[c.ProposeEngagement]
    calls: list[int] = []

    @functools.wraps(real)
    def racing(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(calls) + 1)
        if len(calls) <= races_lost:
            raise ConcurrentChangeError("engagement OPP-4711 was changed by someone else")
        return real(*args, **kwargs)

    monkeypatch.setitem(HANDLERS, c.ProposeEngagement, racing)
    return create_bus(app.bus.deps), calls


def test_a_command_that_lost_a_race_runs_again_and_the_message_is_processed(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate_card_and_tax(app)
    bus, calls = losing(app, monkeypatch, races_lost=RUNS_ON_CONCURRENT_CHANGE - 1)
    outcome = deliver(app, "crm", example("opportunity.closed_won"), "crm-1", bus=bus)
    assert outcome.status.value == "processed"
    assert calls == list(range(1, RUNS_ON_CONCURRENT_CHANGE + 1))
    assert engagement(app).engagement_id == "OPP-4711"
    assert app.data.exceptions == {}


def test_a_command_that_keeps_losing_is_parked_as_a_conflict_after_its_runs(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate_card_and_tax(app)
    bus, calls = losing(app, monkeypatch, races_lost=RUNS_ON_CONCURRENT_CHANGE)
    outcome = deliver(app, "crm", example("opportunity.closed_won"), "crm-1", bus=bus)
    assert outcome.status.value == "failed"
    assert len(calls) == RUNS_ON_CONCURRENT_CHANGE
    (parked,) = app.data.exceptions.values()
    assert (parked.kind, parked.reason_code) == (ExceptionKind.CONFLICT, "conflict")
    assert "OPP-4711" not in app.data.aggregates["engagement"]
