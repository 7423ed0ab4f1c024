"""Small builders shared by the billing tests: they only assemble domain objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.billing import BilledLedger
from domain.billing_run import BillingProposal, BillingRunInput, run_billing
from domain.contract import Contract
from domain.ids import (
    ContractId,
    CustomerId,
    LegalEntityId,
    ObligationId,
    RateCardId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.milestone import Milestone
from domain.money import Currency
from domain.period import Period
from domain.ratecard import RateCard, RateCardVersion
from domain.tax import TaxProfile, TaxRate, TaxRateTable
from domain.time_entry import ExpenseItem, TimeEntry

AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CUSTOMER = CustomerId("acme")
ENTITY = LegalEntityId("tl-uk")
VAT = "VAT20"
TAX_RATES = TaxRateTable(
    (
        TaxRate(VAT, date(2020, 1, 1), Decimal("0.20")),
        TaxRate("NONE", date(2020, 1, 1), Decimal("0")),
    )
)


def d(text: str) -> Decimal:
    return Decimal(text)


def rate_card(
    currency: str = "EUR",
    versions: Sequence[tuple[date, dict[str, str]]] = ((date(2026, 1, 1), {"consultant": "100"}),),
    card_id: str = "RC",
    overrides: dict[str, str] | None = None,
) -> RateCard:
    card = RateCard(RateCardId(card_id), f"{card_id} rates", Currency.of(currency))
    for n, (effective, rates) in enumerate(versions, 1):
        card.publish(
            RateCardVersion(
                n,
                effective,
                Currency.of(currency),
                {Role(k): Decimal(v) for k, v in rates.items()},
                {ResourceId(k): Decimal(v) for k, v in (overrides or {}).items()} if n == 1 else {},
            )
        )
    return card


def contract(
    obligations: Sequence[Any],
    currency: str = "EUR",
    effective: date = date(2026, 1, 1),
    contract_id: str = "C1",
    customer: CustomerId = CUSTOMER,
) -> Contract:
    c = Contract(ContractId(contract_id), customer, ENTITY, Currency.of(currency), "Program")
    c.draft_version(effective, obligations)
    c.approve_version(1, "legal", AT)
    return c


def entry(
    entry_id: str,
    day: date,
    hours: str,
    obligation: str = "tm",
    role: str = "consultant",
    resource: str = "r1",
    billable: bool = True,
) -> TimeEntry:
    e = TimeEntry.submit(
        TimeEntryId(entry_id),
        ObligationId(obligation),
        ResourceId(resource),
        Role(role),
        day,
        Decimal(hours),
        task_id=TaskId("T1"),
        billable=billable,
    )
    e.approve("psa", AT)
    return e


def run(
    period: Period,
    contracts: Iterable[Contract],
    cards: Iterable[RateCard] = (),
    entries: Iterable[TimeEntry] = (),
    expenses: Iterable[ExpenseItem] = (),
    milestones: Iterable[Milestone] = (),
    ledger: BilledLedger | None = None,
    profile: TaxProfile | None = None,
) -> BillingProposal:
    contracts = tuple(contracts)
    profiles = {}
    for c in contracts:
        p = profile or TaxProfile(c.customer_id, c.legal_entity_id, VAT)
        profiles[(c.customer_id, c.legal_entity_id)] = p
        for payer_id in c.payer_ids()[1:]:  # split billing: every other payer, its own profile
            profiles[(payer_id, c.legal_entity_id)] = TaxProfile(payer_id, c.legal_entity_id, VAT)
    return run_billing(
        BillingRunInput(
            period=period,
            contracts=contracts,
            rate_cards={c.rate_card_id: c for c in cards},
            time_entries=tuple(entries),
            expenses=tuple(expenses),
            milestones=tuple(milestones),
            ledger=ledger or BilledLedger(),
            tax_profiles=profiles,
            tax_rates=TAX_RATES,
        )
    )


def committed(ledger: BilledLedger | None, proposal: BillingProposal) -> BilledLedger:
    """The ledger after committing a proposal exactly as previewed."""
    return (ledger or BilledLedger()).plus(proposal.ledger_entries())
