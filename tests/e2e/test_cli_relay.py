"""`throughline relay` and `throughline outbox dead | replay`: in process on `memory://`, and the
real console script on a SQLite file, delivering to a webhook receiver on loopback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from adapters.clock import SystemClock
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.records import DeliveryState, OutboxEvent
from entrypoints.composition.database import MemoryDatabase
from tests.e2e.cli_harness import ROOT, InProcess, Subprocess
from tests.support.http_sink import Sink, running_sink

SECRET = "whsec_" + base64.b64encode(b"cli-relay-test-secret-000").decode()
SEEDER = RequestContext("seed", "corr-seed")


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


@pytest.fixture
def memory() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def cli(memory: MemoryDatabase, tmp_path: Path) -> Iterator[InProcess]:
    runner = InProcess(memory, tmp_path, actor="integration-lead")
    yield runner
    runner.close()


def outbox_event(n: int, state: DeliveryState = DeliveryState.PENDING) -> OutboxEvent:
    event = OutboxEvent(
        f"evt-{n}",
        "InvoiceIssued",
        "Invoice",
        f"INV-{n}",
        {"invoice_id": f"INV-{n}"},
        f"corr-{n}",
        datetime(2026, 3, 31, 12, 0, tzinfo=UTC),
        state,
    )
    if state is DeliveryState.DEAD:
        event.attempts, event.last_error = 5, "webhook delivery failed: erp: HTTP 500"
    return event


def seed(database: MemoryDatabase | Database, *events: OutboxEvent) -> None:
    with database.unit_of_work(SEEDER, SystemClock().now) as uow:
        uow.outbox.add(list(events))
        uow.commit()


def subscribers_file(directory: Path, sink: Sink, **extra: object) -> Path:
    entry = {"name": "erp", "url": sink.url("/erp"), "secret": SECRET, **extra}
    path = directory / "subscribers.json"
    path.write_text(json.dumps({"subscribers": [entry]}), encoding="utf-8")
    return path


def test_relay_once_delivers_the_pending_events_signed_and_exits_0(
    cli: InProcess, memory: MemoryDatabase, sink: Sink, tmp_path: Path
) -> None:
    seed(memory, outbox_event(1), outbox_event(2))
    path = subscribers_file(tmp_path, sink, event_types=["com.throughline.invoice.*"])
    done = cli(
        "relay", "--once", "--worker-id", "cli-1", env={"THROUGHLINE_SUBSCRIBERS": str(path)}
    )
    assert done.code == 0, done.text
    assert "Relay cli-1: 2 delivered, 0 failed (retry scheduled), 0 dead." in done.out
    assert [r.headers["webhook-id"] for r in sink.received] == ["evt-1", "evt-2"]
    for delivery in sink.received:
        assert Webhook(SECRET).verify(delivery.body, delivery.headers)["subject"].startswith("INV-")
    again = cli("relay", "--once", "--subscribers", str(path))
    assert again.code == 0
    assert len(sink.received) == 2  # nothing due twice


def test_relay_once_exits_1_when_a_delivery_failed(
    cli: InProcess, memory: MemoryDatabase, sink: Sink, tmp_path: Path
) -> None:
    seed(memory, outbox_event(1))
    sink.status["/erp"] = 500
    done = cli("relay", "--once", "--subscribers", str(subscribers_file(tmp_path, sink)))
    assert done.code == 1, done.text
    assert ": 0 delivered, 1 failed (retry scheduled), 0 dead." in done.out


def test_relay_without_subscribers_says_how_to_name_them(cli: InProcess) -> None:
    done = cli("relay", "--once", env={"THROUGHLINE_SUBSCRIBERS": ""})
    assert done.code == 2
    assert "--subscribers or $THROUGHLINE_SUBSCRIBERS" in done.err


def test_a_bad_subscribers_file_is_named_with_its_field_and_no_secret(
    cli: InProcess, sink: Sink, tmp_path: Path
) -> None:
    path = subscribers_file(tmp_path, sink, event_type=["com.throughline.*"])  # misspelt
    done = cli("relay", "--once", "--subscribers", str(path))
    assert done.code == 2
    assert f"{path}: subscribers[0].event_type: is not a known field" in done.err
    path.write_text(
        json.dumps({"subscribers": [{"name": "erp", "url": sink.url("/"), "secret": "not b64!"}]})
    )
    done = cli("relay", "--once", "--subscribers", str(path))
    assert done.code == 2
    assert "subscribers[0].secret: is not a Standard Webhooks secret" in done.err
    assert "not b64!" not in done.text


def test_dead_events_are_listed_and_a_replay_sends_one_again_audited(
    cli: InProcess, memory: MemoryDatabase, sink: Sink, tmp_path: Path
) -> None:
    seed(memory, outbox_event(1, DeliveryState.DEAD), outbox_event(2, DeliveryState.DELIVERED))
    listed = cli("outbox", "dead")
    assert listed.code == 1
    assert "evt-1" in listed.out
    assert "com.throughline.invoice.issued" in listed.out
    assert "webhook delivery failed: erp: HTTP 500" in listed.out
    assert "evt-2" not in listed.out

    assert cli("outbox", "replay", "evt-1", "--reason", "  ").code == 2
    not_dead = cli("outbox", "replay", "evt-2", "--reason", "resend")
    assert (not_dead.code, "[outbox_event_not_dead]" in not_dead.err) == (1, True)
    assert cli("outbox", "replay", "evt-404", "--reason", "resend").code == 2

    done = cli("outbox", "replay", "evt-1", "--reason", "ERP endpoint fixed")
    assert done.code == 0, done.text
    assert "evt-1 replayed by integration-lead: pending again under the same id" in done.out
    (record,) = [r for r in memory.store.data.audit if r.subject == "outbox:evt-1"]
    assert (record.actor, record.before, record.after, record.reason) == (
        "integration-lead",
        "dead",
        "pending",
        "ERP endpoint fixed",
    )
    assert record.correlation_id.startswith("cli-")
    assert cli("outbox", "dead").out.strip() == "Dead outbox events: none."

    path = subscribers_file(tmp_path, sink)
    assert cli("relay", "--once", "--subscribers", str(path)).code == 0
    assert [r.headers["webhook-id"] for r in sink.received] == ["evt-1"]


def test_the_console_script_relays_a_sqlite_outbox(sink: Sink, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'throughline.db'}"
    throughline = Subprocess(url, tmp_path)
    assert throughline("db", "upgrade").code == 0
    database = Database(url)
    seed(database, outbox_event(1), outbox_event(2), outbox_event(3, DeliveryState.DEAD))
    database.dispose()
    env = {"THROUGHLINE_SUBSCRIBERS": str(subscribers_file(tmp_path, sink))}
    done = throughline("relay", "--once", "--batch", "1", "--worker-id", "ci", env=env)
    assert done.code == 0, done.text
    assert "Relay ci: 2 delivered" in done.out
    assert [r.headers["webhook-id"] for r in sink.received] == ["evt-1", "evt-2"]
    listed = throughline("outbox", "dead")
    assert (listed.code, "evt-3" in listed.out) == (1, True)
    assert throughline("outbox", "replay", "evt-3", "--reason", "fixed").code == 0
    assert throughline("relay", "--once", env=env).code == 0
    assert [r.headers["webhook-id"] for r in sink.received] == ["evt-1", "evt-2", "evt-3"]


def test_with_a_chart_and_no_subscribers_the_relay_posts_journals_to_the_erp_only(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'throughline.db'}"
    throughline = Subprocess(url, tmp_path)
    assert throughline("demo").code == 0
    env = {
        "THROUGHLINE_SUBSCRIBERS": "",
        "THROUGHLINE_CHART_OF_ACCOUNTS": str(ROOT / "adapters" / "charts_of_accounts.json"),
    }

    done = throughline("relay", "--once", "--worker-id", "erp-only", env=env)

    assert done.code == 0, done.text
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            postings = (
                connection.execute(sa.select(t.journal_postings.c.erp_document)).scalars().all()
            )
            states = connection.execute(
                sa.select(t.outbox.c.aggregate_type, t.outbox.c.state)
            ).all()
    finally:
        database.dispose()
    assert postings
    assert all(document for document in postings)  # every entry acknowledged
    assert {s for a, s in states if a == "JournalEntry"} == {DeliveryState.DELIVERED.value}
    others = {s for a, s in states if a != "JournalEntry"}
    assert others == {DeliveryState.PENDING.value}  # waiting for a subscriber, not dropped
    assert f"Relay erp-only: {len(postings)} delivered" in done.out


def test_without_subscribers_or_a_chart_the_relay_says_both_ways_to_give_it_work(
    cli: InProcess,
) -> None:
    done = cli(
        "relay", "--once", env={"THROUGHLINE_SUBSCRIBERS": "", "THROUGHLINE_CHART_OF_ACCOUNTS": ""}
    )
    assert done.code == 2
    assert "$THROUGHLINE_CHART_OF_ACCOUNTS" in done.err
