"""Contracts over HTTP: registration, versions drafted with obligations as tagged JSON (every
documented example drafts), approval and amendment, the diff; bad terms answered field by
field; scoping for client viewers; permissions; idempotent replay."""

from __future__ import annotations

from typing import Any

import pytest

from domain.fixed_fee import FixedFeeTerms
from domain.obligation import registered_models
from domain.time_and_materials import OveragePolicy, TimeAndMaterialsTerms
from tests.e2e.http.answers import ok, problem
from tests.e2e.http.books_setup import contract_body
from tests.e2e.http.harness import Api

TM = {
    "model": "time_and_materials",
    "obligation_id": "tm",
    "name": "Advisory",
    "rate_card_id": "RC-UK",
}
FIXED_FEE = {
    "model": "fixed_fee",
    "obligation_id": "ff",
    "name": "Workshop",
    "fee": "1000.01",
    "installments": [
        {"installment_id": "ff-1", "due_date": "2026-04-30", "percentage": "50"},
        {"installment_id": "ff-2", "due_date": "2026-05-31", "percentage": "50"},
    ],
}


def register(api: Api, contract_id: str = "C1", customer_id: str = "acme") -> Any:
    body = contract_body(contract_id, customer_id)
    return ok(api.post("/contracts", body, who="integration"), 201)


def draft(api: Api, *obligations: dict[str, Any], contract_id: str = "C1", **extra: Any) -> Any:
    body = {"effective_from": "2026-01-01", "obligations": list(obligations), **extra}
    return api.post(f"/contracts/{contract_id}/versions", body, who="integration")


def stored(api: Api, contract_id: str = "C1") -> Any:
    return api.app.data.aggregates["contract"][contract_id]


def test_a_registered_contract_has_no_versions_and_no_engagement_yet(api: Api) -> None:
    assert register(api) == {
        "contract_id": "C1",
        "customer_id": "acme",
        "legal_entity_id": "tl-uk",
        "currency": "EUR",
        "name": "Advisory 2026",
        "engagement": None,
        "versions": [],
    }
    listed = ok(api.get("/contracts", who="sales_ops"))["items"]
    assert [(x["contract_id"], x["versions"], x["current_version"]) for x in listed] == [
        ("C1", 0, None)
    ]


def test_obligations_structure_into_the_domains_terms_with_the_contracts_currency(
    api: Api,
) -> None:
    register(api)
    capped = {**TM, "billing_increment": "0.25", "cap": {"amount": "5000.00", "policy": "bill"}}
    version = ok(draft(api, capped, FIXED_FEE, label="SOW 2026"), 201)
    assert version["obligations"] == [
        {"obligation_id": "tm", "model": "time_and_materials", "name": "Advisory"},
        {"obligation_id": "ff", "model": "fixed_fee", "name": "Workshop"},
    ]
    assert (version["version"], version["state"], version["label"]) == (1, "draft", "SOW 2026")
    tm, ff = stored(api).versions[0].obligations
    assert isinstance(tm, TimeAndMaterialsTerms)
    assert isinstance(ff, FixedFeeTerms)
    assert (str(tm.billing_increment), str(tm.cap.amount), tm.cap.policy) == (
        "0.25",
        "5000.00",
        OveragePolicy.BILL,
    )
    assert (tm.currency.code, str(ff.fee)) == ("EUR", "1000.01")


def test_every_documented_obligation_example_drafts(api: Api) -> None:
    schema = ok(api.get("/schema/openapi.json", who=None))
    operation = schema["paths"]["/contracts/{contract_id}/versions"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["schema"]["examples"]
    models = set()
    for n, example in enumerate(examples):
        contract_id = f"C-DOC-{n}"
        register(api, contract_id)
        version = ok(
            api.post(f"/contracts/{contract_id}/versions", example, who="integration"), 201
        )
        models |= {o["model"] for o in version["obligations"]}
    # every model the product ships is documented (a model a test registers may be too)
    shipped = {m.name for m in registered_models() if m.terms_type.__module__.startswith("domain.")}
    assert shipped <= models


@pytest.mark.parametrize(
    ("obligation", "pointers"),
    [
        ({**TM, "model": "barter"}, ["/obligations/0/model"]),
        ({**TM, "cost_rate": "60"}, ["/obligations/0/cost_rate"]),
        ({**FIXED_FEE, "fee": 1000.01}, ["/obligations/0/fee"]),
        (
            {**FIXED_FEE, "installments": [{"installment_id": "i", "due_date": "2026-13-01"}]},
            ["/obligations/0/installments/0/due_date"],
        ),
        ({k: v for k, v in TM.items() if k != "rate_card_id"}, ["/obligations/0/rate_card_id"]),
    ],
)
def test_malformed_terms_are_a_400_naming_each_bad_field(
    api: Api, obligation: dict[str, Any], pointers: list[str]
) -> None:
    register(api)
    refused = problem(draft(api, obligation), 400, "validation-error")
    assert [e["pointer"] for e in refused["errors"]] == pointers
    assert stored(api).versions == []


def test_well_formed_terms_that_break_a_rule_are_a_422_with_the_pointer(api: Api) -> None:
    register(api)
    uneven = {**FIXED_FEE, "installments": [FIXED_FEE["installments"][0]]}  # 50 % only
    refused = problem(draft(api, TM, uneven), 422, "business-rule")
    assert refused["errors"] == [
        {"pointer": "/obligations/1", "detail": "ff: installment percentages sum to 50, not 100"}
    ]
    other_currency = problem(draft(api, {**TM, "currency": "GBP"}), 422, "business-rule")
    assert "GBP" in other_currency["detail"]
    assert stored(api).versions == []


def test_a_contract_and_each_obligation_are_named(api: Api) -> None:
    """A name is printed on every invoice line and document: white space is refused, and
    nothing is stored."""
    blank = api.post(
        "/contracts",
        {"contract_id": "C2", "customer_id": "acme", "legal_entity_id": "tl-uk",
         "currency": "EUR", "name": "   "},
        who="integration",
    )  # fmt: skip
    assert problem(blank, 400, "validation-error")["errors"][0]["pointer"] == "/name"
    assert api.get("/contracts/C2", who="sales_ops").status_code == 404
    register(api)
    refused = problem(draft(api, TM, {**FIXED_FEE, "name": " \t"}), 422, "business-rule")
    assert refused["detail"] == (
        "obligation ff has a blank name: an invoice line says what it bills by its "
        "obligation's name"
    )
    assert stored(api).versions == []


def test_the_body_itself_is_strict(api: Api) -> None:
    register(api)
    refused = problem(draft(api, TM, state="approved"), 400, "validation-error")
    assert refused["errors"][0]["pointer"] == "/state"
    problem(draft(api), 400, "validation-error")  # no obligation at all
    problem(draft(api, TM, contract_id="NOPE"), 404, "not-found")


def test_approval_is_refused_for_a_missing_or_already_approved_version(api: Api) -> None:
    register(api)
    ok(draft(api, TM), 201)
    problem(api.post("/contracts/C1/versions/2/approve", who="sales_ops"), 404, "not-found")
    ok(api.post("/contracts/C1/versions/1/approve", who="sales_ops"))
    again = api.post("/contracts/C1/versions/1/approve", who="sales_ops")
    problem(again, 409, "invalid-state")


def test_an_amendment_dated_before_the_version_it_supersedes_is_refused(api: Api) -> None:
    register(api)
    ok(draft(api, TM), 201)
    ok(api.post("/contracts/C1/versions/1/approve", who="sales_ops"))
    early = {"effective_from": "2025-12-01", "obligations": [TM]}
    ok(api.post("/contracts/C1/versions", early, who="integration"), 201)
    problem(api.post("/contracts/C1/versions/2/approve", who="sales_ops"), 422, "business-rule")


def test_the_diff_of_an_obligation_removed_by_an_amendment(api: Api) -> None:
    register(api)
    ok(draft(api, TM, FIXED_FEE), 201)
    ok(draft(api, TM, effective_from="2026-05-01"), 201)
    diff = ok(api.get("/contracts/C1/diff", **{"from": 1, "to": 2}))
    assert [(r["obligation_id"], "after" in r) for r in diff["removed"]] == [("ff", False)]
    assert diff["removed"][0]["before"]["fee"] == "1000.01"
    assert (diff["added"], diff["changed"]) == ([], [])
    missing = problem(api.get("/contracts/C1/diff", **{"from": 1, "to": 3}), 404, "not-found")
    assert missing["errors"][0]["pointer"] == "/query/to"


def test_a_client_viewer_sees_its_own_contracts_only(api: Api) -> None:
    register(api, "C-ACME", "acme")
    register(api, "C-GLOBEX", "globex")
    ok(draft(api, TM, contract_id="C-GLOBEX"), 201)
    mine = ok(api.get("/contracts", who="client_viewer"))["items"]
    assert [x["contract_id"] for x in mine] == ["C-ACME"]
    assert ok(api.get("/contracts/C-ACME", who="client_viewer"))["customer_id"] == "acme"
    for path in ("/contracts/C-ACME", "/contracts/C-ACME/diff"):
        problem(api.get(path, who="client_viewer_b"), 404, "not-found")
    problem(api.get("/contracts/C-GLOBEX/diff", who="client_viewer"), 404, "not-found")


def test_roles_without_the_permission_are_refused(api: Api) -> None:
    body = contract_body(name="x")
    problem(api.post("/contracts", body, who="delivery_manager"), 403, "forbidden")
    problem(api.post("/contracts", body, who="finance"), 403, "forbidden")
    register(api)
    ok(draft(api, TM), 201)
    refused = api.post("/contracts/C1/versions/1/approve", who="client_viewer")
    problem(refused, 403, "forbidden")


def test_registering_is_idempotent_per_key_and_a_taken_id_is_a_conflict(api: Api) -> None:
    body = contract_body(name="Advisory")
    first = api.post("/contracts", body, who="integration", key="clm-C1")
    replay = api.post("/contracts", body, who="integration", key="clm-C1")
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert list(api.app.data.aggregates["contract"]) == ["C1"]
    problem(api.post("/contracts", body, who="integration", key="clm-C1-again"), 409, "conflict")
    unknown = {**body, "contract_id": "C2", "currency": "ZZZ"}
    refused = problem(api.post("/contracts", unknown, who="integration"), 400, "validation-error")
    assert refused["errors"][0]["pointer"] == "/currency"
