"""GET /journal-entries/export (ADR 0039) through the real app: an invoice issued over the API
is exported as a Beancount ledger `bean-check` accepts and as CSV, with the ERP's document
number once the ERP booked it, on the in-memory store, SQLite and PostgreSQL; bad parameters
are refused at the parameter; whoever reads the journal exports it, and no one else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
from litestar.testing import TestClient

from adapters.sqlalchemy.database import Database
from application.handlers import create_bus
from entrypoints.composition.database import reader
from entrypoints.composition.finance_reads import finance_queries
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Services
from tests.e2e.http.books_setup import issued_invoice, problem
from tests.e2e.http.harness import Api, authenticator
from tests.e2e.http.sql_harness import running_on
from tests.e2e.http.stage import UNLIMITED
from tests.e2e.http.test_journal import JOURNAL_READERS, relay_to_the_erp, running_books
from tests.integration.support import build_app
from tests.support.export_checks import bean_check, beancount_balances, csv_rows
from tests.unit.application.test_journal_posting import CHARTS

QUARTER = {"from": "2026-01", "to": "2026-03"}


@contextmanager
def running_sql_books(database: Database) -> Iterator[Api]:
    """The app over a SQL database, booking on the fixtures' chart of accounts."""
    app = build_app(database)
    app = attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=CHARTS)))
    services = Services(
        app.bus,
        reader(database, app.clock),
        app.clock,
        UNLIMITED,
        finance=finance_queries(database, app.master, app.clock.now),
    )
    with TestClient(create_app(services, authenticator()), raise_server_exceptions=False) as client:
        yield Api(app, client.app, client)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def books_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app with a chart of accounts, on each store in turn."""
    with running_on(request, tmp_path, running_books, running_sql_books) as api:
        yield api


@pytest.fixture
def api() -> Iterator[Api]:
    with running_books() as running:
        yield running


def export(api: Api, kind: str, who: str = "finance", **params: str) -> str:
    answer = api.get("/journal-entries/export", who=who, format=kind, **{**QUARTER, **params})
    assert answer.status_code == 200, answer.text
    return str(answer.text)


def test_an_issued_invoice_is_exported_as_a_ledger_bean_check_accepts(
    books_on: Api, tmp_path: Path
) -> None:
    issued_invoice(books_on)
    answer = books_on.get("/journal-entries/export", who="finance", format="beancount", **QUARTER)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="journal-2026-01-2026-03.beancount"'
    )
    bean_check(answer.text, tmp_path)
    assert beancount_balances(answer.text) == {
        ("Tl-uk:1100", "EUR"): 1440,
        ("Tl-uk:2150", "EUR"): -1200,
        ("Tl-uk:2200", "EUR"): -240,
    }
    assert "  Assets:Tl-uk:1100  1440.00 EUR\n" in answer.text
    assert '  source_document: "INV-2026-000001"\n' in answer.text


def test_an_issued_invoice_is_exported_as_one_csv_row_per_line(books_on: Api) -> None:
    issued_invoice(books_on)
    answer = books_on.get(
        "/journal-entries/export",
        who="auditor",
        format="csv",
        legal_entity_id="tl-uk",
        **QUARTER,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="journal-2026-01-2026-03-tl-uk.csv"'
    )
    rows = csv_rows(answer.text)
    assert [(r["gl_account"], r["posting_role"], r["debit"], r["credit"]) for r in rows] == [
        ("1100", "receivables", "1440.00", ""),
        ("2150", "deferred_revenue", "", "1200.00"),
        ("2200", "tax_payable", "", "240.00"),
    ]
    assert {(r["source_document"], r["customer_id"], r["region"]) for r in rows} == {
        ("INV-2026-000001", "acme", "UK")
    }


def test_the_range_and_the_legal_entity_choose_the_entries(api: Api) -> None:
    issued_invoice(api)
    assert len(csv_rows(export(api, "csv"))) == 3
    assert csv_rows(export(api, "csv", **{"from": "2026-04", "to": "2026-06"})) == []
    assert csv_rows(export(api, "csv", legal_entity_id="tl-fr")) == []
    assert len(csv_rows(export(api, "csv", **{"from": "2026-03", "to": "2026-03"}))) == 3


def test_the_erps_document_number_is_exported_once_the_erp_booked_the_entry(api: Api) -> None:
    issued_invoice(api)
    assert "erp_document" not in export(api, "beancount")
    relay_to_the_erp(api)
    assert '  erp_document: "GL-000001"\n' in export(api, "beancount")
    assert {row["erp_document"] for row in csv_rows(export(api, "csv"))} == {"GL-000001"}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"format": "xml", **QUARTER}, "/query/format"),
        ({"format": "csv", "from": "2026-13", "to": "2026-03"}, "/query/from"),
        ({"format": "csv", "from": "2026-01", "to": "March"}, "/query/to"),
        ({"format": "csv", "from": "2026-04", "to": "2026-03"}, "/query/from"),
        ({"format": "csv", "to": "2026-03"}, "from"),
        ({"from": "2026-01", "to": "2026-03"}, "format"),
        ({"format": "csv", "legal_entity_id": "-x", **QUARTER}, "/query/legal_entity_id"),
    ],
)
def test_a_bad_parameter_is_refused_at_the_parameter(
    api: Api, params: dict[str, str], parameter: str
) -> None:
    refused = api.get("/journal-entries/export", who="finance", **params)
    assert refused.status_code == 400, refused.text
    assert problem(refused) == "validation-error"
    assert parameter in refused.text


def test_a_missing_parameter_is_named_in_words_at_its_pointer(api: Api) -> None:
    refused = api.get("/journal-entries/export", who="finance", format="csv", to="2026-03")
    said = "required: this operation needs the query parameter 'from'"
    assert refused.json()["errors"] == [{"pointer": "/query/from", "detail": said}]
    assert refused.json()["detail"] == f"{said} at /query/from"


def test_every_missing_parameter_is_named_at_once(api: Api) -> None:
    """A client that sends none of what an operation requires learns all of it in one answer,
    not one parameter per attempt."""
    needs = "required: this operation needs the query parameter"
    for path, names in [
        ("/journal-entries/export", ["format", "from", "to"]),
        ("/trial-balance", ["legal_entity_id", "period"]),
    ]:
        refused = api.get(path, who="finance")
        assert (refused.status_code, problem(refused)) == (400, "validation-error")
        assert refused.json()["errors"] == [
            {"pointer": f"/query/{name}", "detail": f"{needs} {name!r}"} for name in names
        ]
        assert refused.json()["detail"] == (
            f"{needs} {names[0]!r} at /query/{names[0]} (and {len(names) - 1} more)"
        )


@pytest.mark.parametrize(("who", "status"), [*JOURNAL_READERS, (None, 401)])
def test_whoever_reads_the_journal_exports_it_and_no_one_else(
    api: Api, who: str | None, status: int
) -> None:
    issued_invoice(api)
    for kind in ("beancount", "csv"):
        answer = api.get("/journal-entries/export", who=who, format=kind, **QUARTER)
        assert answer.status_code == status, answer.text
        if status != 200:
            assert "INV-2026-000001" not in answer.text
