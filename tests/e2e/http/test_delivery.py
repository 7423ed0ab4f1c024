"""Delivery through HTTP: batches of time and expenses answered item by item, the time-entry
list with its protected cost rates, and the decisions taken on single items."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from application import commands as c
from entrypoints.http.runtime import Limits
from tests.e2e.http.books_setup import entry, expense, problem
from tests.e2e.http.harness import Api, running_api
from tests.unit.application.conftest import set_up_tm_contract, time_entry


def test_a_batch_answers_each_entry_and_a_resend_is_acknowledged_as_duplicates(api: Api) -> None:
    set_up_tm_contract(api.app)
    batch = {
        "entries": [
            entry("t1", "2026-03-02", "8"),
            entry("t2", "2026-03-03", "4", task_id="T-100", billable=True),
            entry("t3", "2026-03-03", "2", obligation_id="nope"),
            entry("t4", "2025-12-31", "2"),  # before the contract's terms
            entry("t5", "2026-03-04", "30"),  # more than a day holds
        ]
    }
    first = api.post("/time-entries", batch, who="integration")
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"accepted": 2, "duplicates": 0, "rejected": 3}
    outcome = {r["entry_id"]: (r["status"], r["reason_code"]) for r in first.json()["results"]}
    assert outcome == {
        "t1": ("accepted", None),
        "t2": ("accepted", None),
        "t3": ("rejected", "unknown_obligation"),
        "t4": ("rejected", "outside_contract"),
        "t5": ("rejected", "invalid_quantity"),
    }
    assert "nope" in first.json()["results"][2]["detail"]
    # the PSA sends the file again (a new request): nothing is recorded twice
    again = api.post("/time-entries", batch, who="integration")
    assert again.status_code == 200
    assert again.json()["counts"] == {"accepted": 0, "duplicates": 2, "rejected": 3}
    assert [r["status"] for r in again.json()["results"][:2]] == ["duplicate", "duplicate"]
    listed = api.get("/time-entries", who="delivery_manager", engagement_id="E1").json()
    assert [(e["entry_id"], e["hours"]) for e in listed["items"]] == [("t1", "8"), ("t2", "4")]


def test_an_id_repeated_inside_one_batch_is_recorded_once(api: Api) -> None:
    set_up_tm_contract(api.app)
    batch = {"entries": [entry("t1", "2026-03-02", "8"), entry("t1", "2026-03-02", "8")]}
    response = api.post("/time-entries", batch, who="integration")
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "duplicate"]
    assert len(api.app.data.time_entries) == 1


def test_the_same_key_and_body_replay_the_stored_answer_without_a_second_effect(
    api: Api,
) -> None:
    set_up_tm_contract(api.app)
    batch = {"entries": [entry("t1", "2026-03-02", "8")]}
    first = api.post("/time-entries", batch, who="integration", key="psa-file-0302")
    audit_records = len(api.app.data.audit)
    replay = api.post("/time-entries", batch, who="integration", key="psa-file-0302")
    assert (replay.status_code, replay.json()) == (first.status_code, first.json())
    assert replay.json()["results"][0]["status"] == "accepted"  # the stored answer
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(api.app.data.audit) == audit_records
    other = {"entries": [entry("t2", "2026-03-03", "1")]}
    reused = api.post("/time-entries", other, who="integration", key="psa-file-0302")
    assert (reused.status_code, problem(reused)) == (422, "idempotency-key-reused")


def test_unknown_fields_are_refused_with_a_pointer(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = {"entries": [entry("t1", "2026-03-02", "8", state="approved")]}
    response = api.post("/time-entries", body, who="integration")
    assert (response.status_code, problem(response)) == (400, "validation-error")
    assert response.json()["errors"][0]["pointer"] == "/entries/0/state"
    hours = api.post(
        "/time-entries", {"entries": [entry("t1", "2026-03-02", 8)]}, who="integration"
    )
    assert hours.status_code == 400  # a JSON number is not a decimal string
    assert api.app.data.time_entries == {}


def test_only_a_principal_who_may_read_cost_rates_may_send_them(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = {"entries": [entry("t1", "2026-03-02", "8", cost_rate="60")]}
    refused = api.post("/time-entries", body, who="integration")
    assert (refused.status_code, problem(refused)) == (403, "forbidden")
    assert refused.json()["errors"] == [
        {"pointer": "/entries/0/cost_rate", "detail": "not yours to set"}
    ]
    assert api.app.data.time_entries == {}
    # refused before anything was stored: the corrected request may reuse the key
    fixed = {"entries": [entry("t1", "2026-03-02", "8")]}
    retry = api.post(
        "/time-entries", fixed, who="integration", key=refused.request.headers["Idempotency-Key"]
    )
    assert retry.json()["counts"]["accepted"] == 1


def test_cost_rates_are_listed_only_for_principals_with_rates_read_cost(api: Api) -> None:
    set_up_tm_contract(api.app)
    api.app.do(
        c.RecordTimeEntries(
            (
                time_entry("t1", date(2026, 3, 2), "8", cost_rate=Decimal("60")),
                time_entry("t2", date(2026, 4, 1), "2"),
            )
        )
    )
    finance = api.get("/time-entries", who="finance", engagement_id="E1", period="2026-03")
    assert finance.status_code == 200
    (seen,) = finance.json()["items"]  # April's entry is not in March
    assert (seen["entry_id"], seen["cost_rate"]) == ("t1", "60")
    manager = api.get("/time-entries", who="delivery_manager", engagement_id="E1")
    assert [e["entry_id"] for e in manager.json()["items"]] == ["t1", "t2"]
    assert all("cost_rate" not in e for e in manager.json()["items"])  # absent, not null
    auditor = api.get("/time-entries", who="auditor", engagement_id="E1").json()["items"]
    assert [e["cost_rate"] for e in auditor] == ["60", None]  # known to have none


def test_the_list_pages_and_needs_a_known_engagement(api: Api) -> None:
    set_up_tm_contract(api.app)
    api.app.do(
        c.RecordTimeEntries(tuple(time_entry(f"t{n}", date(2026, 3, n), "1") for n in range(1, 4)))
    )
    first = api.get("/time-entries", who="finance", engagement_id="E1", limit=2).json()
    assert [e["entry_id"] for e in first["items"]] == ["t1", "t2"]
    rest = api.get(
        "/time-entries", who="finance", engagement_id="E1", limit=2, cursor=first["next_cursor"]
    ).json()
    assert ([e["entry_id"] for e in rest["items"]], rest["next_cursor"]) == (["t3"], None)
    unknown = api.get("/time-entries", who="finance", engagement_id="E9")
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")
    bad_month = api.get("/time-entries", who="finance", engagement_id="E1", period="2026-13")
    assert bad_month.status_code == 400


def test_roles_without_the_permission_are_refused(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = {"entries": [entry("t1", "2026-03-02", "8")]}
    assert api.post("/time-entries", body, who="finance").status_code == 403
    assert api.get("/time-entries", who="client_viewer", engagement_id="E1").status_code == 403
    assert (
        api.post("/items/t1/hold", {"quantity": "1", "reason": "x"}, who="integration").status_code
        == 403
    )


def test_a_batch_holds_at_most_the_documented_number_of_items() -> None:
    with running_api(Limits(max_batch_items=2)) as api:
        set_up_tm_contract(api.app)
        body = {"entries": [entry(f"t{n}", "2026-03-02", "1") for n in range(3)]}
        response = api.post("/time-entries", body, who="integration")
        assert (response.status_code, problem(response)) == (400, "validation-error")
        assert response.json()["errors"][0]["pointer"] == "/entries"
    with running_api() as api:
        body = {"entries": [entry(f"t{n}", "2026-03-02", "1") for n in range(1_001)]}
        response = api.post("/time-entries", body, who="integration")
        assert response.status_code == 400


def test_expenses_are_answered_item_by_item(api: Api) -> None:
    set_up_tm_contract(api.app)
    travel = expense("x1", "travel", "212.40")
    body = {"items": [travel, {**travel, "expense_id": "x2", "engagement_id": "E9"}]}
    response = api.post("/expenses", body, who="integration")
    assert response.status_code == 200, response.text
    assert [
        (r["expense_id"], r["status"], r["reason_code"]) for r in response.json()["results"]
    ] == [
        ("x1", "accepted", None),
        ("x2", "rejected", "unknown_engagement"),
    ]
    assert api.app.data.expenses["x1"].cost.amount == Decimal("212.40")
    again = api.post("/expenses", {"items": [travel]}, who="integration")
    assert again.json()["results"][0]["status"] == "duplicate"
    cost = api.post("/expenses", {"items": [{**travel, "cost": "1"}]}, who="integration")
    assert cost.json()["errors"][0]["pointer"] == "/items/0/cost"


def test_an_expense_in_another_currency_than_its_contract_is_refused(api: Api) -> None:
    # Nothing converts currencies: 212.40 USD billed on a EUR contract would become 212.40 EUR.
    set_up_tm_contract(api.app)
    dollars = expense("x1", "travel", "212.40", currency="USD")
    response = api.post("/expenses", {"items": [dollars]}, who="integration")
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert (result["status"], result["reason_code"]) == ("rejected", "currency_mismatch")
    assert result["detail"] == (
        "expense x1 is in USD, but contract C1 is in EUR: record it in EUR, as the firm "
        "reimbursed or will bill it"
    )
    assert "x1" not in api.app.data.expenses
    euros = api.post("/expenses", {"items": [{**dollars, "currency": "EUR"}]}, who="integration")
    assert euros.json()["results"][0]["status"] == "accepted"


def test_an_expense_with_a_blank_category_is_refused(api: Api) -> None:
    set_up_tm_contract(api.app)
    blank = expense("x1", "   ", "212.40")
    (result,) = api.post("/expenses", {"items": [blank]}, who="integration").json()["results"]
    assert (result["status"], result["reason_code"]) == ("rejected", "category_required")
    assert result["detail"] == "expense x1 needs a category: its caps and its tax code go by it"
    assert "x1" not in api.app.data.expenses


def test_held_hours_are_released_or_written_off_and_illegal_steps_are_refused(api: Api) -> None:
    set_up_tm_contract(api.app)
    api.app.do(
        c.RecordTimeEntries(
            (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
        )
    )
    held = api.post(
        "/items/t1/hold", {"quantity": "2", "reason": "over_cap"}, who="delivery_manager"
    )
    assert held.status_code == 200, held.text
    assert (held.json()["state"], held.json()["held"], held.json()["kind"]) == (
        "held",
        "2",
        "time_entry",
    )
    released = api.post("/items/t1/release", who="finance")
    assert (released.json()["state"], released.json()["released"]) == ("approved", "2")
    again = api.post("/items/t1/release", who="finance")
    assert (again.status_code, problem(again)) == (422, "business-rule")  # nothing held
    approve = api.post("/items/t2/approve", who="delivery_manager")  # arrived approved already
    assert (approve.status_code, problem(approve)) == (409, "invalid-state")
    written = api.post(
        "/items/t2/write-off", {"reason": "goodwill", "quantity": "1"}, who="finance"
    )
    assert (written.json()["state"], written.json()["written_off"]) == ("written_off", "1")
    whole = api.post("/items/t1/write-off", {"reason": "goodwill"}, who="finance")
    assert (whole.status_code, problem(whole)) == (422, "business-rule")  # say how much
    missing = api.post("/items/nope/reject", {"reason": "wrong_project"}, who="finance")
    assert (missing.status_code, problem(missing)) == (404, "not-found")
    assert [r.action for r in api.app.data.audit if r.subject == "item:t1"] == ["hold", "release"]
