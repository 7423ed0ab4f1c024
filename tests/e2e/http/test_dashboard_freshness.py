"""The dashboard keeps its answer while nothing is committed (routes/dashboard.py,
answer_cache.py), and never answers from before a commit: not after one through the same
worker, not after one through another worker on the same database."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from adapters.sqlalchemy.database import Database
from tests.e2e.http.books_setup import committed_invoice
from tests.e2e.http.harness import Api
from tests.e2e.http.sql_harness import running_sql_api


def _dashboard(api: Api) -> dict[str, Any]:
    answer = api.get("/dashboard", who="finance")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _approve(api: Api, invoice_id: str) -> None:
    approved = api.post(f"/invoices/{invoice_id}/approve", who="finance_approver")
    assert approved.status_code == 200, approved.text


def _issue(api: Api, invoice_id: str) -> None:
    issued = api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    assert issued.status_code == 200, issued.text


def test_a_dashboard_read_after_a_commit_shows_the_commit(api_on: Api) -> None:
    invoice_id = committed_invoice(api_on)
    before = _dashboard(api_on)
    assert _dashboard(api_on) == before  # nothing committed: the same answer
    assert before["awaiting_approval"] == 1
    _approve(api_on, invoice_id)
    approved = _dashboard(api_on)
    assert approved["awaiting_approval"] == 0
    assert approved["invoices_by_state"] == {"approved": 1}
    _issue(api_on, invoice_id)
    issued = _dashboard(api_on)
    assert issued["invoices_by_state"] == {"issued": 1}
    (eur,) = issued["receivables"]
    assert eur["issued_gross"] == {"amount": "1440.00", "currency": "EUR"}
    assert eur["outstanding"] == eur["issued_gross"]


def test_a_commit_by_another_worker_on_the_same_database_is_on_the_next_read(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "throughline.db"
    shutil.copyfile(sqlite_template, path)
    first, second = Database(f"sqlite:///{path}"), Database(f"sqlite:///{path}")
    try:
        with running_sql_api(first) as one, running_sql_api(second) as other:
            invoice_id = committed_invoice(one)
            assert _dashboard(one)["awaiting_approval"] == 1
            assert _dashboard(one)["awaiting_approval"] == 1  # kept: nothing committed
            _approve(other, invoice_id)
            assert _dashboard(one)["invoices_by_state"] == {"approved": 1}
            _issue(other, invoice_id)
            (eur,) = _dashboard(one)["receivables"]
            assert eur["issued_gross"] == {"amount": "1440.00", "currency": "EUR"}
    finally:
        first.dispose()
        second.dispose()


def test_the_sqlite_data_version_holds_without_a_commit_and_moves_with_each(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "throughline.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    try:
        with running_sql_api(database) as api:
            queries = api.asgi.state["services"].finance.dashboard
            invoice_id = committed_invoice(api)
            held = queries.version()
            _dashboard(api)
            assert queries.version() == held  # a read commits nothing
            _approve(api, invoice_id)
            moved = queries.version()
            assert moved != held
            _issue(api, invoice_id)
            assert queries.version() != moved
    finally:
        database.dispose()


def test_a_kept_dashboard_answer_goes_out_again_with_the_same_headers_once_each(
    api_on: Api,
) -> None:
    committed_invoice(api_on)
    answers = [api_on.get("/dashboard", who="finance") for _ in range(3)]
    first = answers[0]
    assert first.status_code == 200, first.text
    for again in answers[1:]:
        # the kept response is sent as it was: no header gained, lost or repeated
        assert again.content == first.content
        assert [name for name, _ in again.headers.multi_items()] == [
            name for name, _ in first.headers.multi_items()
        ]
        assert again.headers["content-type"] == "application/json"
        assert again.headers["content-length"] == str(len(first.content))
        assert len(again.headers.get_list("x-correlation-id")) == 1
    # each answer still carries its own request's correlation id
    assert len({a.headers["x-correlation-id"] for a in answers}) == len(answers)
