"""What a billing run does with contracts a committed run left settled (ADR 0048): they are
only checked for what blocks them, and a committed proposal settles only what it billed in
full."""

from __future__ import annotations

from datetime import date

from domain.billing import BilledLedger
from domain.billing_run import BillingRunInput, run_billing
from domain.ids import ObligationId, RateCardId
from domain.overage import OveragePolicy
from domain.tax import TaxProfile
from domain.time_and_materials import NotToExceed, TimeAndMaterialsTerms
from tests.support.builders import EUR, MARCH, TAX_RATES, VAT, contract, d, entry, rate_card, run


def tm(obligation: str = "tm", cap: NotToExceed | None = None) -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(ObligationId(obligation), "Build", EUR, RateCardId("RC"), cap=cap)


def test_a_settled_contract_is_not_billed_again_but_still_reported_blocked() -> None:
    settled = contract([tm()])
    hours = (entry("t1", date(2026, 3, 2), "8"),)
    with_profile = {(settled.customer_id, settled.legal_entity_id): TaxProfile(
        settled.customer_id, settled.legal_entity_id, VAT
    )}  # fmt: skip
    cards = {RateCardId("RC"): rate_card()}
    nothing = {"expenses": (), "milestones": (), "ledger": BilledLedger()}
    checked = run_billing(
        BillingRunInput(period=MARCH, contracts=(), rate_cards=cards, time_entries=hours,
                        **nothing, tax_profiles=with_profile, tax_rates=TAX_RATES,
                        settled=(settled,))
    )  # fmt: skip
    assert checked.is_empty
    assert checked.blocked == ()
    unprofiled = run_billing(
        BillingRunInput(
            period=MARCH,
            contracts=(),
            rate_cards=cards,
            time_entries=hours,
            **nothing,
            tax_profiles={},
            tax_rates=TAX_RATES,
            settled=(settled,),
        )
    )
    assert [b.reason for b in unprofiled.blocked] == ["missing_tax_profile"]


def test_a_proposal_settles_the_obligations_it_billed_in_full_and_no_others() -> None:
    billed = contract([tm("tm")], contract_id="C1")
    capped = contract(
        [tm("capped", NotToExceed(hours=d("5"), policy=OveragePolicy.HOLD))], contract_id="C2"
    )
    hours = (entry("t1", date(2026, 3, 2), "8"), entry("t2", date(2026, 3, 2), "8", "capped"))
    proposal = run(MARCH, [billed, capped], [rate_card()], hours)
    assert [x.obligation_id for x in proposal.exclusions] == ["capped"]
    assert proposal.settled_obligations([billed, capped]) == ["tm"]
