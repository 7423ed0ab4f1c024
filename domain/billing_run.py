"""The billing run: one pure function from (contract versions, rate cards, approved items,
existing allocations, period) to a proposal.

A dry run returns the proposal and its diff against what is already invoiced; a commit persists
the very same proposal. Running the function again with the ledger extended by the proposal's
own allocations proposes nothing. There is no second code path for previews.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from typing import Any, Protocol

import attrs

import domain.billing_models  # noqa: F401  (registers every billing model)
from domain.billing import BilledLedger, Exclusion, LedgerEntry, ProposedLine
from domain.contract import Contract
from domain.delivery_kinds import DeliveryRecord, DeliveryRecords
from domain.document import DocumentLine, DocumentTax, DocumentTotals, billed_by
from domain.errors import DomainError
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId, RateCardId
from domain.milestone import Milestone
from domain.money import Currency, Money, money_sum
from domain.obligation import BillingContext, billing_model_for
from domain.period import Period
from domain.ratecard import RateCard
from domain.split import split_lines
from domain.tax import (
    TaxProfile,
    TaxQuestion,
    TaxRateTable,
    TaxTreatment,
    TaxTreatments,
    TaxUnresolved,
)
from domain.time_entry import ExpenseItem
from domain.time_rows import BillableTime


class ContractParties(Protocol):
    """What a run checks of a contract it leaves settled (ADR 0048): who it bills, from which
    legal entity. A `Contract` is one; so is the outline a run reads instead of it (ADR 0060)."""

    @property
    def contract_id(self) -> ContractId: ...

    @property
    def customer_id(self) -> CustomerId: ...

    @property
    def legal_entity_id(self) -> LegalEntityId: ...

    def payer_ids(self) -> Sequence[CustomerId]:
        """The customer and every payer a binding version names, customer first."""
        ...


@attrs.frozen(kw_only=True)
class BillingRunInput:
    """Everything the run reads, built by keyword. Nothing in it is changed by the run."""

    period: Period
    contracts: tuple[Contract, ...]
    rate_cards: Mapping[RateCardId, RateCard]
    #: Entities or rows (`domain.time_rows`): pricing reads only what both hold.
    time_entries: tuple[BillableTime, ...]
    expenses: tuple[ExpenseItem, ...]
    milestones: tuple[Milestone, ...]
    ledger: BilledLedger
    tax_profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile]
    tax_rates: TaxRateTable
    invoice_date: date | None = None
    #: Treatments a tax engine resolved for the run; without them the tax table answers.
    tax_answers: Mapping[TaxQuestion, TaxTreatment | TaxUnresolved] | None = None
    #: Split billing: what invoices of this period already billed each payer of an obligation
    #: (so a second run of the period never bills a fixed-amount payer its amount again).
    billed_in_period: Mapping[tuple[ObligationId, CustomerId], Money] = attrs.field(factory=dict)
    #: Contracts a committed run of the period left with nothing to bill, their inputs unchanged
    #: since (ADR 0048): only checked for what blocks them, never billed again.
    settled: tuple[ContractParties, ...] = ()
    #: Records of the delivery kinds models declare (docs/adr/0009), every obligation's.
    delivery: DeliveryRecords = attrs.field(factory=DeliveryRecords)

    @property
    def tax_date(self) -> date:
        return self.invoice_date or self.period.end

    def document_tax(self) -> DocumentTax:
        """How this run taxes its documents (the engine's answers, else the tax table)."""
        table = self.tax_rates if self.tax_answers is None else None
        treatments = TaxTreatments(self.tax_date, dict(self.tax_answers or {}), table)
        return DocumentTax.for_run(treatments, self.expenses)


@attrs.frozen
class InvoiceProposal:
    """A proposed invoice for one payer, contract, legal entity and currency; lines grouped by
    obligation."""

    key: str
    customer_id: CustomerId
    contract_id: ContractId
    legal_entity_id: LegalEntityId
    currency: Currency
    period: Period
    lines: tuple[DocumentLine, ...]
    totals: DocumentTotals
    #: Who is billed when the contract splits billing between payers (None: the customer).
    payer_id: CustomerId | None = None

    @property
    def payer(self) -> CustomerId:
        """The party this invoice bills: its payer, or the customer."""
        return self.payer_id or self.customer_id

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
    #: The payer of the document re-rated (None: the customer).
    payer_id: CustomerId | None = None

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

    def settled_obligations(self, contracts: Iterable[Contract]) -> list[ObligationId]:
        """Committed, the proposal leaves nothing to bill on the obligations of every contract
        it billed in full: neither blocked nor with a quantity it held, wrote off or refused."""
        unsettled = {b.contract_id for b in self.blocked}
        excluded = {x.obligation_id for x in self.exclusions}
        return [
            oid
            for c in contracts
            if c.contract_id not in unsettled and excluded.isdisjoint(c.obligation_ids())
            for oid in c.obligation_ids()
        ]

    def ledger_entries(self) -> list[LedgerEntry]:
        """What committing this proposal adds to the billed ledger."""
        entries: list[LedgerEntry] = []
        for invoice in self.invoices:
            entries += invoice.ledger_entries()
        for adjustment in self.adjustments:
            entries += adjustment.ledger_entries()
        return entries


def run_billing(run: BillingRunInput) -> BillingProposal:
    """Propose the invoices, adjustments and exclusions of one period: one invoice per payer,
    legal entity and currency of each contract."""
    by_obligation = _group_items(run)
    tax = run.document_tax()
    invoices, adjustments, exclusions, blocked = [], [], [], []
    settled = {c.contract_id for c in run.settled}
    chosen: list[tuple[ContractParties, Contract | None]] = [(c, c) for c in run.contracts]
    chosen += [(c, None) for c in run.settled]
    for parties, contract in sorted(chosen, key=lambda x: x[0].contract_id):
        entity = parties.legal_entity_id
        payers = parties.payer_ids()
        missing = next((p for p in payers if (p, entity) not in run.tax_profiles), None)
        if missing is not None:
            who = "customer" if missing == parties.customer_id else "payer"
            blocked.append(
                BlockedContract(
                    parties.contract_id,
                    "missing_tax_profile",
                    f"{who} {missing} has no tax profile with legal entity "
                    f"{parties.legal_entity_id} in the ERP master",
                )
            )
            continue
        if contract is None or contract.contract_id in settled:
            continue
        try:
            profiles = {p: run.tax_profiles[(p, entity)] for p in payers}
            result = _bill_contract(run, contract, by_obligation, profiles, tax)
        except DomainError as error:
            blocked.append(BlockedContract(contract.contract_id, error.code, str(error)))
            continue
        contract_invoices, contract_adjustments, contract_exclusions = result
        invoices += contract_invoices
        adjustments += contract_adjustments
        exclusions += contract_exclusions
    return BillingProposal(
        run.period, tuple(invoices), tuple(adjustments), tuple(exclusions), tuple(blocked)
    )


def obligations_billed_from_time(contracts: Iterable[Contract]) -> list[ObligationId]:
    """The obligations whose billing model reads time entries to bill them (its latest terms',
    as `run_billing` takes it): a run needs the entries of these only. An obligation whose
    model cannot be told is among them, and is blocked by the run as before."""
    wanted = []
    for contract in contracts:
        for obligation_id in contract.obligation_ids():
            try:
                terms = contract.obligation_history(obligation_id).latest.terms
                reads = billing_model_for(terms).reads_time_entries
            except DomainError:
                reads = True
            if reads:
                wanted.append(obligation_id)
    return wanted


@attrs.frozen
class _Items:
    """One obligation's delivery: what every firm records, and the declared kinds' records."""

    time_entries: list[BillableTime] = attrs.field(factory=list)
    expenses: list[ExpenseItem] = attrs.field(factory=list)
    milestones: list[Milestone] = attrs.field(factory=list)
    records: list[DeliveryRecord] = attrs.field(factory=list)

    def context(self, run: BillingRunInput, currency: Currency) -> BillingContext:
        """The billing context of the obligation these items belong to."""
        return BillingContext(
            period=run.period,
            currency=currency,
            rate_cards=run.rate_cards,
            time_entries=tuple(self.time_entries),
            expenses=tuple(self.expenses),
            milestones=tuple(self.milestones),
            ledger=run.ledger,
            delivery=DeliveryRecords.of(self.records) if self.records else DeliveryRecords(),
        )


def _group_items(run: BillingRunInput) -> dict[ObligationId, _Items]:
    """Every item of the run under its obligation, read once (not once per obligation)."""
    grouped: defaultdict[ObligationId, _Items] = defaultdict(_Items)
    for entry in run.time_entries:
        grouped[entry.obligation_id].time_entries.append(entry)
    for expense in run.expenses:
        grouped[expense.obligation_id].expenses.append(expense)
    for milestone in run.milestones:
        grouped[milestone.obligation_id].milestones.append(milestone)
    for records in run.delivery.by_kind.values():
        for record in records:
            grouped[record.obligation_id].records.append(record)
    return grouped


def _bill_contract(
    run: BillingRunInput,
    contract: Contract,
    by_obligation: Mapping[ObligationId, _Items],
    profiles: Mapping[CustomerId, TaxProfile],
    tax: DocumentTax,
) -> tuple[list[InvoiceProposal], list[AdjustmentProposal], list[Exclusion]]:
    lines: dict[CustomerId, list[ProposedLine]] = {}
    exclusions: list[Exclusion] = []
    repriced: dict[str, list[ProposedLine]] = {}
    for obligation_id in contract.obligation_ids():
        history = contract.obligation_history(obligation_id)
        ctx = by_obligation.get(obligation_id, _Items()).context(run, contract.currency)
        model = billing_model_for(history.latest.terms)
        billing = model.bill(history, ctx)
        for payer_id, payer_lines in _payer_lines(run, contract, obligation_id, billing.lines):
            lines.setdefault(payer_id, []).extend(payer_lines)
        exclusions += billing.exclusions
        if model.rerate is not None:
            for doc, doc_lines in model.rerate(history, ctx).items():
                repriced.setdefault(doc, []).extend(doc_lines)
    invoices = []
    for payer_id in contract.payer_ids():
        if not lines.get(payer_id):
            continue
        numbered, totals = tax.document(lines[payer_id], contract.currency, profiles[payer_id])
        is_customer = payer_id == contract.customer_id
        invoices.append(
            InvoiceProposal(
                _invoice_key(contract, run.period, payer_id),
                contract.customer_id,
                contract.contract_id,
                contract.legal_entity_id,
                contract.currency,
                run.period,
                numbered,
                totals,
                payer_id=None if is_customer else payer_id,
            )
        )
    payers = _document_payers(run.ledger, contract)
    adjustments = []
    for document_id, doc_lines in sorted(repriced.items()):
        payer_id = payers.get(document_id, contract.customer_id)
        profile = profiles[payer_id]
        doc_lines = [_stamped(line, payer_id, contract) for line in doc_lines]
        for kind, chosen in (
            (AdjustmentKind.DEBIT_MEMO, [x for x in doc_lines if x.amount.is_positive()]),
            (AdjustmentKind.CREDIT_MEMO, [x for x in doc_lines if x.amount.is_negative()]),
        ):
            if not chosen:
                continue
            numbered, totals = tax.document(chosen, contract.currency, profile)
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
                    totals,
                    payer_id=None if payer_id == contract.customer_id else payer_id,
                )
            )
    return invoices, adjustments, exclusions


def _invoice_key(contract: Contract, period: Period, payer_id: CustomerId) -> str:
    """The customer's invoice keeps the contract's key; another payer's adds the payer."""
    base = f"{contract.contract_id}/{period.key}"
    return base if payer_id == contract.customer_id else f"{base}/{payer_id}"


def _payer_lines(
    run: BillingRunInput,
    contract: Contract,
    obligation_id: ObligationId,
    lines: Sequence[ProposedLine],
) -> list[tuple[CustomerId, tuple[ProposedLine, ...]]]:
    """An obligation's lines per payer: all the customer's unless the terms in force at the end
    of the period name payers, then split between them (`domain.split`)."""
    if not lines:
        return []
    payers = contract.payers_on(obligation_id, run.period.end)
    if payers is None:
        return [(contract.customer_id, tuple(lines))]
    billed = run.ledger.entries_for(obligation_id)
    already = {
        p.payer_id: run.billed_in_period[(obligation_id, p.payer_id)]
        for p in payers.payers
        if (obligation_id, p.payer_id) in run.billed_in_period
    }
    return [
        (part.payer_id, part.lines)
        for part in split_lines(payers, lines, billed, contract.customer_id, already)
    ]


def _document_payers(ledger: BilledLedger, contract: Contract) -> dict[str, CustomerId]:
    """The payer each committed document billed (read from its ledger entries)."""
    found: dict[str, CustomerId] = {}
    for obligation_id in contract.obligation_ids():
        for entry in ledger.entries_for(obligation_id):
            if entry.payer is not None:
                found[entry.document_id] = entry.payer
    return found


def _stamped(line: ProposedLine, payer_id: CustomerId, contract: Contract) -> ProposedLine:
    """An adjustment line's allocations carry the payer of the document they re-rate."""
    if payer_id == contract.customer_id and not contract.payer_ids()[1:]:
        return line
    allocations = tuple(attrs.evolve(a, payer=payer_id) for a in line.allocations)
    return attrs.evolve(line, allocations=allocations)


@attrs.frozen
class ObligationDiff:
    """What one obligation has been invoiced so far, what the proposal adds, and the result."""

    contract_id: ContractId
    obligation_id: ObligationId
    already_invoiced: Money
    proposed: Money
    sources: int

    @property
    def after(self) -> Money:
        """What the obligation will have been invoiced once the proposal is committed (worked
        out when asked: a run keeps its diff to the end, one row per obligation)."""
        return self.already_invoiced + self.proposed


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
    # Money is a frozen value: the rows of obligations never invoiced share one zero.
    nothing_yet: dict[tuple[Currency, str], Money] = {}
    for (contract_id, obligation_id), lines in sorted(proposed.items()):
        cur = currency[contract_id]
        before = ledger.obligation_billed_amount(obligation_id, cur).quantized()
        if before.amount.is_zero():
            before = nothing_yet.setdefault((cur, str(before.amount)), before)
        added = money_sum((line.amount for line in lines), cur)
        sources = len({a.source for line in lines for a in line.allocations})
        rows.append(ObligationDiff(contract_id, obligation_id, before, added, sources))
    return rows
