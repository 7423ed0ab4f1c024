"""One overage policy for every limit: caps use all four, a retainer refuses the two it
cannot apply, and the strings stored and carried over HTTP are the ones they always were."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from adapters.serialization import TermsRuleError, structure_obligations, unstructure
from domain import retainer, time_and_materials
from domain.errors import InvalidTermsError
from domain.ids import ObligationId, RateCardId
from domain.money import Currency
from domain.overage import OveragePolicy
from domain.retainer import RetainerTerms
from domain.time_and_materials import NotToExceed, TimeAndMaterialsTerms

EUR = Currency.of("EUR")
RETAINER = RetainerTerms(
    ObligationId("ret"),
    "Support",
    EUR,
    fee_per_period=Decimal("8000.00"),
    hours_per_period=Decimal(40),
    start=date(2026, 1, 1),
    overage_rate=Decimal("220.00"),
)


def test_caps_and_retainers_share_one_overage_policy() -> None:
    assert time_and_materials.OveragePolicy is OveragePolicy
    assert retainer.OveragePolicy is OveragePolicy
    assert [p.value for p in OveragePolicy] == ["bill", "hold", "write_off", "block"]


@pytest.mark.parametrize("policy", [OveragePolicy.WRITE_OFF, OveragePolicy.BLOCK])
def test_a_retainer_refuses_a_write_off_or_block_overage_policy(policy: OveragePolicy) -> None:
    with pytest.raises(InvalidTermsError, match=f"bill or hold, not {policy.value}"):
        attrs.evolve(RETAINER, overage_policy=policy)


@pytest.mark.parametrize("policy", [OveragePolicy.BILL, OveragePolicy.HOLD])
def test_a_retainer_bills_or_holds_its_overage(policy: OveragePolicy) -> None:
    assert attrs.evolve(RETAINER, overage_policy=policy).overage_policy is policy


@pytest.mark.parametrize("policy", list(OveragePolicy))
def test_a_cap_stores_each_policy_as_the_string_it_always_had(policy: OveragePolicy) -> None:
    terms = TimeAndMaterialsTerms(
        ObligationId("tm"), "T&M", EUR, RateCardId("rc"), cap=NotToExceed(Decimal(10), None, policy)
    )
    stored = unstructure(terms)
    assert stored["cap"]["policy"] == policy.value
    (loaded,) = structure_obligations([{"model": "time_and_materials", **stored}])
    assert loaded == terms


def test_a_retainer_reads_and_writes_bill_and_hold_as_before() -> None:
    for value in ("bill", "hold"):
        stored = {**unstructure(RETAINER), "overage_policy": value}
        (loaded,) = structure_obligations([{"model": "retainer", **stored}])
        assert loaded.overage_policy is OveragePolicy(value)
        assert unstructure(loaded)["overage_policy"] == value


def test_a_retainer_body_with_a_write_off_policy_is_refused_as_a_broken_rule() -> None:
    body = {"model": "retainer", **unstructure(RETAINER), "overage_policy": "write_off"}
    with pytest.raises(TermsRuleError) as refused:
        structure_obligations([body])
    assert "bill or hold, not write_off" in str(refused.value.problems)
