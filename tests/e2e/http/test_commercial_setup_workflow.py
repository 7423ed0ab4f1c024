"""The commercial set-up, end to end through the HTTP API only: finance proposes a rate card
and a finance approver approves it (never its proposer); the CRM wins a deal, the CLM
registers the contract and its T&M SOW is approved, which sets the engagement up. A customer
whose ERP record lacks a tax profile blocks its setup until the profile arrives and the setup
is replayed; an amendment is a second version, approved, and the diff says what it changed.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

from application import commands as c
from application.ports import CustomerRecord
from domain.ids import CustomerId, LegalEntityId
from domain.period import Period
from entrypoints.http.security import issue_token
from tests.e2e.http.answers import PROBLEMS, ok
from tests.e2e.http.books_setup import contract_body
from tests.e2e.http.harness import JWT, Api
from tests.support.engagement_paths import THROUGH_A_BLOCKED_SETUP
from tests.unit.application.conftest import time_entry


def tm_version(effective_from: str = "2026-01-01", **terms: Any) -> dict[str, Any]:
    obligation = {
        "model": "time_and_materials",
        "obligation_id": "tm",
        "name": "Advisory",
        "rate_card_id": "RC-UK",
        **terms,
    }
    return {"effective_from": effective_from, "obligations": [obligation]}


def publish_rate_card(api: Api) -> dict[str, Any]:
    ok(
        api.post("/rate-cards", {"rate_card_id": "RC-UK", "name": "UK", "currency": "EUR"}),
        201,
    )
    proposal = {"effective_from": "2026-01-01", "role_rates": {"consultant": "125.50"}}
    ok(api.post("/rate-cards/RC-UK/versions", proposal, who="finance"), 201)
    return ok(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"))


def sign(api: Api, engagement: str, contract: str, customer: str) -> dict[str, Any]:
    """Deal won, contract registered, SOW drafted and approved: the contract as answered."""
    body = {"engagement_id": engagement, "customer_id": customer, "contract_id": contract}
    assert ok(api.post("/engagements", body, who="integration2"), 201)["state"] == "proposed"
    ok(api.post("/contracts", contract_body(contract, customer), who="integration"), 201)
    version = ok(api.post(f"/contracts/{contract}/versions", tm_version(), who="integration"), 201)
    assert (version["version"], version["state"], version["label"]) == (1, "draft", "SOW")
    return ok(api.post(f"/contracts/{contract}/versions/1/approve", who="sales_ops"))


def test_rate_card_maker_checker_then_contract_approval_makes_the_engagement_active(
    api: Api,
) -> None:
    ok(api.post("/rate-cards", {"rate_card_id": "RC-UK", "name": "UK", "currency": "EUR"}), 201)
    proposal = {"effective_from": "2026-01-01", "role_rates": {"consultant": "125.50"}}
    proposed = ok(api.post("/rate-cards/RC-UK/versions", proposal, who="finance"), 201)
    assert proposed["versions"] == []
    assert [(p["version"], p["proposed_by"]) for p in proposed["proposals"]] == [
        (1, "fran.finance")
    ]

    # the proposer may hold the approval permission too: still not for their own change
    token = issue_token(JWT, "fran.finance", ["finance", "finance_approver"], now=int(time.time()))
    refused = api.client.post(
        "/rate-cards/RC-UK/versions/1/approve",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "self-approve"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == PROBLEMS + "maker-checker"

    card = ok(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"))
    (published,) = card["versions"]
    assert published["role_rates"] == {"consultant": {"amount": "125.50", "currency": "EUR"}}
    assert (published["proposed_by"], published["approved_by"]) == (
        "fran.finance",
        "alex.approver",
    )
    assert card["proposals"] == []

    ok(
        api.post(
            "/tax-rates",
            {"rates": [{"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "0.20"}]},
        )
    )
    contract = sign(api, "E1", "C1", "acme")
    assert contract["engagement"] == {"engagement_id": "E1", "state": "active"}
    assert contract["versions"][0]["state"] == "approved"
    assert contract["versions"][0]["obligations"] == [
        {"obligation_id": "tm", "model": "time_and_materials", "name": "Advisory"}
    ]

    engagement = ok(api.get("/engagements/E1", who="sales_ops"))
    assert engagement["state"] == "active"
    assert engagement["path"] == ["proposed", "contracted", "provisioning", "active"]
    assert engagement["open_exceptions"] == []
    assert list(api.app.projects.projects) == ["E1:project"]

    # the approved rate prices the work: 7.5 h x 125.50 = 941.25, tax 20 % = 188.25
    api.app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "7.5"),)))
    result = api.app.do(c.RunBilling(Period.month(2026, 3), dry_run=True))
    (invoice,) = result.proposal.invoices
    assert (invoice.totals.net.amount, invoice.totals.tax.amount) == (
        Decimal("941.25"),
        Decimal("188.25"),
    )


def test_a_missing_tax_profile_blocks_setup_until_master_data_arrives_and_setup_is_replayed(
    api: Api,
) -> None:
    globex = (CustomerId("globex"), LegalEntityId("tl-uk"))
    api.app.master.records[globex] = CustomerRecord(
        *globex, "Globex plc", "EUR", None, False, "2 Side St"
    )
    publish_rate_card(api)
    contract = sign(api, "E2", "C2", "globex")
    assert contract["engagement"] == {"engagement_id": "E2", "state": "setup_blocked"}

    engagement = ok(api.get("/engagements/E2", who="finance"))
    assert "tax_profile" in engagement["blocked_reason"]
    (exception,) = engagement["open_exceptions"]
    assert (exception["kind"], exception["reason_code"]) == ("master_data", "missing_master_data")

    customer = ok(api.get("/customers/globex", who="finance"))
    assert customer["master_data_complete"] is False
    (entity,) = customer["legal_entities"]
    assert (entity["legal_entity_id"], entity["tax_profile_status"], entity["tax_profile"]) == (
        "tl-uk",
        "missing",
        None,
    )
    # the ERP's record, and what setup found missing in it, exactly as setup said
    assert (entity["customer_record"]["version"], entity["master_data_gaps"]) == (
        0,
        ["tax_profile"],
    )
    assert [x["exception_id"] for x in customer["open_master_data_exceptions"]] == [
        exception["exception_id"]
    ]
    # the client's own viewer sees the status, not the internal exception queue
    viewed = ok(api.get("/customers/globex", who="client_viewer_b"))
    assert viewed["master_data_complete"] is False
    assert "open_master_data_exceptions" not in viewed

    fixed = ok(
        api.post(
            "/customers/globex/master-data",
            {"legal_entity_id": "tl-uk", "tax_code": "VAT20"},
            who="integration",
        )
    )
    assert fixed["master_data_complete"] is True
    assert fixed["legal_entities"][0]["tax_profile"] == {
        "tax_code": "VAT20",
        "reverse_charge": False,
        "legal_note": "",
        "categories": [],
    }
    assert ok(api.get("/engagements/E2"))["state"] == "setup_blocked"  # until the replay

    replayed = ok(api.post("/engagements/E2/setup", who="sales_ops"))
    assert replayed["state"] == "active"
    assert replayed["blocked_reason"] is None
    assert replayed["open_exceptions"] == []
    assert replayed["path"] == list(THROUGH_A_BLOCKED_SETUP)
    assert list(api.app.projects.projects) == ["E2:project"]
    assert ok(api.get("/customers/globex", who="finance"))["open_master_data_exceptions"] == []
    # a second replay changes nothing and provisions nothing again
    assert ok(api.post("/engagements/E2/setup", who="sales_ops"))["state"] == "active"
    assert api.app.projects.calls == 1


def test_an_amendment_is_a_second_version_approved_and_its_diff_names_the_changes(
    api: Api,
) -> None:
    publish_rate_card(api)
    sign(api, "E1", "C1", "acme")
    amendment = tm_version("2026-04-01", cap={"amount": "20000.00", "policy": "hold"})
    amendment["obligations"].append(
        {
            "model": "fixed_fee",
            "obligation_id": "ff",
            "name": "Workshop",
            "fee": "9000.00",
            "installments": [
                {"installment_id": "ff-1", "due_date": "2026-04-30", "amount": "4500.00"},
                {"installment_id": "ff-2", "due_date": "2026-05-31", "amount": "4500.00"},
            ],
        }
    )
    amendment["label"] = "Change order 1"
    drafted = ok(api.post("/contracts/C1/versions", amendment, who="integration"), 201)
    assert (drafted["version"], drafted["state"], drafted["label"]) == (
        2,
        "draft",
        "Change order 1",
    )

    contract = ok(api.post("/contracts/C1/versions/2/approve", who="integration"))
    assert [(v["version"], v["state"]) for v in contract["versions"]] == [
        (1, "superseded"),
        (2, "approved"),
    ]
    assert contract["engagement"]["state"] == "active"

    diff = ok(api.get("/contracts/C1/diff", who="client_viewer", **{"from": 1, "to": 2}))
    assert [a["obligation_id"] for a in diff["added"]] == ["ff"]
    assert diff["added"][0]["after"]["fee"] == "9000.00"
    assert "before" not in diff["added"][0]
    assert diff["removed"] == []
    (changed,) = diff["changed"]
    assert (changed["obligation_id"], changed["changed_fields"]) == ("tm", ["cap"])
    assert changed["before"]["cap"] is None
    assert changed["after"]["cap"] == {"amount": "20000.00", "hours": None, "policy": "hold"}
    # without parameters: the latest version against the one before it
    assert ok(api.get("/contracts/C1/diff")) == diff
