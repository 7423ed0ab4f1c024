"""A rate-card amendment is the rates that change from a date: the new version is the one in
force on that date plus the changes, so every rate it does not name stays, and work dated
before it keeps the rates it had."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import domain as tl
from domain.errors import InvalidTermsError, RateNotFoundError
from domain.ids import ResourceId, Role

NOW = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
JAN = date(2026, 1, 1)
VAT = tl.TaxRate("VAT", JAN, Decimal("0.19"))
CONSULTANT, MANAGER, ARCHITECT = Role("consultant"), Role("manager"), Role("architect")
ANA = ResourceId("ana")


def card() -> tl.RateCard:
    return tl.RateCard.with_rates(
        "emea", "EUR", JAN, {"consultant": "120.00", "manager": "165.50"}, {"ana": "130.00"}
    )


def rate(rates: tl.RateCard, role: Role, on: date, resource: ResourceId | None = None) -> Decimal:
    return rates.rate_for(role, resource, on)[0].amount


def test_an_amendment_that_lists_one_role_keeps_every_other_roles_rate() -> None:
    rates = card()
    rates.publish(rates.amend(date(2026, 4, 1), role_rates={MANAGER: Decimal("175.00")}))
    april = date(2026, 4, 1)
    assert rate(rates, MANAGER, april) == Decimal("175.00")
    assert rate(rates, CONSULTANT, april) == Decimal("120.00")
    assert rate(rates, CONSULTANT, april, ANA) == Decimal("130.00")
    assert rate(rates, MANAGER, date(2026, 3, 31)) == Decimal("165.50")


def test_an_amendment_is_only_a_version_until_it_is_published_or_approved() -> None:
    rates = card()
    amended = rates.amend(date(2026, 4, 1), role_rates={MANAGER: Decimal("175.00")})
    assert (amended.version, len(rates.versions), rates.revision) == (2, 1, 1)
    rates.propose(amended, by="fran", at=NOW)
    with pytest.raises(tl.MakerCheckerError):
        rates.approve(2, by="fran", at=NOW)
    rates.approve(2, by="alex", at=NOW)
    assert rate(rates, CONSULTANT, date(2026, 5, 1)) == Decimal("120.00")


def test_an_amendment_adds_a_role_removes_another_and_ends_an_override() -> None:
    rates = card()
    rates.publish(
        rates.amend(
            date(2026, 6, 1),
            role_rates={ARCHITECT: Decimal("190.00")},
            removed_roles=[MANAGER],
            removed_overrides=[ANA],
        )
    )
    june = date(2026, 6, 1)
    assert rate(rates, ARCHITECT, june) == Decimal("190.00")
    assert rate(rates, CONSULTANT, june, ANA) == Decimal("120.00")
    with pytest.raises(RateNotFoundError):
        rates.rate_for(MANAGER, None, june)
    assert rate(rates, MANAGER, date(2026, 5, 31)) == Decimal("165.50")


def test_an_amendment_starts_from_the_version_in_force_on_its_date_proposals_included() -> None:
    rates = card()
    rates.publish(rates.amend(date(2026, 7, 1), role_rates={CONSULTANT: Decimal("140.00")}))
    waiting = rates.amend(date(2026, 8, 1), role_rates={MANAGER: Decimal("180.00")})
    rates.propose(waiting, by="fran", at=NOW)
    # From 1 September the base is the waiting proposal (August), which carries July's change.
    after = rates.amend(date(2026, 9, 1), role_rates={ARCHITECT: Decimal("200.00")})
    assert after.version == 4
    assert dict(after.role_rates) == {
        CONSULTANT: Decimal("140.00"),
        MANAGER: Decimal("180.00"),
        ARCHITECT: Decimal("200.00"),
    }
    # From March the base is the January version: July's change is not in force yet.
    march = rates.amend(date(2026, 3, 1), role_rates={ARCHITECT: Decimal("200.00")})
    assert march.role_rates[CONSULTANT] == Decimal("120.00")


def change_request_on(rates: tl.RateCard) -> tl.Contract:
    """acme's contract C-1, approved from January: change request cr-1 billed at `rates`."""
    terms = tl.time_and_materials_terms("cr-1", "Change request 1", rates)
    return tl.approved_contract("C-1", "acme", "tl-de", [terms], JAN, "legal", NOW)


def worked(entry_id: str, who: str, role: str, day: date, hours: str) -> tl.TimeEntry:
    """Time on change request cr-1, approved by the lead."""
    return tl.approved_time(entry_id, "cr-1", who, role, day, hours, "lead", NOW)


def test_an_amendment_from_a_past_date_re_rates_only_work_on_or_after_it() -> None:
    rates = card()
    contract = change_request_on(rates)
    work = [
        worked("t-1", "ben", "manager", date(2026, 3, 2), "2"),
        worked("t-2", "ben", "manager", date(2026, 3, 16), "2"),
        worked("t-3", "cy", "consultant", date(2026, 3, 20), "1"),
    ]
    # Entered on 31 March, in force from 16 March: the manager rate only.
    rates.publish(rates.amend(date(2026, 3, 16), role_rates={MANAGER: Decimal("170.00")}))
    run = tl.billing_input("2026-03", contract, rate_cards=[rates], time_entries=work, tax=VAT)
    (invoice,) = tl.run_billing(run).raise_if_blocked().invoices
    by_entry = {str(a.source): a.amount.amount for line in invoice.lines for a in line.allocations}
    assert by_entry == {
        "time_entry:t-1": Decimal("331.00"),  # 2 h x 165.50, dated before the amendment
        "time_entry:t-2": Decimal("340.00"),  # 2 h x 170.00
        "time_entry:t-3": Decimal("120.00"),  # the consultant keeps 120.00
    }


def test_an_amendment_before_any_version_is_the_rates_it_lists() -> None:
    rates = tl.RateCard(tl.RateCardId("new"), "New", tl.Currency.of("EUR"))
    first = rates.amend(JAN, role_rates={CONSULTANT: Decimal("100.00")})
    assert (first.version, dict(first.role_rates)) == (1, {CONSULTANT: Decimal("100.00")})


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({}, "changes at least one rate"),
        ({"removed_roles": [ARCHITECT]}, "removes role 'architect', but version 1 has none"),
        ({"removed_overrides": [ResourceId("bob")]}, "resource override 'bob'"),
        (
            {"role_rates": {MANAGER: Decimal(1)}, "removed_roles": [MANAGER]},
            "both sets and removes role 'manager'",
        ),
    ],
)
def test_an_amendment_that_cannot_apply_is_refused_and_changes_nothing(
    changes: dict[str, object], says: str
) -> None:
    rates = card()
    with pytest.raises(InvalidTermsError, match=says):
        rates.amend(date(2026, 4, 1), **changes)
    assert (len(rates.versions), rates.proposals, rates.revision) == (1, [], 1)


def test_a_missing_rate_names_the_card_the_role_the_date_and_the_version() -> None:
    with pytest.raises(RateNotFoundError) as refused:
        card().rate_for(ARCHITECT, None, date(2026, 3, 5))
    assert str(refused.value) == (
        "rate card emea has no rate for role 'architect' on 2026-03-05 (version 1, in force "
        "from 2026-01-01): add the role with an amendment effective on or before 2026-03-05"
    )


def test_a_past_amendment_adjusts_only_billed_work_on_or_after_its_date() -> None:
    rates = card()
    contract = change_request_on(rates)
    work = [
        worked("t-1", "ben", "manager", date(2026, 3, 2), "2"),
        worked("t-2", "ben", "manager", date(2026, 3, 20), "2"),
    ]
    march = tl.billing_input("2026-03", contract, rate_cards=[rates], time_entries=work, tax=VAT)
    billed = march.ledger.plus(tl.run_billing(march).raise_if_blocked().ledger_entries())
    rates.publish(rates.amend(date(2026, 3, 16), role_rates={MANAGER: Decimal("170.00")}))
    april = tl.billing_input(
        "2026-04", contract, rate_cards=[rates], time_entries=work, tax=VAT, ledger=billed
    )
    proposal = tl.run_billing(april).raise_if_blocked()
    assert proposal.invoices == ()
    (debit,) = proposal.adjustments
    (line,) = debit.lines
    assert [str(a.source) for a in line.allocations] == ["time_entry:t-2"]
    assert line.amount.amount == Decimal("9.00")  # 2 h x (170.00 - 165.50)
