"""A time entry posted over HTTP is one write transaction: the entries, the claimed
Idempotency-Key and the answer commit together (ADR 0018), on every store."""

from __future__ import annotations

from typing import Any

from tests.e2e.http.books_setup import entry
from tests.e2e.http.harness import Api
from tests.e2e.http.sql_harness import api_on, postgres_admin, postgres_schema, sqlite_template
from tests.unit.application.conftest import set_up_tm_contract

__all__ = ["api_on", "postgres_admin", "postgres_schema", "sqlite_template"]


def _stored_answer(api: Api, key: str) -> Any:
    with api.app.bus.deps.uow(api.app.as_("psa"), read_only=True) as uow:
        return uow.idempotency.find("psa-connector", key)


def test_a_posted_time_entry_commits_once_with_its_key_and_its_answer(api_on: Api) -> None:
    set_up_tm_contract(api_on.app)
    commits = api_on.app.store.commits
    batch = {"entries": [entry("t1", "2026-03-02", "8")]}
    posted = api_on.post("/time-entries", batch, who="integration", key="psa-0302")
    assert posted.status_code == 200, posted.text
    assert api_on.app.store.commits == commits + 1
    stored = _stored_answer(api_on, "psa-0302")
    assert stored is not None
    assert (stored.status.value, stored.response_status) == ("completed", 200)
    assert stored.response_body == posted.text
    assert set(api_on.app.data.time_entries) == {"t1"}


def test_a_time_entry_post_sent_again_with_its_key_is_answered_from_what_was_stored(
    api_on: Api,
) -> None:
    set_up_tm_contract(api_on.app)
    sent = [
        api_on.post("/time-entries", {"entries": [entry("t1", "2026-03-02", "8")]},
                    who="integration", key="psa-0303")
        for _ in range(3)
    ]  # fmt: skip
    assert {(answer.status_code, answer.text) for answer in sent} == {(200, sent[0].text)}
    assert [answer.headers.get("Idempotent-Replayed") for answer in sent] == [None, "true", "true"]
    stored = _stored_answer(api_on, "psa-0303")
    assert stored.response_body == sent[0].text
    assert set(api_on.app.data.time_entries) == {"t1"}


def test_a_posted_expense_commits_once_with_its_key_and_its_answer(api_on: Api) -> None:
    set_up_tm_contract(api_on.app)
    commits = api_on.app.store.commits
    expense = {
        "expense_id": "x1", "engagement_id": "E1", "obligation_id": "tm", "resource_id": "r-ana",
        "category": "travel", "incurred_on": "2026-03-04", "amount": "212.40", "currency": "EUR",
        "description": "Train to the client site",
    }  # fmt: skip
    posted = api_on.post("/expenses", {"items": [expense]}, who="integration", key="x-0304")
    assert posted.status_code == 200, posted.text
    assert posted.json()["counts"]["accepted"] == 1, posted.text
    assert api_on.app.store.commits == commits + 1
    stored = _stored_answer(api_on, "x-0304")
    assert stored is not None
    assert stored.response_body == posted.text
