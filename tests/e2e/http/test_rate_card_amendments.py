"""Rate-card amendments over HTTP: the rates that change from a date become the whole next
version, proposed by one person and approved by another; bad amendments are refused at their
field and change nothing. On the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.ids import ResourceId, Role
from entrypoints.http.security import issue_token
from tests.e2e.http.answers import ok, problem
from tests.e2e.http.harness import JWT, Api

FIRST = {
    "effective_from": "2026-01-01",
    "role_rates": {"consultant": "100.00", "manager": "140.00"},
    "resource_overrides": {"r-ana": "120.00"},
}


def card_with_first_version(api: Api) -> None:
    body = {"rate_card_id": "RC-UK", "name": "UK rates", "currency": "EUR"}
    ok(api.post("/rate-cards", body, who="finance"), 201)
    ok(api.post("/rate-cards/RC-UK/versions", FIRST, who="finance"), 201)
    ok(api.post("/rate-cards/RC-UK/versions/1/approve", who="finance_approver"))


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def test_an_amendment_naming_one_role_keeps_every_other_rate_once_approved(api_on: Api) -> None:
    api = api_on
    card_with_first_version(api)
    change = {"effective_from": "2026-07-01", "role_rates": {"manager": "150.00"}}
    proposed = ok(api.post("/rate-cards/RC-UK/amendments", change, who="finance"), 201)
    (waiting,) = proposed["proposals"]
    assert (waiting["version"], waiting["proposed_by"]) == (2, "fran.finance")
    assert waiting["role_rates"] == {"consultant": eur("100.00"), "manager": eur("150.00")}
    assert waiting["resource_overrides"] == {"r-ana": eur("120.00")}
    assert len(proposed["versions"]) == 1  # it prices nothing yet

    approved = ok(api.post("/rate-cards/RC-UK/versions/2/approve", who="finance_approver"))
    first, second = approved["versions"]
    assert first["role_rates"]["manager"] == eur("140.00")
    assert second["effective_from"] == "2026-07-01"
    assert second["role_rates"] == {"consultant": eur("100.00"), "manager": eur("150.00")}
    assert (second["proposed_by"], second["approved_by"]) == ("fran.finance", "alex.approver")
    assert ok(api.get("/rate-cards/RC-UK")) == approved  # read back from the store


def test_an_amendment_adds_a_role_and_ends_an_override(api: Api) -> None:
    card_with_first_version(api)
    change = {
        "effective_from": "2026-09-01",
        "role_rates": {"architect": "190.00"},
        "removed_overrides": ["r-ana"],
    }
    ok(api.post("/rate-cards/RC-UK/amendments", change, who="finance"), 201)
    ok(api.post("/rate-cards/RC-UK/versions/2/approve", who="finance_approver"))
    card = api.app.data.aggregates["rate_card"]["RC-UK"]
    on = date(2026, 9, 1)
    assert card.rate_for(Role("architect"), None, on)[0].amount == Decimal("190.00")
    assert card.rate_for(Role("consultant"), ResourceId("r-ana"), on)[0].amount == Decimal("100")
    before = date(2026, 8, 31)
    assert card.rate_for(Role("consultant"), ResourceId("r-ana"), before)[0].amount == Decimal(
        "120.00"
    )
    actions = [(r.action, r.after, r.actor) for r in api.app.data.audit]
    assert ("propose", "v2:proposed", "fran.finance") in actions


def test_the_proposer_of_an_amendment_cannot_approve_it_whatever_their_roles(api: Api) -> None:
    card_with_first_version(api)
    token = issue_token(JWT, "pat.both", ["finance", "finance_approver"], now=int(time.time()))
    bearer = {"Authorization": f"Bearer {token}"}
    change = {"effective_from": "2026-07-01", "role_rates": {"manager": "150.00"}}
    proposed = api.client.post(
        "/rate-cards/RC-UK/amendments", json=change, headers={**bearer, "Idempotency-Key": "a-1"}
    )
    assert proposed.status_code == 201, proposed.text
    refused = api.client.post(
        "/rate-cards/RC-UK/versions/2/approve", headers={**bearer, "Idempotency-Key": "a-2"}
    )
    assert "pat.both" in problem(refused, 403, "maker-checker")["detail"]
    problem(api.post("/rate-cards/RC-UK/amendments", change, who="sales_ops"), 403, "forbidden")
    ok(api.post("/rate-cards/RC-UK/versions/2/approve", who="finance_approver"))


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"effective_from": "2026-07-01"}, "/role_rates"),
        ({"effective_from": "2026-07-01", "role_rates": {"manager": "-1"}}, "/role_rates/manager"),
        (
            {"effective_from": "2026-07-01", "removed_roles": ["partner"]},
            "/removed_roles/0",
        ),
        (
            {
                "effective_from": "2026-07-01",
                "role_rates": {"manager": "150.00"},
                "removed_roles": ["manager"],
            },
            "/removed_roles/0",
        ),
        ({"effective_from": "2026-07-01", "removed_overrides": ["r-bob"]}, "/removed_overrides/0"),
        ({"effective_from": "2026-07-01", "role_rates": {"manager": "150"}, "x": 1}, "/x"),
    ],
)
def test_a_bad_amendment_is_refused_at_its_field_and_changes_nothing(
    api_on: Api, body: dict[str, Any], pointer: str
) -> None:
    api = api_on
    card_with_first_version(api)
    refused = problem(
        api.post("/rate-cards/RC-UK/amendments", body, who="finance"), 400, "validation-error"
    )
    assert pointer in [e["pointer"] for e in refused["errors"]], refused
    assert ok(api.get("/rate-cards/RC-UK"))["proposals"] == []


def test_an_amendment_of_an_unknown_rate_card_is_not_found(api: Api) -> None:
    change = {"effective_from": "2026-07-01", "role_rates": {"manager": "150.00"}}
    problem(api.post("/rate-cards/NOPE/amendments", change, who="finance"), 404, "not-found")
