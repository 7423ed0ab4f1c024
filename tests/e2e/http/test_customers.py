"""Customers and master data over HTTP: the customers the books know, their tax profile per
legal entity, the ERP's profile received, the tax-rate table; scoping, permissions, strict
bodies and idempotent replay."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from application import commands as c
from domain.ids import ContractId, CustomerId, LegalEntityId
from tests.e2e.http.answers import ok, problem
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import set_up_tm_contract

PROFILE = {"legal_entity_id": "tl-fr", "tax_code": "EU-RC", "reverse_charge": True}


def two_customers(api: Api) -> None:
    """acme set up straight through; globex with a contract and no tax profile yet."""
    set_up_tm_contract(api.app)
    api.app.do(
        c.RegisterContract(
            ContractId("C-G"), CustomerId("globex"), LegalEntityId("tl-uk"), "EUR", "Ops"
        )
    )


def test_customers_are_known_from_contracts_and_master_data(api: Api) -> None:
    two_customers(api)
    listed = ok(api.get("/customers", who="sales_ops"))["items"]
    assert listed == [
        {
            "customer_id": "acme",
            "legal_entities": ["tl-uk"],
            "contracts": 1,
            "engagements": 1,
            "master_data_complete": True,
        },
        {
            "customer_id": "globex",
            "legal_entities": ["tl-uk"],
            "contracts": 1,
            "engagements": 0,
            "master_data_complete": False,
        },
    ]
    incomplete = ok(api.get("/customers", who="finance", incomplete=True))["items"]
    assert [x["customer_id"] for x in incomplete] == ["globex"]
    acme = ok(api.get("/customers/acme", who="delivery_manager"))
    assert acme["legal_entities"] == [
        {
            "legal_entity_id": "tl-uk",
            "tax_profile_status": "present",
            "tax_profile": {
                "tax_code": "VAT20",
                "reverse_charge": False,
                "legal_note": "",
                "categories": [],
            },
            "customer_record": {
                "legal_entity_id": "tl-uk",
                "version": 0,
                "legal_name": "Acme Ltd",
                "currency": "EUR",
                "tax_code": "VAT20",
                "reverse_charge": False,
                "legal_note": "",
                "categories": [],
                "billing_address_text": "1 Main St",
                "billing_address": None,
                "vat_id": None,
                "payment_terms_days": None,
            },
            "master_data_gaps": [],
        }
    ]
    assert acme["engagements"] == [{"engagement_id": "E1", "contract_id": "C1", "state": "active"}]
    assert acme["open_master_data_exceptions"] == []


def test_master_data_received_for_another_legal_entity_completes_nothing_it_does_not_cover(
    api: Api,
) -> None:
    two_customers(api)
    answered = ok(api.post("/customers/globex/master-data", PROFILE, who="finance"))
    assert answered["master_data_complete"] is False  # tl-uk, where it contracts, still lacks one
    assert [
        (e["legal_entity_id"], e["tax_profile_status"]) for e in answered["legal_entities"]
    ] == [("tl-fr", "present"), ("tl-uk", "missing")]
    reverse = answered["legal_entities"][0]["tax_profile"]
    assert (reverse["reverse_charge"], reverse["legal_note"].startswith("Reverse charge")) == (
        True,
        True,
    )
    stored = api.app.data.tax_profiles[(CustomerId("globex"), LegalEntityId("tl-fr"))]
    assert (stored.tax_code, stored.reverse_charge) == ("EU-RC", True)
    audit = [(r.subject, r.action, r.after, r.actor) for r in api.app.data.audit]
    assert ("customer:globex:tl-fr", "update_tax_profile", "EU-RC", "fran.finance") in audit


def test_master_data_may_arrive_before_any_contract(api: Api) -> None:
    answered = ok(api.post("/customers/initech/master-data", PROFILE, who="integration"))
    assert (answered["customer_id"], answered["master_data_complete"], answered["contracts"]) == (
        "initech",
        True,
        [],
    )


def test_a_client_viewer_sees_its_own_customer_only(api: Api) -> None:
    two_customers(api)
    assert [x["customer_id"] for x in ok(api.get("/customers", who="client_viewer"))["items"]] == [
        "acme"
    ]
    assert [
        x["customer_id"] for x in ok(api.get("/customers", who="client_viewer_b"))["items"]
    ] == ["globex"]
    own = ok(api.get("/customers/acme", who="client_viewer"))
    assert "open_master_data_exceptions" not in own
    problem(api.get("/customers/acme", who="client_viewer_b"), 404, "not-found")
    problem(api.get("/customers/nobody", who="auditor"), 404, "not-found")


def test_the_body_is_strict_and_writing_needs_the_permission(api: Api) -> None:
    refused = problem(
        api.post("/customers/acme/master-data", {**PROFILE, "currency": "EUR"}, who="finance"),
        400,
        "validation-error",
    )
    assert refused["errors"][0]["pointer"] == "/currency"
    bad_code = {**PROFILE, "tax_code": "VAT 20%"}
    refused = problem(
        api.post("/customers/acme/master-data", bad_code, who="finance"), 400, "validation-error"
    )
    assert refused["errors"][0]["pointer"] == "/tax_code"
    for who in ("delivery_manager", "finance_approver", "client_viewer", "auditor"):
        problem(api.post("/customers/acme/master-data", PROFILE, who=who), 403, "forbidden")
    assert api.app.data.tax_profiles == {}


def test_a_replayed_master_data_update_answers_the_same_and_records_once(api: Api) -> None:
    first = api.post("/customers/acme/master-data", PROFILE, who="integration", key="erp-1")
    replay = api.post("/customers/acme/master-data", PROFILE, who="integration", key="erp-1")
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    updates = [r for r in api.app.data.audit if r.action == "update_tax_profile"]
    assert len(updates) == 1


def test_finance_replaces_the_tax_rate_table(api: Api) -> None:
    table = {
        "rates": [
            {"tax_code": "VAT20", "effective_from": "2026-07-01", "rate": "0.21"},
            {"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "0.20"},
            {"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"},
        ]
    }
    answered = ok(api.post("/tax-rates", table, who="finance"))
    assert [(r["tax_code"], r["effective_from"], r["rate"]) for r in answered["rates"]] == [
        ("VAT20", "2020-01-01", "0.20"),
        ("VAT20", "2026-07-01", "0.21"),
        ("ZERO", "2020-01-01", "0"),
    ]
    assert ok(api.get("/tax-rates", who="sales_ops")) == answered
    only = ok(api.get("/tax-rates", who="delivery_manager", tax_code="ZERO"))["rates"]
    assert only == [{"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"}]
    rates = api.app.data.tax_rates
    assert rates.rate_on("VAT20", date(2026, 6, 30)) == Decimal("0.20")
    assert rates.rate_on("VAT20", date(2026, 7, 1)) == Decimal("0.21")


def test_a_bad_tax_rate_table_is_refused_row_by_row_and_changes_nothing(api: Api) -> None:
    body = {
        "rates": [
            {"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "20"},
            {"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"},
            {"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"},
        ]
    }
    refused = problem(api.post("/tax-rates", body, who="finance"), 400, "validation-error")
    assert [e["pointer"] for e in refused["errors"]] == ["/rates/0/rate", "/rates/2"]
    assert api.app.data.tax_rates.rates == ()
    problem(api.post("/tax-rates", {"rates": []}, who="finance"), 400, "validation-error")
    for who in ("sales_ops", "finance_approver", "integration"):
        problem(api.post("/tax-rates", body, who=who), 403, "forbidden")


def test_a_table_that_would_leave_a_billed_tax_code_without_its_rate_is_refused(api: Api) -> None:
    ok(
        api.post(
            "/customers/acme/master-data", {**PROFILE, "reverse_charge": False}, who="integration"
        )
    )
    whole = {"rates": [{"tax_code": "EU-RC", "effective_from": "2020-01-01", "rate": "0.20"}]}
    ok(api.post("/tax-rates", whole, who="finance"))

    only_new = {"rates": [{"tax_code": "EU-RC", "effective_from": "2026-12-01", "rate": "0.21"}]}
    refused = problem(api.post("/tax-rates", only_new, who="finance"), 422, "business-rule")

    assert "tax code 'EU-RC' is billed to customer acme" in refused["detail"]
    assert "from 2020-01-01" in refused["detail"]
    assert ok(api.get("/tax-rates", who="finance")) == {
        "rates": [{"tax_code": "EU-RC", "effective_from": "2020-01-01", "rate": "0.20"}]
    }
    kept = {"rates": [*whole["rates"], *only_new["rates"]]}
    assert len(ok(api.post("/tax-rates", kept, who="finance"))["rates"]) == 2
