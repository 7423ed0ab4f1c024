"""Rate-card changes under maker-checker: a proposed version prices nothing until someone other
than its proposer approves it; proposals publish in order; direct publication (data loads)
waits for pending proposals; a snapshot keeps proposals and approvals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.serialization import structure, unstructure
from domain.errors import (
    CurrencyMismatchError,
    ImmutableVersionError,
    MakerCheckerError,
    NoTermsInForceError,
)
from domain.ids import RateCardId, Role
from domain.money import Currency
from domain.ratecard import ProposalNotFoundError, RateCard, RateCardVersion

EUR = Currency.of("EUR")
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONSULTANT = Role("consultant")


def card() -> RateCard:
    return RateCard(RateCardId("RC"), "UK rates", EUR)


def version(number: int, rate: str = "100", effective: date = date(2026, 1, 1)) -> RateCardVersion:
    return RateCardVersion(number, effective, EUR, {CONSULTANT: Decimal(rate)})


def test_a_proposed_version_prices_nothing_until_approved() -> None:
    rc = card()
    rc.propose(version(1), "maker", AT)
    with pytest.raises(NoTermsInForceError):
        rc.rate_for(CONSULTANT, None, date(2026, 3, 1))
    assert [p.proposed_by for p in rc.proposals] == ["maker"]


def test_another_person_approves_and_the_version_is_published() -> None:
    rc = card()
    rc.propose(version(1, "120"), "maker", AT)
    published = rc.approve(1, "checker", LATER)
    assert published == version(1, "120")
    assert rc.proposals == []
    assert rc.rate_for(CONSULTANT, None, date(2026, 3, 1))[0].amount == Decimal("120")
    approval = rc.approval_of(1)
    assert approval is not None
    assert (approval.proposed_by, approval.approved_by, approval.approved_at) == (
        "maker",
        "checker",
        LATER,
    )


def test_the_proposer_cannot_approve_their_own_version() -> None:
    rc = card()
    rc.propose(version(1), "maker", AT)
    with pytest.raises(MakerCheckerError, match="maker proposed version 1"):
        rc.approve(1, "maker", LATER)
    assert rc.versions == []
    assert len(rc.proposals) == 1


def test_proposals_are_numbered_after_published_and_pending_versions() -> None:
    rc = card()
    rc.publish(version(1))
    assert rc.next_version_number == 2
    rc.propose(version(2, "110"), "maker", AT)
    assert rc.next_version_number == 3
    with pytest.raises(ImmutableVersionError, match="expects its next version to be 3"):
        rc.propose(version(2, "999"), "maker", AT)
    with pytest.raises(ImmutableVersionError, match="expects its next version to be 3"):
        rc.propose(version(1, "999"), "maker", AT)


def test_proposals_publish_in_the_order_proposed() -> None:
    rc = card()
    rc.propose(version(1, "100"), "maker", AT)
    rc.propose(version(2, "110", date(2026, 6, 1)), "maker", AT)
    with pytest.raises(ImmutableVersionError, match="approve version 1 before version 2"):
        rc.approve(2, "checker", LATER)
    rc.approve(1, "checker", LATER)
    rc.approve(2, "checker", LATER)
    assert [v.version for v in rc.versions] == [1, 2]
    assert rc.rate_for(CONSULTANT, None, date(2026, 6, 1))[0].amount == Decimal("110")


def test_approving_what_was_never_proposed_or_is_already_published_is_refused() -> None:
    rc = card()
    rc.propose(version(1), "maker", AT)
    rc.approve(1, "checker", LATER)
    with pytest.raises(ImmutableVersionError, match="already published"):
        rc.approve(1, "checker", LATER)
    with pytest.raises(ProposalNotFoundError, match="no proposed version 7"):
        rc.approve(7, "checker", LATER)


def test_a_proposal_in_another_currency_is_refused() -> None:
    rc = card()
    gbp = RateCardVersion(1, date(2026, 1, 1), Currency.of("GBP"), {CONSULTANT: Decimal(90)})
    with pytest.raises(CurrencyMismatchError):
        rc.propose(gbp, "maker", AT)
    assert rc.proposals == []


def test_direct_publication_waits_for_pending_proposals() -> None:
    rc = card()
    rc.propose(version(1), "maker", AT)
    with pytest.raises(ImmutableVersionError, match="waiting for approval"):
        rc.publish(version(1, "130"))
    assert rc.versions == []


def test_each_proposal_and_approval_counts_as_a_revision() -> None:
    rc = card()
    rc.propose(version(1), "maker", AT)
    rc.approve(1, "checker", LATER)
    assert rc.revision == 2


def test_a_snapshot_keeps_proposals_and_approvals() -> None:
    rc = card()
    rc.propose(version(1), "maker", AT)
    rc.approve(1, "checker", LATER)
    rc.propose(version(2, "140", date(2026, 7, 1)), "maker2", LATER)
    data = unstructure(rc, RateCard)
    back = structure(data, RateCard)
    assert back.versions == rc.versions
    assert back.proposals == rc.proposals
    assert back.approvals == rc.approvals
    assert data["proposals"][0]["proposed_by"] == "maker2"


def test_a_snapshot_written_before_proposals_existed_still_loads() -> None:
    data = unstructure(card(), RateCard)
    del data["proposals"], data["approvals"]
    back = structure(data, RateCard)
    assert (back.proposals, back.approvals) == ([], [])
