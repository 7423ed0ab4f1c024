"""The inbox on real SQLite and PostgreSQL: the raw body kept exactly, the (source, message id)
key as the dedupe (also between concurrent deliveries), optimistic saves; and the application
inbox suite of tests/unit/application run again on the SQL unit of work."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from application.context import RequestContext
from application.errors import ConflictError
from application.inbox import MessageInProgressError, ReceiptStatus
from application.records import InboxMessage, InboxState
from tests.integration.support import SqlApp, only_on
from tests.integration.test_concurrency import in_threads
from tests.unit.application.test_inbox import *  # noqa: F403
from tests.unit.application.test_inbox import deliver, example, stored

CTX = RequestContext("test", "corr-sql")
BODY = '{\n  "type": "time.approved",\t"data": {"note": "Zoë — 7½ h \\u0000 ✓"}  }\n'


def message(app: SqlApp, message_id: str, **changes: object) -> InboxMessage:
    fields: dict[str, object] = {
        "source": "psa",
        "message_id": message_id,
        "event_type": "time.approved",
        "body": BODY,
        "received_at": app.clock.now(),
        "correlation_id": "corr-sql",
    }
    fields.update(changes)
    return InboxMessage(**fields)  # type: ignore[arg-type]


def test_the_raw_body_comes_back_exactly_as_it_was_stored(app: SqlApp) -> None:
    with app.bus.deps.uow(CTX) as uow:
        uow.inbox.add(message(app, "m1"))
        uow.commit()
    found = stored(app, "psa", "m1")
    assert found is not None
    assert found.body == BODY
    assert (found.state, found.attempts, found.steps_done, found.received_at) == (
        InboxState.RECEIVED,
        0,
        0,
        app.clock.now(),
    )
    assert stored(app, "crm", "m1") is None  # the key is (source, message id)


def test_a_second_message_with_the_same_key_is_refused_and_the_first_kept(app: SqlApp) -> None:
    with app.bus.deps.uow(CTX) as uow:
        uow.inbox.add(message(app, "m1"))
        uow.commit()
    with app.bus.deps.uow(CTX) as uow:
        with pytest.raises(ConflictError):
            uow.inbox.add(message(app, "m1", body="{}"))
        uow.inbox.add(message(app, "m2"))  # the transaction is still usable
        uow.commit()
    first = stored(app, "psa", "m1")
    assert first is not None
    assert first.body == BODY
    assert stored(app, "psa", "m2") is not None


@only_on("postgresql")  # on SQLite a second writer waits for the first (BEGIN IMMEDIATE)
def test_saving_a_message_someone_changed_since_it_was_read_is_a_conflict(app: SqlApp) -> None:
    with app.bus.deps.uow(CTX) as uow:
        uow.inbox.add(message(app, "m1"))
        uow.commit()
    with app.bus.deps.uow(CTX) as stale:
        mine = stale.inbox.find("psa", "m1")
        assert mine is not None
        with app.bus.deps.uow(CTX) as other:
            theirs = other.inbox.find("psa", "m1")
            assert theirs is not None
            theirs.step_done()
            other.inbox.save(theirs)
            other.commit()
        mine.processed(app.clock.now())
        with pytest.raises(ConflictError):
            stale.inbox.save(mine)
    kept = stored(app, "psa", "m1")
    assert kept is not None
    assert (kept.state, kept.steps_done) == (InboxState.RECEIVED, 1)


def test_waiting_messages_are_listed_oldest_first_up_to_the_limit(app: SqlApp) -> None:
    start = app.clock.now()
    with app.bus.deps.uow(CTX) as uow:
        uow.inbox.add(message(app, "late", received_at=start + timedelta(minutes=2)))
        uow.inbox.add(message(app, "early", received_at=start))
        uow.inbox.add(message(app, "middle", received_at=start + timedelta(minutes=1)))
        done = message(app, "done", received_at=start)
        done.processed(start)
        uow.inbox.add(done)
        uow.commit()
    with app.bus.deps.uow(CTX, read_only=True) as uow:
        cutoff = start + timedelta(minutes=2)
        assert [m.message_id for m in uow.inbox.received_before(cutoff, 10)] == [
            "early",
            "middle",
        ]
        assert [m.message_id for m in uow.inbox.received_before(cutoff, 1)] == ["early"]


def test_concurrent_deliveries_of_one_message_take_effect_once(app: SqlApp) -> None:
    body = json.dumps(example("opportunity.closed_won")).encode()
    outcomes: list[object] = []
    refused = in_threads(
        *[lambda: outcomes.append(deliver(app, "crm", body, "crm-1").status) for _ in range(4)]
    )
    # Each delivery is processed, a duplicate of the finished message, or told to come back
    # while another one processes it; never acknowledged before the message is done.
    assert all(r is None or isinstance(r, MessageInProgressError) for r in refused), refused
    assert ReceiptStatus.PROCESSED in outcomes
    assert set(outcomes) <= {ReceiptStatus.PROCESSED, ReceiptStatus.DUPLICATE}
    assert len(outcomes) + sum(r is not None for r in refused) == 4
    assert deliver(app, "crm", body, "crm-1").status is ReceiptStatus.DUPLICATE
    assert list(app.data.aggregates["engagement"]) == ["OPP-4711"]
    receives = [r for r in app.data.audit if r.action == "receive"]
    assert len(receives) == 1
