"""Overage policies over HTTP keep the strings they always had: a retainer's `bill` and `hold`
and a cap's four policies are stored as sent, and a retainer sent a policy it cannot apply is
refused at its obligation, changing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.serialization import unstructure
from tests.e2e.http.books_setup import contract_body
from tests.e2e.http.harness import Api

PROBLEMS = "https://throughline.dev/problems/"
RETAINER = {
    "model": "retainer",
    "obligation_id": "ret",
    "name": "Support retainer",
    "fee_per_period": "8000.00",
    "hours_per_period": "40",
    "start": "2026-01-01",
    "overage_rate": "220.00",
}
TM = {"model": "time_and_materials", "obligation_id": "tm", "name": "T&M", "rate_card_id": "RC"}


def register(api: Api) -> None:
    body = contract_body(name="Support 2026")
    assert api.post("/contracts", body, who="integration").status_code == 201


def draft(api: Api, *obligations: dict[str, Any]) -> Any:
    body = {"effective_from": "2026-01-01", "obligations": list(obligations)}
    return api.post("/contracts/C1/versions", body, who="integration")


def policies(api: Api) -> list[str]:
    """The policies of the stored version, as the one converter writes them."""
    (version,) = api.app.data.aggregates["contract"]["C1"].versions
    retainer, tm = version.obligations
    return [unstructure(retainer)["overage_policy"], unstructure(tm)["cap"]["policy"]]


@pytest.mark.parametrize(
    ("retainer_policy", "cap_policy"),
    [("bill", "write_off"), ("hold", "block"), ("bill", "hold"), ("hold", "bill")],
)
def test_policies_are_stored_as_the_strings_sent(
    api: Api, retainer_policy: str, cap_policy: str
) -> None:
    register(api)
    retainer = {**RETAINER, "overage_policy": retainer_policy}
    tm = {**TM, "cap": {"amount": "5000.00", "policy": cap_policy}}
    assert draft(api, retainer, tm).status_code == 201
    assert policies(api) == [retainer_policy, cap_policy]


@pytest.mark.parametrize("policy", ["write_off", "block"])
def test_a_retainer_with_a_policy_it_cannot_apply_is_refused_at_its_obligation(
    api: Api, policy: str
) -> None:
    register(api)
    response = draft(api, {**RETAINER, "overage_policy": policy})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == PROBLEMS + "business-rule"
    assert body["errors"] == [
        {
            "pointer": "/obligations/0",
            "detail": f"ret: a retainer's overage policy is bill or hold, not {policy}",
        }
    ]
    assert api.app.data.aggregates["contract"]["C1"].versions == []
