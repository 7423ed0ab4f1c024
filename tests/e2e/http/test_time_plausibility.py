"""The issue's plausibility rows over HTTP (ADR 0025): each refusal a per-item reason code in
the batch's 200 answer, or a problem for a single payment or run, and nothing stored; the
audited correction route."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from adapters.memory import FakeClock, SequentialIds
from domain.plausibility import PlausibilityPolicy
from entrypoints.composition.bootstrap import compose, plausibility_of
from entrypoints.composition.database import MemoryDatabase
from entrypoints.composition.externals import Externals
from entrypoints.composition.settings import Settings, SettingsError
from tests.e2e.http.books_setup import (
    committed_invoice,
    credit_of_line_one,
    drafted_credit,
    entry,
    expense,
    issued_invoice,
    money,
    problem,
)
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import set_up_tm_contract

END_OF_MARCH = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)


def strictly(api: Api) -> Api:
    """The deployment's default tolerance (one day), at the end of March."""
    api.app.bus.deps = attrs.evolve(api.app.bus.deps, plausibility=PlausibilityPolicy())
    api.app.clock.current = max(api.app.clock.current, END_OF_MARCH)
    return api


@pytest.fixture
def march(api: Api) -> Api:
    set_up_tm_contract(api.app)
    return strictly(api)


def send(api: Api, *entries: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/time-entries", {"entries": list(entries)}, who="integration")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def outcomes(body: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(r["entry_id"], r["status"], r["reason_code"]) for r in body["results"]]


def listed(api: Api) -> list[tuple[str, str]]:
    items = api.get("/time-entries", who="delivery_manager", engagement_id="E1").json()["items"]
    return [(e["entry_id"], e["hours"]) for e in items]


def previewed_hours(api: Api, period: str = "2026-03") -> dict[str, str]:
    preview = api.post("/billing-runs/preview", {"period": period}, who="finance").json()
    return {
        a["source"]: a["quantity"]
        for invoice in preview["invoices"]
        for line in invoice["lines"]
        for a in line["allocations"]
    }


def test_two_13_hour_entries_by_one_person_on_one_day_are_not_both_accepted(march: Api) -> None:
    first = send(march, entry("t1", "2026-03-02", "13"))
    second = send(march, entry("t2", "2026-03-02", "13"))
    assert outcomes(first) == [("t1", "accepted", None)]
    assert outcomes(second) == [("t2", "rejected", "day_over_24_hours")]
    assert "would have 26 h on 2026-03-02" in second["results"][0]["detail"]
    assert second["counts"] == {"accepted": 0, "duplicates": 0, "rejected": 1}
    assert previewed_hours(march) == {"time_entry:t1": "13"}


def test_hours_finer_than_a_hundredth_are_refused_not_billed_as_a_quarter(march: Api) -> None:
    body = send(
        march,
        entry("tiny", "2026-03-02", "0.0000000001"),
        entry("zero", "2026-03-02", "0"),
        entry("ok", "2026-03-02", "0.25"),
    )
    assert outcomes(body) == [
        ("tiny", "rejected", "hours_too_precise"),
        ("zero", "rejected", "hours_not_positive"),
        ("ok", "accepted", None),
    ]
    assert listed(march) == [("ok", "0.25")]


def test_work_dated_in_2031_is_refused(march: Api) -> None:
    body = send(march, entry("t1", "2031-01-06", "2"), entry("t2", "2026-04-01", "2"))
    assert outcomes(body) == [("t1", "rejected", "future_date"), ("t2", "accepted", None)]
    assert "the work date of t1 is 2031-01-06, in the future" in body["results"][0]["detail"]


def test_a_payment_received_in_2031_is_refused_and_changes_nothing(api: Api) -> None:
    invoice_id = issued_invoice(api)
    strictly(api)
    body = {"payment_id": "PAY-2031", "received_on": "2031-01-06", **money("1440.00")}
    refused = api.post(f"/invoices/{invoice_id}/payments", body, who="finance")
    assert (refused.status_code, problem(refused)) == (422, "business-rule")
    assert "the payment date is 2031-01-06, in the future" in refused.json()["detail"]
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert invoice["paid"] == money("0.00")
    # refused before anything changed: the corrected payment may reuse the key
    fixed = {**body, "received_on": "2026-03-31"}
    key = refused.request.headers["Idempotency-Key"]
    assert api.post(f"/invoices/{invoice_id}/payments", fixed, key=key).status_code == 200


def test_an_invoice_or_credit_memo_issued_in_2031_is_refused_and_takes_no_number(
    api: Api,
) -> None:
    draft = committed_invoice(api)
    assert api.post(f"/invoices/{draft}/approve", who="finance_approver").status_code == 200
    strictly(api)
    refused = api.post(f"/invoices/{draft}/issue", {"issue_date": "2031-01-06"})
    assert (refused.status_code, problem(refused)) == (422, "business-rule")
    assert "the issue date is 2031-01-06, in the future" in refused.json()["detail"]
    issued = api.post(f"/invoices/{draft}/issue", {"issue_date": "2026-03-31"})
    assert issued.json()["number"] == "INV-2026-000001"  # no number went to 2031
    memo = drafted_credit(api, draft, credit_of_line_one("1", "1 h booked twice"))
    memo_id = memo["credit_memo_id"]
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").is_success
    early = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2031-01-06"})
    assert (early.status_code, problem(early)) == (422, "business-rule")
    later = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-03-31"})
    assert (later.json()["state"], later.json()["number"]) == ("issued", "CN-2026-000001")


def test_a_billing_run_for_2031_01_is_refused(march: Api) -> None:
    send(march, entry("t1", "2026-03-02", "8"))
    for path in ("/billing-runs/preview", "/billing-runs"):
        refused = march.post(path, {"period": "2031-01"}, who="finance")
        assert (refused.status_code, problem(refused)) == (422, "business-rule")
        assert "period 2031-01 starts on 2031-01-01, after today" in refused.json()["detail"]
    assert march.get("/invoices", who="finance").json()["items"] == []
    assert previewed_hours(march) == {"time_entry:t1": "8"}  # March has begun: it bills


def test_the_same_entry_id_with_other_hours_is_a_conflict_not_a_duplicate(march: Api) -> None:
    send(march, entry("t1", "2026-03-02", "8"))
    same = send(march, entry("t1", "2026-03-02", "8.0"))
    other = send(march, entry("t1", "2026-03-02", "9"))
    assert outcomes(same) == [("t1", "duplicate", None)]
    assert outcomes(other) == [("t1", "rejected", "entry_conflict")]
    detail = other["results"][0]["detail"]
    assert "t1 is already recorded with other values: hours 8 (sent 9)" in detail
    assert listed(march) == [("t1", "8")]


def test_an_id_repeated_in_one_batch_with_other_hours_is_refused_where_it_stands(
    march: Api,
) -> None:
    body = send(
        march,
        entry("t1", "2026-03-02", "8"),
        entry("t1", "2026-03-02", "8"),
        entry("t1", "2026-03-02", "5"),
    )
    assert outcomes(body) == [
        ("t1", "accepted", None),
        ("t1", "duplicate", None),
        ("t1", "rejected", "entry_conflict"),
    ]
    assert body["counts"] == {"accepted": 1, "duplicates": 1, "rejected": 1}


def test_the_same_expense_id_with_another_amount_is_a_conflict(march: Api) -> None:
    travel = expense("EXP-1", "travel", "212.40")
    first = march.post("/expenses", {"items": [travel]}, who="integration").json()
    again = march.post("/expenses", {"items": [travel]}, who="integration").json()
    changed = {**travel, "amount": "250.00"}
    other = march.post("/expenses", {"items": [changed]}, who="integration").json()
    future = {**travel, "expense_id": "EXP-2", "incurred_on": "2031-01-06"}
    later = march.post("/expenses", {"items": [future]}, who="integration").json()
    assert [r["status"] for r in (*first["results"], *again["results"])] == [
        "accepted",
        "duplicate",
    ]
    assert [(r["status"], r["reason_code"]) for r in other["results"]] == [
        ("rejected", "expense_conflict")
    ]
    assert [r["reason_code"] for r in later["results"]] == ["future_date"]


# -- the correction route -----------------------------------------------------------------------


def test_a_correction_changes_an_unbilled_entry_and_is_audited(march: Api) -> None:
    send(march, entry("t1", "2026-03-02", "8", task_id="T-1"))
    body = {"hours": "6.5", "reason": "the consultant fixed the timesheet"}
    corrected = march.post("/time-entries/t1/correct", body, who="delivery_manager", key="fix-t1")
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == {
        "entry_id": "t1",
        "obligation_id": "tm",
        "resource_id": "r1",
        "work_date": "2026-03-02",
        "hours": "6.5",
        "task_id": "T-1",
        "billable": True,
        "state": "approved",
    }
    trail = march.app.data.audit[-1]
    assert (trail.subject, trail.action, trail.actor) == ("item:t1", "correct", "dana.delivery")
    assert (trail.before, trail.after) == ("8 h, task T-1, billable", "6.5 h, task T-1, billable")
    assert march.app.data.outbox[-1].event_type == "TimeEntryCorrected"
    # the same key and body: the stored answer, no second record
    records = len(march.app.data.audit)
    again = march.post("/time-entries/t1/correct", body, who="delivery_manager", key="fix-t1")
    assert (again.status_code, again.json()) == (200, corrected.json())
    assert len(march.app.data.audit) == records
    assert listed(march) == [("t1", "6.5")]


def test_a_correction_of_a_billed_entry_points_to_a_credit_memo(api: Api) -> None:
    issued_invoice(api)
    strictly(api)
    refused = api.post(
        "/time-entries/t1/correct", {"hours": "6", "reason": "fewer hours"}, who="integration"
    )
    assert (refused.status_code, problem(refused)) == (422, "business-rule")
    assert "corrected by a credit memo" in refused.json()["detail"]
    assert api.app.data.time_entries["t1"].hours == 8


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"reason": "nothing said"}, ""),
        ({"hours": "6"}, "/reason"),
        ({"hours": "6", "reason": "x", "state": "approved"}, "/state"),
    ],
)
def test_a_correction_that_says_nothing_or_too_much_is_400(
    march: Api, body: dict[str, Any], pointer: str
) -> None:
    send(march, entry("t1", "2026-03-02", "8"))
    refused = march.post("/time-entries/t1/correct", body, who="integration")
    assert (refused.status_code, problem(refused)) == (400, "validation-error")
    assert refused.json()["errors"][0]["pointer"] == pointer
    assert listed(march) == [("t1", "8")]


def test_a_correction_needs_a_key_a_known_entry_and_the_right_to_write_time(march: Api) -> None:
    send(march, entry("t1", "2026-03-02", "8"))
    body = {"hours": "6", "reason": "x"}
    no_key = march.client.post(
        "/time-entries/t1/correct", json=body, headers=march.headers("integration")
    )
    assert no_key.status_code == 400
    unknown = march.post("/time-entries/nope/correct", body, who="integration")
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")
    for who in ("auditor", "finance", "client_viewer"):
        assert march.post("/time-entries/t1/correct", body, who=who).status_code == 403
    too_precise = march.post(
        "/time-entries/t1/correct", {"hours": "6.001", "reason": "x"}, who="integration"
    )
    assert (too_precise.status_code, problem(too_precise)) == (422, "business-rule")
    assert listed(march) == [("t1", "8")]


# -- the tolerance is a setting -------------------------------------------------------------


def test_the_future_tolerance_is_read_from_the_environment_and_bound_to_the_handlers() -> None:
    assert Settings.from_env({}, database_url="memory://").future_tolerance_days == 1
    three = Settings.from_env({"THROUGHLINE_FUTURE_TOLERANCE_DAYS": "3"}, database_url="memory://")
    assert plausibility_of(three) == PlausibilityPolicy(future_tolerance_days=3)
    for bad in ("-1", "lots", "1.5"):
        with pytest.raises(SettingsError, match="THROUGHLINE_FUTURE_TOLERANCE_DAYS"):
            Settings.from_env({"THROUGHLINE_FUTURE_TOLERANCE_DAYS": bad}, database_url="memory://")
    clock = FakeClock(END_OF_MARCH)
    bus = compose(
        MemoryDatabase(), clock, SequentialIds(), Externals(), plausibility=plausibility_of(three)
    )
    assert bus.deps.plausibility.future_tolerance_days == 3
    default = compose(MemoryDatabase(), clock, SequentialIds(), Externals())
    assert default.deps.plausibility == PlausibilityPolicy()
