"""The journal and the trial balance over HTTP (ADRs 0033, 0034): an invoice issued through
the API shows as a posted entry with its ERP accounts and dimensions, the trial balance
balances, bad filters are refused at their parameter, and only finance and auditors read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pytest
from litestar.testing import TestClient

from adapters.memory import FakeEventPublisher, FakeGeneralLedger, InMemoryStore, InMemoryUnitOfWork
from application.handlers import create_bus
from application.journal import ErpPostingPublisher, acknowledger
from application.relay import relay_context, relay_once
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from entrypoints.webhooks import WebhookIntake
from tests.e2e.http.books_setup import MARCH, issued_invoice
from tests.e2e.http.harness import WEBHOOK_SECRETS, Api, authenticator
from tests.unit.application.conftest import start_clock, wire
from tests.unit.application.test_journal_posting import CHARTS


@contextmanager
def running_books() -> Iterator[Api]:
    """The API on in-memory adapters, with the chart of accounts of the fixtures' entity."""
    store, clock = InMemoryStore(), start_clock()
    app = wire(store, lambda ctx, read_only=False: InMemoryUnitOfWork(store, ctx, clock.now), clock)
    app = attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=CHARTS)))
    services = Services(
        app.bus,
        lambda ctx: InMemoryUnitOfWork(store, ctx, clock.now),
        clock,
        Limits(),
        WebhookIntake(app.bus, WEBHOOK_SECRETS, clock),
    )
    asgi = create_app(services, authenticator())
    with TestClient(asgi, raise_server_exceptions=False) as client:
        yield Api(app, asgi, client)


@pytest.fixture
def api() -> Iterator[Api]:
    with running_books() as running:
        yield running


def entries(api: Api, who: str = "finance", **params: Any) -> list[dict[str, Any]]:
    answer = api.get("/journal-entries", who=who, **params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_an_issued_invoice_shows_its_entry_with_accounts_and_dimensions(api: Api) -> None:
    issued_invoice(api)
    (entry,) = entries(api, period=MARCH, legal_entity_id="tl-uk")
    assert entry["source_document"] == "INV-2026-000001"
    assert (entry["currency"], entry["total"]) == ("EUR", "1440.00")
    assert entry["erp_document"] is None  # not yet booked by the ERP
    lines = [
        (ln["gl_account"], ln["posting_role"], ln["debit"], ln["credit"]) for ln in entry["lines"]
    ]
    assert lines == [
        ("1100", "receivables", "1440.00", "0.00"),
        ("2150", "deferred_revenue", "0.00", "1200.00"),
        ("2200", "tax_payable", "0.00", "240.00"),
    ]
    for line in entry["lines"]:
        assert line["dimensions"]["customer_id"] == "acme"
        assert line["dimensions"]["contract_id"] == "C1"
        assert line["dimensions"]["engagement_id"] == "E1"
        assert line["dimensions"]["region"] == "UK"


def test_the_erps_document_number_shows_once_the_relay_posted_the_entry(api: Api) -> None:
    issued_invoice(api)
    deps = api.app.bus.deps
    publisher = ErpPostingPublisher(
        FakeEventPublisher(),
        FakeGeneralLedger(),
        acknowledger(deps.uow, deps.clock, relay_context("w1")),
    )
    relay_once(deps.uow, deps.clock, publisher, worker="w1")
    (entry,) = entries(api)
    assert entry["erp_document"] == "GL-000001"
    assert entry["acknowledged_at"] is not None


def test_the_filters_narrow_the_journal(api: Api) -> None:
    issued_invoice(api)
    assert len(entries(api, account="1100")) == 1
    assert entries(api, account="9999") == []
    assert len(entries(api, source_document="INV-2026-000001")) == 1
    assert entries(api, source_document="INV-2026-000002") == []
    assert entries(api, period="2026-04") == []
    assert entries(api, legal_entity_id="tl-fr") == []


def test_the_trial_balance_balances_to_zero(api: Api) -> None:
    issued_invoice(api)
    answer = api.get("/trial-balance", who="auditor", period=MARCH, legal_entity_id="tl-uk")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = {
        row["gl_account"]: (row["debit"], row["credit"], row["balance"]) for row in body["accounts"]
    }
    assert rows == {
        "1100": ("1440.00", "0.00", "1440.00"),
        "2150": ("0.00", "1200.00", "-1200.00"),
        "2200": ("0.00", "240.00", "-240.00"),
    }
    assert body["totals"] == {"EUR": "0.00"}


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/journal-entries", {"period": "2026-13"}, "period"),
        ("/journal-entries", {"account": "41 00"}, "account"),
        ("/journal-entries", {"legal_entity_id": "-x"}, "legal_entity_id"),
        ("/journal-entries", {"limit": "201"}, "limit"),
        ("/trial-balance", {"period": "March", "legal_entity_id": "tl-uk"}, "period"),
        ("/trial-balance", {"period": "2026-03"}, "legal_entity_id"),
    ],
)
def test_a_bad_filter_is_refused_at_its_parameter(
    api: Api, path: str, params: dict[str, str], parameter: str
) -> None:
    refused = api.get(path, who="finance", **params)
    assert refused.status_code == 400, refused.text
    assert parameter in refused.text


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("finance", 200),
        ("finance_approver", 200),
        ("auditor", 200),
        ("delivery_manager", 403),
        ("integration", 403),
        ("client_viewer", 403),
        ("sales_ops", 403),
    ],
)
def test_finance_and_auditors_read_the_journal_and_no_one_else(
    api: Api, who: str, status: int
) -> None:
    assert api.get("/journal-entries", who=who).status_code == status
    trial = api.get("/trial-balance", who=who, period=MARCH, legal_entity_id="tl-uk")
    assert trial.status_code == status
