"""Master data a deal needs before setup: what blocks it, which tax profile billing uses, the
shape of payment terms and VAT ids, and the states from which a setup may run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.engagement import Engagement, EngagementState
from domain.errors import IllegalTransitionError
from domain.ids import ContractId, CustomerId, EngagementId
from domain.master_data import (
    MAX_PAYMENT_TERMS_DAYS,
    MasterDataFacts,
    billing_tax_profile,
    payment_terms_acceptable,
    setup_gaps,
    vat_id_shaped,
)

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_customer_without_a_record_blocks_the_setup() -> None:
    assert setup_gaps(MasterDataFacts.without_record(), "EUR") == ("customer",)


def test_a_tax_profile_pushed_alone_does_not_make_up_for_a_missing_record() -> None:
    facts = MasterDataFacts.without_record(tax_profile_pushed=True)
    assert setup_gaps(facts, "EUR") == ("customer",)


def test_a_complete_record_in_the_signed_currency_lets_the_setup_go_on() -> None:
    assert setup_gaps(MasterDataFacts((), "EUR"), "EUR") == ()


def test_every_missing_field_is_named_in_the_order_the_record_gives() -> None:
    facts = MasterDataFacts(("currency", "tax_profile", "billing_address"), None)
    assert setup_gaps(facts, "EUR") == ("currency", "tax_profile", "billing_address")


def test_a_tax_profile_pushed_alone_stands_in_for_a_record_without_a_tax_code() -> None:
    facts = MasterDataFacts(("tax_profile",), "EUR", tax_profile_pushed=True)
    assert setup_gaps(facts, "EUR") == ()


def test_a_record_in_another_currency_than_the_contract_blocks_the_setup() -> None:
    assert setup_gaps(MasterDataFacts((), "GBP"), "EUR") == (
        "currency (GBP in the ERP, EUR signed)",
    )


def test_missing_fields_are_reported_before_a_currency_mismatch() -> None:
    facts = MasterDataFacts(("billing_address",), "GBP")
    assert setup_gaps(facts, "EUR") == ("billing_address",)


def test_the_records_own_tax_profile_wins_over_one_pushed_alone() -> None:
    assert billing_tax_profile("from the record", "pushed") == "from the record"
    assert billing_tax_profile(None, "pushed") == "pushed"
    assert billing_tax_profile(None, None) is None


@pytest.mark.parametrize(
    ("days", "acceptable"),
    [
        (None, False),
        (-1, False),
        (0, True),
        (30, True),
        (MAX_PAYMENT_TERMS_DAYS, True),
        (366, False),
    ],
)
def test_payment_terms_run_from_zero_to_365_days(days: int | None, acceptable: bool) -> None:
    assert payment_terms_acceptable(days) is acceptable


@pytest.mark.parametrize(
    ("vat_id", "shaped"),
    [(None, True), ("GB123456789", True), ("DE-123", True), ("123456789", False), ("G1", False)],
)
def test_a_vat_id_starts_with_its_country_prefix(vat_id: str | None, shaped: bool) -> None:
    assert vat_id_shaped(vat_id) is shaped


def engagement_in(state: EngagementState) -> Engagement:
    return Engagement(EngagementId("E1"), CustomerId("acme"), ContractId("C1"), state)


@pytest.mark.parametrize(
    "state",
    [EngagementState.CONTRACTED, EngagementState.SETUP_BLOCKED, EngagementState.PROVISIONING],
)
def test_setup_is_claimed_from_contracted_blocked_or_provisioning(state: EngagementState) -> None:
    engagement = engagement_in(state)
    engagement.claim_setup(AT)
    assert engagement.state is EngagementState.PROVISIONING


def test_claiming_a_setup_already_provisioning_records_no_second_move() -> None:
    engagement = engagement_in(EngagementState.PROVISIONING)
    engagement.claim_setup(AT)
    assert (engagement.revision, engagement.events) == (0, [])


@pytest.mark.parametrize(
    "state",
    [
        EngagementState.PROPOSED,
        EngagementState.ACTIVE,
        EngagementState.SUSPENDED,
        EngagementState.CLOSING,
        EngagementState.CLOSED,
        EngagementState.CANCELLED,
    ],
)
def test_nothing_is_provisioned_before_approval_or_once_the_engagement_has_moved_on(
    state: EngagementState,
) -> None:
    with pytest.raises(IllegalTransitionError, match="setup runs once its contract version"):
        engagement_in(state).claim_setup(AT)
