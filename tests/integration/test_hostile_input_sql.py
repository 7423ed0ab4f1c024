"""Hostile input through the HTTP app on real SQLite and PostgreSQL. PostgreSQL refuses a NUL
in text outright (psycopg raises), which used to answer 500 and, in a webhook, leave the
message `received` for its retry to be acknowledged and lost. Now the body gate refuses a NUL
at its field before any database sees it (400), and a signed webhook that carries one is
stored and waits on the exception queue (202), on both databases alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from entrypoints.composition.database import reader
from entrypoints.composition.finance_reads import finance_queries
from entrypoints.composition.ops_reads import ops_reads_on_sql
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from entrypoints.http.webhook_intake import WebhookIntake
from tests.e2e.http.books_setup import send_webhook
from tests.e2e.http.harness import ROLE_KEYS, WEBHOOK_SECRETS, Api, authenticator
from tests.e2e.http.test_webhook_inbox_hostile import NUL_DISPUTE, inbox
from tests.e2e.http.world import World, seed
from tests.integration.support import SqlApp


@pytest.fixture
def world_api(app: SqlApp) -> Iterator[tuple[Api, World]]:
    """The HTTP app over the SQL application, with both customers' worlds seeded."""
    world = seed(app)
    services = Services(
        app.bus,
        reader(app.database, app.clock),
        app.clock,
        Limits(rate_limit=1_000_000),
        WebhookIntake(app.bus, WEBHOOK_SECRETS, app.clock),
        ops=ops_reads_on_sql(app.database.engine),
        finance=finance_queries(app.database, app.master, app.clock.now),
    )
    asgi = create_app(services, authenticator())
    with TestClient(asgi, raise_server_exceptions=False) as client:
        yield Api(app, asgi, client), world


def post(api: Api, path: str, body: bytes, key: str, who: str = "finance") -> Any:
    headers = {
        "X-API-Key": ROLE_KEYS[who],
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    return api.client.post(path, content=body, headers=headers)


def invoice_state(api: Api, invoice_id: str) -> str:
    return str(api.get(f"/invoices/{invoice_id}", who="finance").json()["state"])


def test_a_nul_in_a_dispute_reason_is_400_at_the_field_and_the_invoice_is_untouched(
    world_api: tuple[Api, World],
) -> None:
    api, world = world_api
    path = f"/invoices/{world.acme.issued_invoice}/dispute"
    commits, state = api.app.store.commits, invoice_state(api, world.acme.issued_invoice)

    hostile = post(api, path, b'{"reason": "a\\u0000b"}', "dispute-1")

    assert hostile.status_code == 400, hostile.text
    assert hostile.json()["errors"] == [
        {"pointer": "/reason", "detail": "a control character (U+0000) is not accepted in text"}
    ]
    assert api.app.store.commits == commits
    assert invoice_state(api, world.acme.issued_invoice) == state  # partly paid, undisputed
    corrected = post(api, path, b'{"reason": "March hours disputed"}', "dispute-1")
    assert corrected.status_code == 200, corrected.text
    assert invoice_state(api, world.acme.issued_invoice) == "disputed"


def test_a_nul_in_a_time_entrys_task_id_is_400_at_the_field(
    world_api: tuple[Api, World],
) -> None:
    api, _world = world_api
    body = (
        b'{"approved_by": "pm", "entries": [{"entry_id": "PSA-NUL", "engagement_id": "E-ACME-1",'
        b' "obligation_id": "tm", "resource_id": "r-ana", "role": "consultant",'
        b' "work_date": "2026-03-04", "hours": "2", "task_id": "T\\u00001"}]}'
    )
    commits = api.app.store.commits

    hostile = post(api, "/time-entries", body, "time-1", who="integration")

    assert hostile.status_code == 400, hostile.text
    assert [e["pointer"] for e in hostile.json()["errors"]] == ["/entries/0/task_id"]
    assert api.app.store.commits == commits
    assert "PSA-NUL" not in api.app.data.time_entries


def test_a_nul_in_a_signed_webhook_is_stored_and_queued_not_a_500(
    world_api: tuple[Api, World],
) -> None:
    api, _world = world_api

    first = send_webhook(api, "billing", "bill-nul", NUL_DISPUTE)
    retry = send_webhook(api, "billing", "bill-nul", NUL_DISPUTE)

    assert first.status_code == 202, first.text
    assert (retry.status_code, retry.json()["status"]) == (202, "duplicate")
    item = api.app.data.exceptions[first.json()["exception_id"]]
    assert (item.reason_code, item.workflow) == ("text_limit", "inbox")
    message = inbox(api, "billing", "bill-nul")
    assert message is not None
    assert message.body == NUL_DISPUTE.decode()
