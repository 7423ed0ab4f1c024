"""Rate cards over HTTP: create, propose (maker), approve (checker, never the maker), read;
strict bodies, permissions, idempotent replay."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application import commands as c
from domain.ids import RateCardId, Role
from domain.money import Currency
from domain.ratecard import RateCardVersion
from entrypoints.http.security import COST_KEYS, issue_token
from tests.e2e.http.answers import ok, problem
from tests.e2e.http.harness import JWT, Api

PROPOSAL = {
    "effective_from": "2026-01-01",
    "role_rates": {"consultant": "100.00", "manager": "140.00"},
    "resource_overrides": {"r-ana": "120.00"},
}


def create(api: Api, card_id: str = "RC-UK") -> Any:
    body = {"rate_card_id": card_id, "name": "UK rates", "currency": "EUR"}
    return ok(api.post("/rate-cards", body, who="finance"), 201)


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


def test_a_new_rate_card_has_no_versions_and_numbers_its_first_proposal_one(api: Api) -> None:
    card = create(api)
    assert card == {
        "rate_card_id": "RC-UK",
        "name": "UK rates",
        "currency": "EUR",
        "next_version": 1,
        "versions": [],
        "proposals": [],
    }
    assert ok(api.get("/rate-cards", who="delivery_manager"))["items"] == [
        {
            "rate_card_id": "RC-UK",
            "name": "UK rates",
            "currency": "EUR",
            "published_versions": 0,
            "pending_proposals": 0,
        }
    ]


def test_a_proposal_waits_for_another_persons_approval_then_prices_work(api: Api) -> None:
    create(api)
    proposed = ok(api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="finance"), 201)
    (waiting,) = proposed["proposals"]
    assert (waiting["version"], waiting["proposed_by"]) == (1, "fran.finance")
    assert waiting["role_rates"]["manager"] == {"amount": "140.00", "currency": "EUR"}
    assert proposed["versions"] == []

    approved = ok(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"))
    (version,) = approved["versions"]
    assert version["role_rates"] == {
        "consultant": {"amount": "100.00", "currency": "EUR"},
        "manager": {"amount": "140.00", "currency": "EUR"},
    }
    assert version["resource_overrides"] == {"r-ana": {"amount": "120.00", "currency": "EUR"}}
    assert (version["proposed_by"], version["approved_by"]) == ("fran.finance", "alex.approver")
    assert approved["next_version"] == 2
    card = api.app.data.aggregates["rate_card"]["RC-UK"]
    assert card.rate_for(Role("manager"), None, date(2026, 3, 1))[0].amount == Decimal("140.00")
    actions = [(r.action, r.before, r.after, r.actor) for r in api.app.data.audit]
    assert ("propose", None, "v1:proposed", "fran.finance") in actions
    assert ("approve", "v1:proposed", "v1", "alex.approver") in actions


def test_the_proposer_is_refused_as_checker_even_holding_the_approval_permission(
    api: Api,
) -> None:
    create(api)
    token = issue_token(JWT, "pat.both", ["finance", "finance_approver"], now=int(time.time()))
    bearer = {"Authorization": f"Bearer {token}"}
    proposed = api.client.post(
        "/rate-cards/RC-UK/versions",
        json=PROPOSAL,
        headers={**bearer, "Idempotency-Key": "p-1"},
    )
    assert proposed.status_code == 201, proposed.text
    refused = api.client.post(
        "/rate-cards/RC-UK/versions/1/approve", headers={**bearer, "Idempotency-Key": "a-1"}
    )
    body = problem(refused, 403, "maker-checker")
    assert "pat.both" in body["detail"]
    assert api.app.data.aggregates["rate_card"]["RC-UK"].versions == []
    # someone else approves it
    ok(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"))


def test_finance_may_propose_but_not_approve(api: Api) -> None:
    create(api)
    ok(api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="finance"), 201)
    problem(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance2"), 403, "forbidden")
    problem(api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="sales_ops"), 403, "forbidden")
    problem(api.get("/rate-cards", who="client_viewer"), 403, "forbidden")


def test_proposals_publish_in_order_and_a_published_version_is_not_approved_again(
    api: Api,
) -> None:
    create(api)
    ok(api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="finance"), 201)
    later = {**PROPOSAL, "effective_from": "2026-07-01"}
    assert (
        ok(api.post("/rate-cards/RC-UK/versions", later, who="finance"), 201)["next_version"] == 3
    )
    problem(
        api.post("/rate-cards/RC-UK/versions/2/approve", who="finance_approver"),
        409,
        "invalid-state",
    )
    ok(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"))
    problem(
        api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"),
        409,
        "invalid-state",
    )
    problem(
        api.post("/rate-cards/RC-UK/versions/9/approve", who="finance_approver"), 404, "not-found"
    )
    problem(
        api.post("/rate-cards/NOPE/versions/1/approve", who="finance_approver"), 404, "not-found"
    )


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({**PROPOSAL, "cost_rate": "60"}, "/cost_rate"),
        ({**PROPOSAL, "version": 7}, "/version"),
        # a JSON number: the validator names the map, not the key
        ({**PROPOSAL, "role_rates": {"consultant": 100}}, "/role_rates"),
        ({**PROPOSAL, "role_rates": {"consultant": "-5"}}, "/role_rates/consultant"),
        ({**PROPOSAL, "role_rates": {}}, "/role_rates"),
        ({**PROPOSAL, "role_rates": {"   ": "100.00"}}, "/role_rates"),
        ({**PROPOSAL, "resource_overrides": {"\t": "100.00"}}, "/resource_overrides"),
    ],
)
def test_a_bad_proposal_is_refused_with_a_pointer_and_changes_nothing(
    api: Api, body: dict[str, Any], pointer: str
) -> None:
    create(api)
    refused = problem(
        api.post("/rate-cards/RC-UK/versions", body, who="finance"), 400, "validation-error"
    )
    assert any(e["pointer"].startswith(pointer) for e in refused["errors"]), refused
    assert api.app.data.aggregates["rate_card"]["RC-UK"].proposals == []


def test_an_unknown_currency_or_a_taken_id_is_refused(api: Api) -> None:
    bad = {"rate_card_id": "RC-X", "name": "X", "currency": "ZZZ"}
    refused = problem(api.post("/rate-cards", bad, who="finance"), 400, "validation-error")
    assert refused["errors"][0]["pointer"] == "/currency"
    create(api)
    again = {"rate_card_id": "RC-UK", "name": "Other", "currency": "EUR"}
    problem(api.post("/rate-cards", again, who="finance"), 409, "conflict")


def test_a_replayed_proposal_answers_the_same_and_proposes_once(api: Api) -> None:
    create(api)
    first = api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="finance", key="prop-1")
    again = api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="finance", key="prop-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(api.app.data.aggregates["rate_card"]["RC-UK"].proposals) == 1
    other = {**PROPOSAL, "effective_from": "2026-02-01"}
    problem(
        api.post("/rate-cards/RC-UK/versions", other, who="finance", key="prop-1"),
        422,
        "idempotency-key-reused",
    )


def test_a_version_loaded_directly_shows_no_maker_or_checker(api: Api) -> None:
    create(api)
    eur = Currency.of("EUR")
    version = RateCardVersion(1, date(2026, 1, 1), eur, {Role("consultant"): Decimal("90")})
    api.app.do(c.PublishRateCardVersion(RateCardId("RC-UK"), version))
    (shown,) = ok(api.get("/rate-cards/RC-UK", who="sales_ops"))["versions"]
    assert (shown["proposed_by"], shown["approved_by"], shown["approved_at"]) == (None, None, None)


def test_rate_cards_hold_sell_rates_only_so_no_role_sees_a_cost_key(api: Api) -> None:
    create(api)
    ok(api.post("/rate-cards/RC-UK/versions", PROPOSAL, who="finance"), 201)
    for who in ("finance", "delivery_manager", "sales_ops"):
        assert keys_of(ok(api.get("/rate-cards/RC-UK", who=who))).isdisjoint(COST_KEYS)
    problem(api.get("/rate-cards/NOPE", who="finance"), 404, "not-found")
