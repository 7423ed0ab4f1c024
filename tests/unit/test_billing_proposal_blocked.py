"""A billing run says plainly why it could not bill a contract, and a caller who wants an
exception gets one that names every blocked contract and what to fix."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import domain as tl

NOW = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
JAN = date(2026, 1, 1)
VAT = tl.TaxRate("VAT", JAN, Decimal("0.19"))


def rates() -> tl.RateCard:
    return tl.RateCard.with_rates("emea", "EUR", JAN, {"consultant": "120.00"})


def contract(contract_id: str, customer: str, card: tl.RateCard) -> tl.Contract:
    terms = tl.time_and_materials_terms(f"{contract_id}-tm", "Advisory", card)
    return tl.approved_contract(contract_id, customer, "tl-de", [terms], JAN, "legal", NOW)


def hours(entry_id: str, contract_id: str, role: str, day: int) -> tl.TimeEntry:
    return tl.approved_time(
        entry_id, f"{contract_id}-tm", "ben", role, date(2026, 3, day), "2", "lead", NOW
    )


def blocked_run() -> tl.BillingProposal:
    """C-1 bills a manager the rate card does not price; C-2's customer has no tax profile."""
    card = rates()
    acme, globex = contract("C-1", "acme", card), contract("C-2", "globex", card)
    key = (acme.customer_id, acme.legal_entity_id)
    profiles = {key: tl.TaxProfile(*key, "VAT")}
    run = tl.billing_input(
        "2026-03",
        [acme, globex],
        rate_cards=[card],
        time_entries=[hours("t-1", "C-1", "manager", 5), hours("t-2", "C-2", "consultant", 6)],
        tax_profiles=profiles,
        tax_rates=tl.TaxRateTable((VAT,)),
    )
    return tl.run_billing(run)


def test_each_blocked_contract_has_a_reason_code_and_a_sentence_naming_what_to_fix() -> None:
    rate_gap, no_profile = blocked_run().blocked
    assert (rate_gap.contract_id, rate_gap.reason) == ("C-1", "rate_not_found")
    assert rate_gap.detail == (
        "rate card emea has no rate for role 'manager' on 2026-03-05 (version 1, in force from "
        "2026-01-01): add the role with an amendment effective on or before 2026-03-05"
    )
    assert (no_profile.contract_id, no_profile.reason) == ("C-2", "missing_tax_profile")
    assert "customer globex has no tax profile with legal entity tl-de" in no_profile.detail


def test_raise_if_blocked_names_every_blocked_contract_and_the_missing_rate() -> None:
    proposal = blocked_run()
    with pytest.raises(tl.BillingBlockedError) as refused:
        proposal.raise_if_blocked()
    error = refused.value
    assert error.code == "billing_blocked"
    assert error.blocked == proposal.blocked
    message = str(error)
    assert message.startswith("the billing run for 2026-03 blocked 2 contracts: ")
    assert "contract C-1 blocked [rate_not_found]: rate card emea has no rate for role " in message
    assert "'manager' on 2026-03-05" in message
    assert "contract C-2 blocked [missing_tax_profile]: customer globex" in message
    assert isinstance(error, tl.DomainError)
    copied = pickle.loads(pickle.dumps(error))  # e.g. handed to another process
    assert (str(copied), copied.blocked) == (message, error.blocked)


def test_a_run_that_blocked_nothing_is_returned_by_raise_if_blocked() -> None:
    card = rates()
    acme = contract("C-1", "acme", card)
    work = [hours("t-1", "C-1", "consultant", 5)]
    run = tl.billing_input("2026-03", acme, rate_cards=[card], time_entries=work, tax=VAT)
    proposal = tl.run_billing(run)
    assert proposal.raise_if_blocked() is proposal
    assert len(proposal.invoices) == 1


def test_str_and_repr_of_a_proposal_make_the_gap_visible() -> None:
    proposal = blocked_run()
    shown = str(proposal)
    assert shown.splitlines()[0] == (
        "billing proposal 2026-03: 0 invoice(s), 0 adjustment(s), 0 exclusion(s), 2 blocked"
    )
    assert "  contract C-1 blocked [rate_not_found]: rate card emea" in shown
    assert "reason='missing_tax_profile'" in repr(proposal)
    assert str(proposal.blocked[0]).startswith("contract C-1 blocked [rate_not_found]: ")
