"""Throughline's domain: contract-to-cash billing rules, in memory, with no I/O.

The names below are the public API for a program that embeds the domain (ADR 0032): the terms
of each billing model, contracts, rate cards, time and expenses, the billing run, its input
builders and proposal, invoices and credit memos, money, periods, ids and the errors worth
catching. Everything else stays reachable by its module path, without a promise.

Importing `domain` loads nothing else: each name is imported from its module on first use, so
`import domain.money` stays as cheap as it was, and the modules of the package, which import
each other by module path, never go through this file.

    import domain as tl
    proposal = tl.run_billing(tl.billing_input(period, contract, rate_cards=[card], ...))
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.accounting_period import PeriodLock
    from domain.billing import BilledLedger
    from domain.billing_run import (
        AdjustmentProposal,
        BillingBlockedError,
        BillingProposal,
        BillingRunInput,
        BlockedContract,
        InvoiceProposal,
        run_billing,
    )
    from domain.builders import (
        approved_contract,
        approved_time,
        billing_input,
        time_and_materials_terms,
    )
    from domain.contract import Contract
    from domain.credit_memo import CreditMemo, CreditRequest
    from domain.errors import (
        CapExceededError,
        CurrencyMismatchError,
        DomainError,
        IllegalTransitionError,
        InvalidTermsError,
        MakerCheckerError,
        NoTermsInForceError,
        OverCreditError,
        PeriodClosedError,
        RateNotFoundError,
    )
    from domain.expenses import ExpensePolicy
    from domain.fixed_fee import FixedFeeTerms, Installment
    from domain.ids import (
        ContractId,
        CreditMemoId,
        CustomerId,
        ExpenseId,
        InstallmentId,
        InvoiceId,
        LegalEntityId,
        MilestoneId,
        ObligationId,
        PaymentId,
        RateCardId,
        ResourceId,
        Role,
        TaskId,
        TimeEntryId,
    )
    from domain.invoice import Invoice
    from domain.milestone import Milestone
    from domain.milestone_billing import MilestoneSpec, MilestoneTerms
    from domain.money import Currency, Money
    from domain.overage import OveragePolicy
    from domain.period import Period
    from domain.ratecard import RateCard, RateCardVersion
    from domain.recurring import RecurringTerms
    from domain.retainer import RetainerTerms
    from domain.tax import TaxProfile, TaxRate, TaxRateTable
    from domain.time_and_materials import IncrementRounding, NotToExceed, TimeAndMaterialsTerms
    from domain.time_entry import ExpenseItem, TimeEntry

#: Where each public name lives.
_HOMES: dict[str, str] = {
    "Currency": "domain.money",
    "Money": "domain.money",
    "Period": "domain.period",
    "ContractId": "domain.ids",
    "CreditMemoId": "domain.ids",
    "CustomerId": "domain.ids",
    "ExpenseId": "domain.ids",
    "InstallmentId": "domain.ids",
    "InvoiceId": "domain.ids",
    "LegalEntityId": "domain.ids",
    "MilestoneId": "domain.ids",
    "ObligationId": "domain.ids",
    "PaymentId": "domain.ids",
    "RateCardId": "domain.ids",
    "ResourceId": "domain.ids",
    "Role": "domain.ids",
    "TaskId": "domain.ids",
    "TimeEntryId": "domain.ids",
    "Contract": "domain.contract",
    "ExpensePolicy": "domain.expenses",
    "IncrementRounding": "domain.time_and_materials",
    "NotToExceed": "domain.time_and_materials",
    "TimeAndMaterialsTerms": "domain.time_and_materials",
    "OveragePolicy": "domain.overage",
    "FixedFeeTerms": "domain.fixed_fee",
    "Installment": "domain.fixed_fee",
    "MilestoneSpec": "domain.milestone_billing",
    "MilestoneTerms": "domain.milestone_billing",
    "RetainerTerms": "domain.retainer",
    "RecurringTerms": "domain.recurring",
    "RateCard": "domain.ratecard",
    "RateCardVersion": "domain.ratecard",
    "ExpenseItem": "domain.time_entry",
    "TimeEntry": "domain.time_entry",
    "Milestone": "domain.milestone",
    "BilledLedger": "domain.billing",
    "TaxProfile": "domain.tax",
    "TaxRate": "domain.tax",
    "TaxRateTable": "domain.tax",
    "AdjustmentProposal": "domain.billing_run",
    "BillingBlockedError": "domain.billing_run",
    "BillingProposal": "domain.billing_run",
    "BillingRunInput": "domain.billing_run",
    "BlockedContract": "domain.billing_run",
    "InvoiceProposal": "domain.billing_run",
    "run_billing": "domain.billing_run",
    "approved_contract": "domain.builders",
    "approved_time": "domain.builders",
    "billing_input": "domain.builders",
    "time_and_materials_terms": "domain.builders",
    "Invoice": "domain.invoice",
    "CreditMemo": "domain.credit_memo",
    "CreditRequest": "domain.credit_memo",
    "PeriodLock": "domain.accounting_period",
    "CapExceededError": "domain.errors",
    "CurrencyMismatchError": "domain.errors",
    "DomainError": "domain.errors",
    "IllegalTransitionError": "domain.errors",
    "InvalidTermsError": "domain.errors",
    "MakerCheckerError": "domain.errors",
    "NoTermsInForceError": "domain.errors",
    "OverCreditError": "domain.errors",
    "PeriodClosedError": "domain.errors",
    "RateNotFoundError": "domain.errors",
}

__all__ = [
    "AdjustmentProposal",
    "BilledLedger",
    "BillingBlockedError",
    "BillingProposal",
    "BillingRunInput",
    "BlockedContract",
    "CapExceededError",
    "Contract",
    "ContractId",
    "CreditMemo",
    "CreditMemoId",
    "CreditRequest",
    "Currency",
    "CurrencyMismatchError",
    "CustomerId",
    "DomainError",
    "ExpenseId",
    "ExpenseItem",
    "ExpensePolicy",
    "FixedFeeTerms",
    "IllegalTransitionError",
    "IncrementRounding",
    "Installment",
    "InstallmentId",
    "InvalidTermsError",
    "Invoice",
    "InvoiceId",
    "InvoiceProposal",
    "LegalEntityId",
    "MakerCheckerError",
    "Milestone",
    "MilestoneId",
    "MilestoneSpec",
    "MilestoneTerms",
    "Money",
    "NoTermsInForceError",
    "NotToExceed",
    "ObligationId",
    "OverCreditError",
    "OveragePolicy",
    "PaymentId",
    "Period",
    "PeriodClosedError",
    "PeriodLock",
    "RateCard",
    "RateCardId",
    "RateCardVersion",
    "RateNotFoundError",
    "RecurringTerms",
    "ResourceId",
    "RetainerTerms",
    "Role",
    "TaskId",
    "TaxProfile",
    "TaxRate",
    "TaxRateTable",
    "TimeAndMaterialsTerms",
    "TimeEntry",
    "TimeEntryId",
    "approved_contract",
    "approved_time",
    "billing_input",
    "run_billing",
    "time_and_materials_terms",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'domain' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
