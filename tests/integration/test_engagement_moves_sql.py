"""A lifecycle move over HTTP is one command transaction plus the idempotency bookkeeping: the
engagement it answers with (state, path, open exceptions) is read inside the command's own
transaction, not in reads of its own before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from adapters.sqlalchemy.database import Database
from tests.e2e.http.sql_harness import running_sql_api
from tests.unit.application.conftest import set_up_tm_contract


def test_suspending_an_engagement_runs_the_command_and_the_key_bookkeeping_only(
    database: Database,
) -> None:
    with running_sql_api(database) as api:
        set_up_tm_contract(api.app)
        transactions: list[Any] = []

        def began(connection: Any) -> None:
            transactions.append(connection)

        event.listen(database.engine, "begin", began)
        try:
            answer = api.post(
                "/engagements/E1/suspend", {"reason": "budget freeze"}, who="sales_ops"
            )
        finally:
            event.remove(database.engine, "begin", began)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "suspended"
    assert answer.json()["path"][-2:] == ["active", "suspended"]
    # Claim the key, run the command (which reads the answer), store the answer with the key.
    assert len(transactions) <= 3


def test_the_answer_of_a_move_is_the_engagement_a_later_read_shows(database: Database) -> None:
    with running_sql_api(database) as api:
        set_up_tm_contract(api.app)
        moved = api.post("/engagements/E1/suspend", {"reason": "budget freeze"}, who="sales_ops")
        read = api.get("/engagements/E1", who="sales_ops")
    assert moved.status_code == 200, moved.text
    assert moved.json() == read.json()


def test_a_move_of_an_engagement_nobody_proposed_is_not_found_and_stores_no_key(
    database: Database,
) -> None:
    with running_sql_api(database) as api:
        missing = api.post("/engagements/E-NONE/resume", who="sales_ops", key="k-missing")
        set_up_tm_contract(api.app)
        api.post("/engagements/E1/suspend", {"reason": "freeze"}, who="sales_ops")
        retried = api.post("/engagements/E1/resume", who="sales_ops", key="k-missing")
    assert missing.status_code == 404
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "active"
