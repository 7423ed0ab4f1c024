"""Small builders shared by the billing tests: the domain's own builders (domain/builders.py)
with the tests' customer, legal entity, approvers and tax rates filled in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain import ids
from domain.accounting_period import PeriodLock
from domain.billing import BilledLedger
from domain.billing_run import BillingProposal, InvoiceProposal, run_billing
from domain.builders import approved_contract, approved_time, billing_input
from domain.contract import Contract
from domain.invoice import Invoice
from domain.milestone import Milestone
from domain.money import Currency
from domain.period import Period
from domain.ratecard import RateCard, RateCardVersion
from domain.tax import TaxProfile, TaxRate, TaxRateTable
from domain.time_entry import ExpenseItem, TimeEntry

AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CUSTOMER = ids.CustomerId("acme")
ENTITY = ids.LegalEntityId("tl-uk")
VAT = "VAT20"
OPEN = PeriodLock()
EUR = Currency.of("EUR")
MARCH = Period.month(2026, 3)
APRIL = Period.month(2026, 4)
#: The obligation `entry` books time on unless told otherwise.
TM = ids.ObligationId("tm")
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
    card = RateCard(ids.RateCardId(card_id), f"{card_id} rates", Currency.of(currency))
    for n, (effective, rates) in enumerate(versions, 1):
        card.publish(
            RateCardVersion(
                n,
                effective,
                Currency.of(currency),
                {ids.Role(k): Decimal(v) for k, v in rates.items()},
                {ids.ResourceId(k): Decimal(v) for k, v in (overrides or {}).items()}
                if n == 1
                else {},
            )
        )
    return card


def contract(
    obligations: Sequence[Any],
    currency: str = "EUR",
    effective: date = date(2026, 1, 1),
    contract_id: str = "C1",
    customer: ids.CustomerId = CUSTOMER,
) -> Contract:
    return approved_contract(
        contract_id, customer, ENTITY, obligations, effective, "legal", AT, currency, "Program"
    )


def entry(
    entry_id: str,
    day: date,
    hours: str,
    obligation: str = "tm",
    role: str = "consultant",
    resource: str = "r1",
    billable: bool = True,
) -> TimeEntry:
    return approved_time(
        entry_id, obligation, resource, role, day, hours, "psa", AT, task_id="T1", billable=billable
    )


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
        billing_input(
            period,
            contracts,
            rate_cards=cards,
            time_entries=entries,
            expenses=expenses,
            milestones=milestones,
            ledger=ledger,
            tax_profiles=profiles,
            tax_rates=TAX_RATES,
        )
    )


def committed(ledger: BilledLedger | None, proposal: BillingProposal) -> BilledLedger:
    """The ledger after committing a proposal exactly as previewed."""
    return (ledger or BilledLedger()).plus(proposal.ledger_entries())


def issued_invoice(
    draft: InvoiceProposal,
    invoice_id: str,
    number: str,
    on: date = date(2026, 3, 31),
) -> Invoice:
    """The run's proposal drafted as an invoice by the billing clerk, approved by the finance
    lead and issued `on`, in an open period."""
    invoice = Invoice.from_proposal(invoice_id, draft, "billing-clerk", AT)
    invoice.approve("finance-lead", AT)
    invoice.issue(number, on, AT, OPEN)
    return invoice
