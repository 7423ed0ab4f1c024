"""The billing run: one pure function from (contract versions, rate cards, approved items,
existing allocations, period) to a proposal.

A dry run returns the proposal and its diff against what is already invoiced; a commit persists
the very same proposal. Running the function again with the ledger extended by the proposal's
own allocations proposes nothing. There is no second code path for previews.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs

import domain.billing_models  # noqa: F401  (registers every billing model)
from domain.billing import BilledLedger, Exclusion, LedgerEntry, ProposedLine
from domain.contract import Contract
from domain.document import DocumentLine, DocumentTotals, billed_by
from domain.errors import DomainError
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId, RateCardId
from domain.milestone import Milestone
from domain.money import Currency, Money, money_sum
from domain.obligation import BillingContext, billing_model_for
from domain.period import Period
from domain.ratecard import RateCard
from domain.retroactive import adjustment_lines, reprice_billed_time
from domain.tax import TaxProfile, TaxRateTable, effective_rate
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import ExpenseItem, TimeEntry


@attrs.frozen
class BillingRunInput:
    """Everything the run reads. Nothing in it is changed by the run."""

    period: Period
    contracts: tuple[Contract, ...]
    rate_cards: Mapping[RateCardId, RateCard]
    time_entries: tuple[TimeEntry, ...]
    expenses: tuple[ExpenseItem, ...]
    milestones: tuple[Milestone, ...]
    ledger: BilledLedger
    tax_profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile]
    tax_rates: TaxRateTable
    invoice_date: date | None = None

    @property
    def tax_date(self) -> date:
        return self.invoice_date or self.period.end


@attrs.frozen
class InvoiceProposal:
    """A proposed invoice for one customer, contract and currency; lines grouped by obligation."""

    key: str
    customer_id: CustomerId
    contract_id: ContractId
    legal_entity_id: LegalEntityId
    currency: Currency
    period: Period
    lines: tuple[DocumentLine, ...]
    totals: DocumentTotals

    def ledger_entries(self, document_id: str | None = None) -> list[LedgerEntry]:
        return billed_by(document_id or self.key, self.lines)


class AdjustmentKind(Enum):
    DEBIT_MEMO = "debit_memo"
    CREDIT_MEMO = "credit_memo"


@attrs.frozen
class AdjustmentProposal:
    """A debit or credit memo re-rating items an earlier document billed (amounts signed:
    positive on a debit memo, negative on a credit memo)."""

    key: str
    kind: AdjustmentKind
    references: str
    customer_id: CustomerId
    contract_id: ContractId
    legal_entity_id: LegalEntityId
    currency: Currency
    lines: tuple[DocumentLine, ...]
    totals: DocumentTotals

    def ledger_entries(self, document_id: str | None = None) -> list[LedgerEntry]:
        return billed_by(document_id or self.key, self.lines)


class BillingBlockedError(DomainError):
    """A caller who asked for it is told, in one error, of every contract the run blocked."""

    code = "billing_blocked"

    def __init__(self, period: Period, blocked: tuple[BlockedContract, ...]) -> None:
        self.period = period
        self.blocked = blocked
        listed = "; ".join(str(b) for b in blocked)
        count = "1 contract" if len(blocked) == 1 else f"{len(blocked)} contracts"
        super().__init__(f"the billing run for {period.key} blocked {count}: {listed}")

    def __reduce__(self) -> tuple[type[BillingBlockedError], tuple[Period, tuple[Any, ...]]]:
        return type(self), (self.period, self.blocked)


@attrs.frozen
class BlockedContract:
    """A contract the run could not bill: a stable reason code and a sentence saying what is
    missing and what to fix (the rate card, role and date of a missing rate, ...)."""

    contract_id: ContractId
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"contract {self.contract_id} blocked [{self.reason}]: {self.detail}"


@attrs.frozen
class BillingProposal:
    """The output of a billing run: drafts, adjustments, and what was held or written off."""

    period: Period
    invoices: tuple[InvoiceProposal, ...] = ()
    adjustments: tuple[AdjustmentProposal, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    blocked: tuple[BlockedContract, ...] = ()

    def __str__(self) -> str:
        counts = (
            f"billing proposal {self.period.key}: {len(self.invoices)} invoice(s), "
            f"{len(self.adjustments)} adjustment(s), {len(self.exclusions)} exclusion(s), "
            f"{len(self.blocked)} blocked"
        )
        return "\n  ".join([counts, *(str(b) for b in self.blocked)])

    @property
    def is_empty(self) -> bool:
        """Nothing to bill, adjust, hold or write off."""
        return not (self.invoices or self.adjustments or self.exclusions)

    def raise_if_blocked(self) -> BillingProposal:
        """A caller that cannot go on with a partial run gets one error naming every blocked
        contract and what to fix; otherwise the proposal itself, to chain."""
        if self.blocked:
            raise BillingBlockedError(self.period, self.blocked)
        return self

    def ledger_entries(self) -> list[LedgerEntry]:
        """What committing this proposal adds to the billed ledger."""
        entries: list[LedgerEntry] = []
        for invoice in self.invoices:
            entries += invoice.ledger_entries()
        for adjustment in self.adjustments:
            entries += adjustment.ledger_entries()
        return entries


def run_billing(run: BillingRunInput) -> BillingProposal:
    """Propose the invoices, adjustments and exclusions of one period."""
    by_obligation = _group_items(run)
    invoices, adjustments, exclusions, blocked = [], [], [], []
    for contract in sorted(run.contracts, key=lambda c: c.contract_id):
        profile = run.tax_profiles.get((contract.customer_id, contract.legal_entity_id))
        if profile is None:
            blocked.append(
                BlockedContract(
                    contract.contract_id,
                    "missing_tax_profile",
                    f"customer {contract.customer_id} has no tax profile with legal entity "
                    f"{contract.legal_entity_id} in the ERP master",
                )
            )
            continue
        try:
            rate = effective_rate(profile, run.tax_rates, run.tax_date)
            result = _bill_contract(run, contract, by_obligation, profile, rate)
        except DomainError as error:
            blocked.append(BlockedContract(contract.contract_id, error.code, str(error)))
            continue
        invoice, contract_adjustments, contract_exclusions = result
        if invoice is not None:
            invoices.append(invoice)
        adjustments += contract_adjustments
        exclusions += contract_exclusions
    return BillingProposal(
        run.period, tuple(invoices), tuple(adjustments), tuple(exclusions), tuple(blocked)
    )


@attrs.frozen
class _Items:
    time_entries: list[TimeEntry] = attrs.field(factory=list)
    expenses: list[ExpenseItem] = attrs.field(factory=list)
    milestones: list[Milestone] = attrs.field(factory=list)


def _group_items(run: BillingRunInput) -> dict[ObligationId, _Items]:
    grouped: defaultdict[ObligationId, _Items] = defaultdict(_Items)
    for entry in run.time_entries:
        grouped[entry.obligation_id].time_entries.append(entry)
    for expense in run.expenses:
        grouped[expense.obligation_id].expenses.append(expense)
    for milestone in run.milestones:
        grouped[milestone.obligation_id].milestones.append(milestone)
    return grouped


def _bill_contract(
    run: BillingRunInput,
    contract: Contract,
    by_obligation: Mapping[ObligationId, _Items],
    profile: TaxProfile,
    tax_rate: Decimal,
) -> tuple[InvoiceProposal | None, list[AdjustmentProposal], list[Exclusion]]:
    lines: list[ProposedLine] = []
    exclusions: list[Exclusion] = []
    repriced: dict[str, list[ProposedLine]] = {}
    for obligation_id in contract.obligation_ids():
        history = contract.obligation_history(obligation_id)
        items = by_obligation.get(obligation_id, _Items())
        ctx = BillingContext(
            run.period,
            contract.currency,
            run.rate_cards,
            tuple(items.time_entries),
            tuple(items.expenses),
            tuple(items.milestones),
            run.ledger,
        )
        billing = billing_model_for(history.latest.terms).bill(history, ctx)
        lines += billing.lines
        exclusions += billing.exclusions
        if isinstance(history.latest.terms, TimeAndMaterialsTerms):
            for doc, doc_lines in _retroactive(run, history, items).items():
                repriced.setdefault(doc, []).extend(doc_lines)
    rates = {profile.tax_code: tax_rate}
    notes = {profile.tax_code: profile.note}
    invoice = None
    if lines:
        numbered = DocumentLine.numbered(lines, profile.tax_code)
        invoice = InvoiceProposal(
            f"{contract.contract_id}/{run.period.key}",
            contract.customer_id,
            contract.contract_id,
            contract.legal_entity_id,
            contract.currency,
            run.period,
            numbered,
            DocumentTotals.of(numbered, contract.currency, rates, notes),
        )
    adjustments = []
    for document_id, doc_lines in sorted(repriced.items()):
        for kind, chosen in (
            (AdjustmentKind.DEBIT_MEMO, [x for x in doc_lines if x.amount.is_positive()]),
            (AdjustmentKind.CREDIT_MEMO, [x for x in doc_lines if x.amount.is_negative()]),
        ):
            if not chosen:
                continue
            numbered = DocumentLine.numbered(chosen, profile.tax_code)
            adjustments.append(
                AdjustmentProposal(
                    f"{document_id}/{kind.value}/{run.period.key}",
                    kind,
                    document_id,
                    contract.customer_id,
                    contract.contract_id,
                    contract.legal_entity_id,
                    contract.currency,
                    numbered,
                    DocumentTotals.of(numbered, contract.currency, rates, notes),
                )
            )
    return invoice, adjustments, exclusions


def _retroactive(
    run: BillingRunInput, history: Any, items: _Items
) -> dict[str, list[ProposedLine]]:
    entries = {e.entry_id: e for e in items.time_entries}
    repricings = reprice_billed_time(history, run.rate_cards, entries, run.ledger)
    if not repricings:
        return {}
    return adjustment_lines(history, repricings, history.latest.terms.currency)


@attrs.frozen
class ObligationDiff:
    """What one obligation has been invoiced so far, what the proposal adds, and the result."""

    contract_id: ContractId
    obligation_id: ObligationId
    already_invoiced: Money
    proposed: Money
    after: Money
    sources: int


def diff_against_ledger(proposal: BillingProposal, ledger: BilledLedger) -> list[ObligationDiff]:
    """The proposal compared with what is already invoiced, per contract and obligation."""
    proposed: dict[tuple[ContractId, ObligationId], list[DocumentLine]] = {}
    currency: dict[ContractId, Currency] = {}
    documents: Sequence[InvoiceProposal | AdjustmentProposal] = [
        *proposal.invoices,
        *proposal.adjustments,
    ]
    for document in documents:
        currency[document.contract_id] = document.currency
        for line in document.lines:
            proposed.setdefault((document.contract_id, line.obligation_id), []).append(line)
    rows = []
    for (contract_id, obligation_id), lines in sorted(proposed.items()):
        cur = currency[contract_id]
        before = ledger.obligation_billed_amount(obligation_id, cur).quantized()
        added = money_sum((line.amount for line in lines), cur)
        sources = len({a.source for line in lines for a in line.allocations})
        rows.append(
            ObligationDiff(contract_id, obligation_id, before, added, before + added, sources)
        )
    return rows
