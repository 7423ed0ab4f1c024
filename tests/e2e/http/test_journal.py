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
from adapters.memory.queries_finance import memory_finance_queries
from application.handlers import create_bus
from application.journal import ErpPostingPublisher, acknowledger
from application.relay import relay_context, relay_once
from entrypoints.composition.ops_reads import ops_reads_in_memory
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from entrypoints.http.webhook_intake import WebhookIntake
from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import MARCH, issued_invoice
from tests.e2e.http.harness import WEBHOOK_SECRETS, Api, authenticator
from tests.unit.application.conftest import start_clock, wire
from tests.unit.application.test_journal_posting import CHARTS, sign_unmapped_contract


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
        ops=ops_reads_in_memory(store),
        finance=memory_finance_queries(store, app.master, clock.now),
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


def relay_to_the_erp(api: Api) -> None:
    """One relay pass: the journal's entries posted to the general ledger, which books them
    (GL-000001 onwards) and acknowledges."""
    deps = api.app.bus.deps
    publisher = ErpPostingPublisher(
        FakeEventPublisher(),
        FakeGeneralLedger(),
        acknowledger(deps.uow, deps.clock, relay_context("w1")),
    )
    relay_once(deps.uow, deps.clock, publisher, worker="w1")


def test_the_erps_document_number_shows_once_the_relay_posted_the_entry(api: Api) -> None:
    issued_invoice(api)
    relay_to_the_erp(api)
    (entry,) = entries(api)
    assert entry["erp_document"] == "GL-000001"
    assert entry["acknowledged_at"] is not None


def test_a_revenue_run_holds_a_contract_whose_entity_has_no_chart_and_posts_the_rest(
    api: Api,
) -> None:
    issued_invoice(api)
    sign_unmapped_contract(api.app)
    answer = api.post("/revenue-runs", {"period": MARCH}, who="finance")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [row["obligation_id"] for row in body["posted"]] == ["tm"]
    assert body["held"] == [
        {
            "contract_id": "C-STRAY",
            "legal_entity_id": "tl-nowhere",
            "reason": "no_chart_of_accounts",
            "detail": "legal entity tl-nowhere has no chart of accounts; add one before posting",
        }
    ]


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
    body = ok(api.get("/trial-balance", who="auditor", period=MARCH, legal_entity_id="tl-uk"))
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


#: Who may read the journal (finance and auditors) and the refusal everyone else gets.
JOURNAL_READERS = [
    ("finance", 200),
    ("finance_approver", 200),
    ("auditor", 200),
    ("delivery_manager", 403),
    ("integration", 403),
    ("client_viewer", 403),
    ("sales_ops", 403),
]


@pytest.mark.parametrize(("who", "status"), JOURNAL_READERS)
def test_finance_and_auditors_read_the_journal_and_no_one_else(
    api: Api, who: str, status: int
) -> None:
    assert api.get("/journal-entries", who=who).status_code == status
    trial = api.get("/trial-balance", who=who, period=MARCH, legal_entity_id="tl-uk")
    assert trial.status_code == status


# -- charts of accounts ---------------------------------------------------------------------------


def uk_chart(**changes: Any) -> dict[str, Any]:
    (chart,) = [c for c in entries_of_charts() if c["legal_entity_id"] == "tl-uk"]
    chart.update(changes)
    return chart


def entries_of_charts() -> list[dict[str, Any]]:
    from adapters.chart_of_accounts import chart_to_json

    return [chart_to_json(chart) for chart in CHARTS.charts]


def test_the_charts_in_force_are_listed_for_readers(api: Api) -> None:
    answer = api.get("/charts-of-accounts", who="auditor")
    assert answer.status_code == 200, answer.text
    (chart,) = answer.json()
    assert chart["legal_entity_id"] == "tl-uk"
    assert chart["accounts"]["receivables"] == "1100"


def test_finance_changes_a_chart_and_later_entries_use_it_with_an_audit_record(api: Api) -> None:
    accounts = {**uk_chart()["accounts"], "receivables": "1105"}
    changed = api.post("/charts-of-accounts", uk_chart(accounts=accounts), who="finance")
    assert changed.status_code == 200, changed.text
    assert changed.json()["accounts"]["receivables"] == "1105"
    (listed,) = api.get("/charts-of-accounts", who="finance").json()
    assert listed["accounts"]["receivables"] == "1105"
    issued_invoice(api)
    (entry,) = entries(api)
    assert entry["lines"][0]["gl_account"] == "1105"
    with api.app.bus.deps.uow(api.app.as_("reader")) as uow:
        trail = [r for r in uow.audit.all() if r.subject == "chart-of-accounts:tl-uk"]
    assert len(trail) == 1
    assert "receivables=1100" in (trail[0].before or "")
    assert "receivables=1105" in (trail[0].after or "")
    assert trail[0].actor == "fran.finance"


def test_a_chart_missing_a_role_is_refused_and_changes_nothing(api: Api) -> None:
    accounts = {k: v for k, v in uk_chart()["accounts"].items() if k != "cash"}
    refused = api.post("/charts-of-accounts", uk_chart(accounts=accounts), who="finance")
    assert refused.status_code == 422, refused.text
    assert "no account for the posting roles cash" in refused.text
    (listed,) = api.get("/charts-of-accounts").json()
    assert listed["accounts"]["cash"] == "1200"


def test_a_chart_refining_revenue_for_a_misspelt_billing_model_is_refused(api: Api) -> None:
    (before,) = api.get("/charts-of-accounts").json()
    body = uk_chart(revenue_by_obligation_type={"time_and_material": "4011"})
    refused = api.post("/charts-of-accounts", body, who="finance")
    assert refused.status_code == 422, refused.text
    assert "names no billing model time_and_material" in refused.json()["detail"]
    assert api.get("/charts-of-accounts").json() == [before]


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"accounts": {"receivables": "11 00"}}, '"pointer":"/accounts"'),
        ({"dimensions": {"Region": "UK"}}, "/dimensions"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_malformed_chart_is_refused_at_its_field(
    api: Api, changes: dict[str, Any], pointer: str
) -> None:
    body = uk_chart()
    if "accounts" in changes:
        body["accounts"] = {**body["accounts"], **changes.pop("accounts")}
    body.update(changes)
    refused = api.post("/charts-of-accounts", body, who="finance")
    assert refused.status_code == 400, refused.text
    assert pointer in refused.text


def test_a_dimension_name_outside_snake_case_reads_what_a_name_takes(api: Api) -> None:
    refused = api.post("/charts-of-accounts", uk_chart(dimensions={"Region": "UK"}), who="finance")
    assert refused.status_code == 400, refused.text
    (error,) = refused.json()["errors"]
    assert error["detail"] == (
        "expected a snake_case name of 1 to 40 lower-case letters, digits and _ that starts "
        "with a letter, e.g. region"
    )


def test_an_account_outside_the_erp_syntax_reads_what_an_account_takes(api: Api) -> None:
    accounts = {**uk_chart()["accounts"], "cash": "12 00"}
    refused = api.post("/charts-of-accounts", uk_chart(accounts=accounts), who="finance")
    assert refused.status_code == 400, refused.text
    assert "expected an account of 1 to 32 letters, digits, . and -" in refused.json()["detail"]


@pytest.mark.parametrize("who", ["finance_approver", "auditor", "integration", "client_viewer"])
def test_only_finance_changes_a_chart(api: Api, who: str) -> None:
    assert api.post("/charts-of-accounts", uk_chart(), who=who).status_code == 403


def test_a_recharge_run_posts_each_side_to_its_own_entitys_accounts(api: Api) -> None:
    from tests.e2e.http.test_intercompany import transferred_and_worked

    for entity in ("tl-de", "tl-fr"):
        chart = uk_chart(legal_entity_id=entity, dimensions={"region": "EU"})
        assert api.post("/charts-of-accounts", chart, who="finance").status_code == 200
    transferred_and_worked(api, uncosted=False)

    run = api.post("/intercompany-recharge-runs", {"period": MARCH}, who="finance")

    assert run.status_code == 200, run.text
    provider = entries(api, legal_entity_id="tl-de")
    recipient = [
        e for e in entries(api, legal_entity_id="tl-uk") if "intercompany" in e["entry_id"]
    ]
    assert [
        (line["gl_account"], line["debit"], line["credit"]) for line in provider[0]["lines"]
    ] == [
        ("1300", "660.00", "0.00"),  # intercompany receivable from tl-uk: 7.5 h x 80.00 + 10 %
        ("4900", "0.00", "660.00"),
    ]
    assert {line["dimensions"]["region"] for line in provider[0]["lines"]} == {"EU"}
    assert sorted(e["entry_id"].split(":")[2] for e in recipient) == ["tl-de", "tl-fr"]
    assert {line["gl_account"] for e in recipient for line in e["lines"]} == {"5000", "2300"}
