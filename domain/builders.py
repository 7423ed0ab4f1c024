"""Builders: the objects an embedding program sets up most often, with sensible defaults.

Each builder does what the longer form does, in one call, and nothing else: a contract whose
first version is approved, time-and-materials terms priced by a rate card, time that arrives
and is approved, and the input of a billing run where every list the caller has no use for is
empty, nothing has been billed yet, and one tax rate stands for every customer's tax profile.
Ids may be given as plain strings; they are wrapped in their id types here (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.billing import BilledLedger
from domain.billing_run import BillingRunInput
from domain.contract import Contract
from domain.errors import InvalidTermsError
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
from domain.ratecard import RateCard
from domain.tax import TaxProfile, TaxRate, TaxRateTable
from domain.time_and_materials import (
    ExpensePolicy,
    IncrementRounding,
    NotToExceed,
    TimeAndMaterialsTerms,
)
from domain.time_entry import NO_TASK, ExpenseItem, TimeEntry


def approved_contract(
    contract_id: str,
    customer_id: str,
    legal_entity_id: str,
    obligations: Sequence[Any],
    effective_from: date,
    approved_by: str,
    at: datetime,
    currency: Currency | str | None = None,
    name: str = "",
) -> Contract:
    """A contract whose first version (the SOW) holds these obligations and is approved; its
    currency is the obligations' unless given."""
    if currency is None:
        currencies = {terms.currency for terms in obligations if hasattr(terms, "currency")}
        if len(currencies) != 1:
            raise InvalidTermsError(
                f"contract {contract_id}: pass its currency (the obligations name "
                f"{len(currencies)} currencies)"
            )
        (currency,) = currencies
    money = currency if isinstance(currency, Currency) else Currency.of(currency)
    contract = Contract(
        ContractId(contract_id),
        CustomerId(customer_id),
        LegalEntityId(legal_entity_id),
        money,
        name,
    )
    contract.draft_version(effective_from, obligations)
    contract.approve_version(1, by=approved_by, at=at)
    return contract


def time_and_materials_terms(
    obligation_id: str,
    name: str,
    rate_card: RateCard,
    *,
    billing_increment: Decimal | str | None = None,
    increment_rounding: IncrementRounding = IncrementRounding.UP,
    daily_cap_hours: Decimal | str | None = None,
    cap: NotToExceed | None = None,
    expenses: ExpensePolicy | None = None,
) -> TimeAndMaterialsTerms:
    """Time-and-materials terms priced by this rate card, in its currency."""
    return TimeAndMaterialsTerms(
        ObligationId(obligation_id),
        name,
        rate_card.currency,
        rate_card.rate_card_id,
        billing_increment=None if billing_increment is None else Decimal(billing_increment),
        increment_rounding=increment_rounding,
        daily_cap_hours=None if daily_cap_hours is None else Decimal(daily_cap_hours),
        cap=cap,
        expenses=expenses,
    )


def approved_time(
    entry_id: str,
    obligation_id: str,
    resource_id: str,
    role: str,
    work_date: date,
    hours: Decimal | str,
    approved_by: str,
    at: datetime,
    *,
    task_id: str = NO_TASK,
    billable: bool = True,
) -> TimeEntry:
    """A time entry submitted and then approved by `approved_by`: billable by the next run."""
    entry = TimeEntry.submit(
        TimeEntryId(entry_id),
        ObligationId(obligation_id),
        ResourceId(resource_id),
        Role(role),
        work_date,
        Decimal(hours),
        task_id=TaskId(task_id),
        billable=billable,
    )
    entry.approve(by=approved_by, at=at)
    return entry


def billing_input(
    period: Period | str,
    contracts: Contract | Iterable[Contract],
    *,
    rate_cards: Iterable[RateCard] | Mapping[RateCardId, RateCard] = (),
    time_entries: Iterable[TimeEntry] = (),
    expenses: Iterable[ExpenseItem] = (),
    milestones: Iterable[Milestone] = (),
    ledger: BilledLedger | None = None,
    tax: TaxRate | None = None,
    tax_profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile] | None = None,
    tax_rates: TaxRateTable | None = None,
    invoice_date: date | None = None,
) -> BillingRunInput:
    """The input of one run (`period` a Period or a month, "2026-03"): lists left out are
    empty, the ledger is empty unless given, and one `tax` rate taxes every contract's
    customer that has no profile of its own."""
    month = Period.parse_month(period) if isinstance(period, str) else period
    chosen = (contracts,) if isinstance(contracts, Contract) else tuple(contracts)
    cards = (
        dict(rate_cards)
        if isinstance(rate_cards, Mapping)
        else {card.rate_card_id: card for card in rate_cards}
    )
    profiles = dict(tax_profiles or {})
    rates = tuple(tax_rates.rates) if tax_rates is not None else ()
    if tax is not None:
        rates = (*rates, tax)
        for contract in chosen:
            key = (contract.customer_id, contract.legal_entity_id)
            profiles.setdefault(key, TaxProfile(key[0], key[1], tax.tax_code))
    return BillingRunInput(
        period=month,
        contracts=chosen,
        rate_cards=cards,
        time_entries=tuple(time_entries),
        expenses=tuple(expenses),
        milestones=tuple(milestones),
        ledger=ledger if ledger is not None else BilledLedger(),
        tax_profiles=profiles,
        tax_rates=TaxRateTable(rates),
        invoice_date=invoice_date,
    )
