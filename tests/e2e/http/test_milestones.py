"""Milestones through HTTP: delivery completes with evidence, the client rejects then accepts
after rework, and the accepted milestone is what the next billing run proposes."""

from __future__ import annotations

from tests.e2e.http.books_setup import milestone_contract, money, problem
from tests.e2e.http.harness import Api


def test_a_milestone_rejected_then_accepted_becomes_billable(api: Api) -> None:
    milestone_contract(api)
    listed = api.get("/milestones", who="delivery_manager", engagement_id="E2")
    assert listed.status_code == 200, listed.text
    assert [(m["milestone_id"], m["state"]) for m in listed.json()["items"]] == [
        ("M1", "planned"),
        ("M2", "planned"),
    ]
    done = {"evidence": "design pack v3", "on": "2026-03-02"}
    completed = api.post("/milestones/M1/complete", done, who="delivery_manager")
    assert completed.status_code == 200, completed.text
    assert (completed.json()["state"], completed.json()["completed_on"]) == (
        "completed",
        "2026-03-02",
    )
    rejected = api.post("/milestones/M1/reject", {"reason": "no load tests"}, who="integration")
    assert (rejected.json()["state"], rejected.json()["rejection_reason"]) == (
        "rejected",
        "no load tests",
    )
    early = api.post("/milestones/M1/accept", {"on": "2026-03-03"}, who="integration")
    assert (early.status_code, problem(early)) == (409, "invalid-state")  # rejected: rework first
    rework = {"evidence": "design pack v4 with load tests", "on": "2026-03-09"}
    assert api.post("/milestones/M1/complete", rework, who="delivery_manager").status_code == 200
    before = api.post("/milestones/M1/accept", {"on": "2026-03-08"}, who="integration")
    assert (before.status_code, problem(before)) == (422, "business-rule")
    accepted = api.post("/milestones/M1/accept", {"on": "2026-03-10"}, who="integration")
    assert accepted.status_code == 200, accepted.text
    one = api.get("/milestones/M1", who="finance").json()
    assert (one["state"], one["accepted_on"], one["accepted_by"]) == (
        "accepted",
        "2026-03-10",
        "psa-connector",
    )
    assert (one["engagement_id"], one["contract_id"], one["evidence"]) == (
        "E2",
        "C2",
        "design pack v4 with load tests",
    )
    preview = api.post("/billing-runs/preview", {"period": "2026-03", "contract_ids": ["C2"]})
    (invoice,) = preview.json()["invoices"]
    assert invoice["net"] == money("400.00")  # 40 % of 1,000.00
    assert invoice["lines"][0]["allocations"][0]["source"] == "milestone:M1"


def test_milestone_requests_are_validated_and_permissioned(api: Api) -> None:
    milestone_contract(api)
    no_evidence = api.post(
        "/milestones/M1/complete", {"evidence": "", "on": "2026-03-02"}, who="delivery_manager"
    )
    assert no_evidence.status_code == 400
    smuggled = api.post(
        "/milestones/M1/complete",
        {"evidence": "done", "on": "2026-03-02", "state": "accepted"},
        who="delivery_manager",
    )
    assert (smuggled.status_code, smuggled.json()["errors"][0]["pointer"]) == (400, "/state")
    refused = api.post("/milestones/M1/accept", {"on": "2026-03-02"}, who="finance")
    assert (refused.status_code, problem(refused)) == (403, "forbidden")
    unknown = api.get("/milestones/M9", who="finance")
    assert (unknown.status_code, problem(unknown)) == (404, "not-found")
    missing = api.post("/milestones/M9/accept", {"on": "2026-03-02"}, who="integration")
    assert missing.status_code == 404
    assert api.get("/milestones", who="finance", engagement_id="E9").status_code == 404
    assert api.get("/milestones", who="client_viewer", engagement_id="E2").status_code == 403


def test_a_milestone_step_replays_under_its_key(api: Api) -> None:
    milestone_contract(api)
    done = {"evidence": "design pack v3", "on": "2026-03-02"}
    first = api.post("/milestones/M1/complete", done, who="delivery_manager", key="m1-done")
    again = api.post("/milestones/M1/complete", done, who="delivery_manager", key="m1-done")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    completions = [
        r for r in api.app.data.audit if (r.subject, r.action) == ("milestone:M1", "complete")
    ]
    assert len(completions) == 1


def test_an_acceptance_recorded_for_the_client_names_the_client_approver(api: Api) -> None:
    milestone_contract(api)
    done = {"evidence": "design pack v3", "on": "2026-03-02"}
    api.post("/milestones/M1/complete", done, who="delivery_manager")

    accepted = api.post(
        "/milestones/M1/accept",
        {"on": "2026-03-04", "accepted_by": "cfo@client"},
        who="integration",
    )

    assert accepted.status_code == 200, accepted.text
    assert api.get("/milestones/M1", who="finance").json()["accepted_by"] == "cfo@client"
    audit = [r for r in api.app.data.audit if r.subject == "milestone:M1" and r.action == "accept"]
    assert [r.actor for r in audit] == ["psa-connector"]  # who recorded it stays the actor


def test_a_completion_or_acceptance_dated_in_the_future_is_refused_and_changes_nothing(
    api: Api,
) -> None:
    milestone_contract(api)
    future = {"evidence": "design pack v3", "on": "2099-03-02"}
    refused = api.post("/milestones/M1/complete", future, who="delivery_manager")
    assert (refused.status_code, problem(refused)) == (422, "business-rule")
    assert "the completion date is 2099-03-02, in the future" in refused.json()["detail"]
    done = {"evidence": "design pack v3", "on": "2026-03-02"}
    assert api.post("/milestones/M1/complete", done, who="delivery_manager").status_code == 200

    typo = api.post("/milestones/M1/accept", {"on": "2099-03-10"}, who="integration")

    assert (typo.status_code, problem(typo)) == (422, "business-rule")
    assert "the acceptance date is 2099-03-10, in the future" in typo.json()["detail"]
    one = api.get("/milestones/M1", who="finance").json()
    assert (one["state"], one["accepted_on"]) == ("completed", None)
