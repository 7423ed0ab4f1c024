"""Engagements over HTTP: a won deal proposed, read with the path its audit trail tells, and
moved through its lifecycle (suspend, resume, start closing, close, cancel), each move audited
with its reason and refused from a state that does not allow it."""

from __future__ import annotations

from datetime import date
from typing import Any

from application import commands as c
from application.ports import CustomerRecord
from domain.ids import CustomerId, LegalEntityId
from tests.e2e.http.answers import ok, problem
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import set_up_tm_contract, time_entry

PATH_TO_ACTIVE = ["proposed", "contracted", "provisioning", "active"]


def propose(api: Api, engagement_id: str, customer_id: str, contract_id: str) -> Any:
    body = {"engagement_id": engagement_id, "customer_id": customer_id, "contract_id": contract_id}
    return api.post("/engagements", body, who="sales_ops")


def accepts_time(api: Api, entry_id: str, day: date) -> bool:
    report = api.app.do(c.RecordTimeEntries((time_entry(entry_id, day, "2"),)))
    return entry_id in report.accepted


def test_a_won_deal_is_proposed_and_waits_for_its_contract(api: Api) -> None:
    created = ok(propose(api, "E9", "acme", "C9"), 201)
    assert created == {
        "engagement_id": "E9",
        "customer_id": "acme",
        "contract_id": "C9",
        "state": "proposed",
        "close_date": None,
        "blocked_reason": None,
        "project_code": None,
        "path": ["proposed"],
        "open_exceptions": [],
    }
    problem(propose(api, "E9", "acme", "C9"), 409, "conflict")
    early = problem(api.post("/engagements/E9/setup", who="integration"), 409, "invalid-state")
    assert "is 'proposed'" in early["detail"]
    assert api.app.projects.calls == 0
    taken = problem(propose(api, "E10", "acme", "C9"), 409, "conflict")
    assert "already belongs to engagement E9" in taken["detail"]


def test_suspend_resume_start_closing_and_close_each_audited_with_its_reason(api: Api) -> None:
    set_up_tm_contract(api.app)
    suspended = ok(
        api.post("/engagements/E1/suspend", {"reason": "budget freeze"}, who="sales_ops")
    )
    assert suspended["state"] == "suspended"
    assert not accepts_time(api, "t1", date(2026, 3, 2))
    assert ok(api.post("/engagements/E1/resume", who="delivery_manager"))["state"] == "active"
    assert accepts_time(api, "t2", date(2026, 3, 2))

    closing = ok(
        api.post("/engagements/E1/start-closing", {"close_date": "2026-03-31"}, who="sales_ops")
    )
    assert (closing["state"], closing["close_date"]) == ("closing", "2026-03-31")
    assert accepts_time(api, "t3", date(2026, 3, 30))
    assert not accepts_time(api, "t4", date(2026, 3, 31))

    # t2 and t3 are approved and unbilled: closing now would leave them billed by no run
    refused = problem(api.post("/engagements/E1/close", who="integration"), 422, "business-rule")
    assert refused["detail"] == (
        "engagement E1 cannot close before its final billing is done: the billing run for "
        "2026-03 would still draft 1 document(s) (480.00 EUR): run the billing first"
    )
    (draft,) = ok(api.post("/billing-runs", {"period": "2026-03"}, who="finance"), 201)[
        "invoice_ids"
    ]
    unissued = problem(api.post("/engagements/E1/close", who="integration"), 422, "business-rule")
    assert f"invoice(s) {draft} are drafted and neither issued nor discarded" in unissued["detail"]
    ok(api.post(f"/invoices/{draft}/approve", who="finance_approver"))
    ok(api.post(f"/invoices/{draft}/issue", {"issue_date": "2026-03-31"}, who="finance"))
    closed = ok(api.post("/engagements/E1/close", who="integration"))
    assert closed["state"] == "closed"
    assert closed["path"] == [*PATH_TO_ACTIVE, "suspended", "active", "closing", "closed"]
    moves = [
        (r.action, r.before, r.after, r.reason, r.actor)
        for r in api.app.data.audit
        if r.subject == "engagement:E1" and r.action in ("suspend", "start_closing")
    ]
    assert moves == [
        ("suspend", "active", "suspended", "budget freeze", "sam.sales"),
        ("start_closing", "active", "closing", "close date 2026-03-31", "sam.sales"),
    ]


def test_only_an_engagement_whose_setup_has_not_started_can_be_cancelled(api: Api) -> None:
    ok(propose(api, "E9", "acme", "C9"), 201)
    cancelled = ok(api.post("/engagements/E9/cancel", {"reason": "deal lost"}, who="sales_ops"))
    assert (cancelled["state"], cancelled["path"]) == ("cancelled", ["proposed", "cancelled"])
    set_up_tm_contract(api.app)
    refused = api.post("/engagements/E1/cancel", {"reason": "changed our mind"}, who="sales_ops")
    assert "active" in problem(refused, 409, "invalid-state")["detail"]
    problem(api.post("/engagements/E1/close", who="sales_ops"), 409, "invalid-state")
    problem(api.post("/engagements/E1/resume", who="sales_ops"), 409, "invalid-state")


def test_a_reason_is_required_and_the_body_is_strict(api: Api) -> None:
    set_up_tm_contract(api.app)
    blank = api.post("/engagements/E1/suspend", {"reason": "   "}, who="sales_ops")
    assert problem(blank, 400, "validation-error")["errors"] == [
        {
            "pointer": "/reason",
            "detail": "expected text that is not blank (at least one character other than "
            "white space)",
        }
    ]
    extra = api.post("/engagements/E1/suspend", {"reason": "x", "state": "active"}, who="sales_ops")
    assert problem(extra, 400, "validation-error")["errors"][0]["pointer"] == "/state"
    problem(api.post("/engagements/E1/suspend", {}, who="sales_ops"), 400, "validation-error")
    problem(
        api.post("/engagements/NOPE/suspend", {"reason": "x"}, who="sales_ops"), 404, "not-found"
    )
    assert api.app.data.aggregates["engagement"]["E1"].state.value == "active"


def test_roles_without_engagements_write_are_refused(api: Api) -> None:
    set_up_tm_contract(api.app)
    for who in ("finance", "finance_approver", "auditor", "client_viewer"):
        refused = api.post("/engagements/E1/suspend", {"reason": "x"}, who=who)
        problem(refused, 403, "forbidden")
    deal = {"engagement_id": "E9", "customer_id": "acme", "contract_id": "C9"}
    problem(api.post("/engagements", deal, who="finance"), 403, "forbidden")
    assert "E9" not in api.app.data.aggregates["engagement"]


def test_a_replayed_suspension_answers_the_same_and_suspends_once(api: Api) -> None:
    set_up_tm_contract(api.app)
    body = {"reason": "budget freeze"}
    first = api.post("/engagements/E1/suspend", body, who="sales_ops", key="s-1")
    replay = api.post("/engagements/E1/suspend", body, who="sales_ops", key="s-1")
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert [r.action for r in api.app.data.audit].count("suspend") == 1


def test_a_client_viewer_sees_its_customers_engagements_only(api: Api) -> None:
    set_up_tm_contract(api.app)
    ok(propose(api, "E-G", "globex", "C-G"), 201)
    assert [
        e["engagement_id"] for e in ok(api.get("/engagements", who="client_viewer"))["items"]
    ] == ["E1"]
    assert [
        e["engagement_id"] for e in ok(api.get("/engagements", who="client_viewer_b"))["items"]
    ] == ["E-G"]
    own = ok(api.get("/engagements/E1", who="client_viewer"))
    assert own["state"] == "active"
    assert "open_exceptions" not in own
    problem(api.get("/engagements/E1", who="client_viewer_b"), 404, "not-found")
    problem(api.get("/engagements/E-G", who="client_viewer"), 404, "not-found")
    blocked = ok(api.get("/engagements", who="auditor", state="proposed"))["items"]
    assert [e["engagement_id"] for e in blocked] == ["E-G"]


def test_setup_of_an_engagement_still_missing_master_data_stays_blocked(api: Api) -> None:
    acme = (CustomerId("acme"), LegalEntityId("tl-uk"))
    api.app.master.records[acme] = CustomerRecord(*acme, "Acme", "EUR", None, False, "1 Main St")
    set_up_tm_contract(api.app)
    again = ok(api.post("/engagements/E1/setup", who="integration"))
    assert again["state"] == "setup_blocked"
    (exception,) = again["open_exceptions"]
    assert exception["reason_code"] == "missing_master_data"
    assert len(api.app.data.exceptions) == 1  # the same exception, not a second one
    assert api.app.projects.projects == {}


def test_a_deal_and_its_contract_name_the_same_customer(api: Api) -> None:
    contract = {"contract_id": "C9", "customer_id": "acme", "legal_entity_id": "tl-uk"}
    ok(
        api.post("/contracts", contract | {"currency": "EUR", "name": "Advisory"}, who="sales_ops"),
        201,
    )
    refused = problem(propose(api, "E9", "globex", "C9"), 422, "business-rule")
    assert (
        refused["detail"]
        == "engagement E9 is for customer globex, but contract C9 is for customer acme"
    )
    problem(api.get("/engagements/E9"), 404, "not-found")
    ok(propose(api, "E10", "globex", "C10"), 201)
    other = contract | {"contract_id": "C10", "currency": "EUR", "name": "Advisory"}
    refused = problem(api.post("/contracts", other, who="sales_ops"), 422, "business-rule")
    assert (
        refused["detail"]
        == "engagement E10 is for customer globex, but contract C10 is for customer acme"
    )
    problem(api.get("/contracts/C10"), 404, "not-found")


def test_a_deal_won_on_an_approved_contract_is_set_up_at_once(api: Api) -> None:
    acme = (CustomerId("acme"), LegalEntityId("tl-uk"))
    api.app.master.records[acme] = CustomerRecord(*acme, "Acme", "EUR", "VAT20", False, "1 Main St")
    contract = {"contract_id": "C9", "customer_id": "acme", "legal_entity_id": "tl-uk"}
    ok(
        api.post("/contracts", contract | {"currency": "EUR", "name": "Advisory"}, who="sales_ops"),
        201,
    )
    fee = {"model": "fixed_fee", "obligation_id": "ff", "name": "Implementation", "fee": "900.00"}
    schedule = [{"installment_id": "ff-1", "due_date": "2026-03-31", "percentage": "100"}]
    version = {"effective_from": "2026-01-01", "obligations": [fee | {"installments": schedule}]}
    ok(api.post("/contracts/C9/versions", version, who="sales_ops"), 201)
    ok(api.post("/contracts/C9/versions/1/approve", who="sales_ops"))
    created = ok(propose(api, "E9", "acme", "C9"), 201)
    assert (created["state"], created["path"]) == ("active", PATH_TO_ACTIVE)
    assert created["project_code"] is not None
    assert api.app.projects.calls == 1
