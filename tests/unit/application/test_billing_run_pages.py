"""A billing run reads its contracts' outlines a page at a time and its payers' tax profiles a
chunk at a time, and keeps its answer compact (ADR 0060, amendment of what a run holds per
document): wherever the pages and the chunks split the contracts, the run proposes, answers
and stores what a run in one piece does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from application.handlers import billing_run
from domain.ids import ContractId, CustomerId, EngagementId, ObligationId, RateCardId
from domain.money import Money
from domain.period import Period
from domain.split import ObligationPayers, Payer
from domain.tax import TaxProfile
from domain.time_and_materials import TimeAndMaterialsTerms
from tests.unit.application.conftest import CUSTOMER, ENTITY, EUR, App, time_entry
from tests.unit.application.test_billing_run_chunks import five_contracts

MARCH = Period.month(2026, 3)
GRANT = CustomerId("innovation-grant")
UNKNOWN = CustomerId("no-profile-payer")


def shared_contract(app: App, n: int, payers: tuple[Payer, ...]) -> None:
    """Contract C{n}, one T&M obligation whose hours its payers share, three days of time."""
    obligation, contract = ObligationId(f"tm{n}"), ContractId(f"C{n}")
    app.do(c.ProposeEngagement(EngagementId(f"E{n}"), CUSTOMER, contract), actor="crm")
    app.do(c.RegisterContract(contract, CUSTOMER, ENTITY, "EUR", f"Deal {n}"), actor="clm")
    terms = TimeAndMaterialsTerms(obligation, "Advisory", EUR, RateCardId("RC"))
    split = (ObligationPayers(obligation, payers),)
    app.do(c.DraftContractVersion(contract, date(2026, 1, 1), (terms,), payers=split), actor="clm")
    app.do(c.ApproveContractVersion(contract, 1), actor="legal")
    entries = tuple(
        time_entry(f"t{n}-{k}", date(2026, 3, k), f"{k}.5", obligation_id=obligation,
                   engagement_id=EngagementId(f"E{n}"))
        for k in range(2, 5)
    )  # fmt: skip
    app.do(c.RecordTimeEntries(entries))


def contracts_across_pages(app: App) -> None:
    """C1 to C5 as in the chunk tests; C35 won but never signed (its engagement is not
    billable, and it sits between C3 and C4); C6 shared with a grant paying a fixed amount,
    C7 with a payer the ERP holds no tax profile for (the run blocks it)."""
    five_contracts(app)
    app.do(c.ProposeEngagement(EngagementId("E35"), CUSTOMER, ContractId("C35")), actor="crm")
    app.do(c.RegisterContract(ContractId("C35"), CUSTOMER, ENTITY, "EUR", "Unsigned"), actor="clm")
    app.do(c.UpdateCustomerMaster(TaxProfile(GRANT, ENTITY, "VAT20")))
    fixed = Payer.fixed(GRANT, Money(Decimal("100.00"), EUR))
    shared_contract(app, 6, (fixed, Payer.percentage(CUSTOMER, "100")))
    shared_contract(app, 7, (Payer.percentage(UNKNOWN, "50"), Payer.percentage(CUSTOMER, "50")))


def answer(result: billing_run.BillingRunResult) -> tuple[object, ...]:
    return result.proposal, result.diff, result.skipped


@pytest.mark.parametrize("size", [1, 2, 3])
def test_a_run_paged_and_chunked_anywhere_proposes_what_a_run_in_one_piece_does(
    app: App, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    contracts_across_pages(app)
    whole = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert whole.skipped == ((ContractId("C35"), "engagement_proposed"),)
    assert [b.contract_id for b in whole.proposal.blocked] == ["C7"]
    assert {i.payer for i in whole.proposal.invoices if i.contract_id == "C6"} == {
        GRANT,
        CUSTOMER,
    }
    monkeypatch.setattr(billing_run, "CHUNK_CONTRACTS", size)
    paged = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert answer(paged) == answer(whole)
    assert paged.fingerprint == whole.fingerprint
    checked = c.RunBilling(MARCH, dry_run=False, expected_fingerprint=whole.fingerprint)
    committed = app.do(checked, actor="billing-clerk")
    assert answer(committed) == answer(whole)
    assert len(committed.invoice_ids) == len(whole.proposal.invoices) == 7
    assert app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal.is_empty
