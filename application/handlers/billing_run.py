"""The billing run: a dry run shows the proposal and its diff; a commit stores the very same
proposal as drafts.

The dry run and the commit call the same pure `run_billing` on the same inputs; the commit
optionally checks the preview's fingerprint, so what a controller reviewed is what is stored.
Contracts a committed run of the period left settled, their inputs unchanged since, are not
loaded or re-rated (ADR 0048); a commit marks what it settles.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta

import attrs

from application import commands as c
from application.billing_answer import DiffRows, DraftNames
from application.billing_drafts import ProposalDigest, StoredDrafts
from application.billing_marks import Observation, obligations_of
from application.billing_reads import ContractOutline
from application.books import load_books, period_lock
from application.changes import RecordMoved
from application.context import RequestContext
from application.delivery_records import delivery_of, excluded_source
from application.errors import ConflictError, NotFoundError
from application.gc_pause import collect_young, paused_collection
from application.messagebus import UnitOfWorkFactory
from application.operations import BillingRunRecord
from application.ports import Clock, IdGenerator, Stopwatch, TaxEngine
from application.split_billing import billed_in_period
from application.unit_of_work import BilledDocument, UnitOfWork
from domain.billing import BilledLedger, Disposition, Exclusion
from domain.billing_run import (
    BillingProposal,
    BillingRunInput,
    ObligationDiff,
    diff_against_ledger,
    obligations_billed_from_time,
    run_billing,
)
from domain.contract import Contract
from domain.engagement import EngagementState
from domain.errors import PeriodClosedError
from domain.ids import ContractId, CustomerId, InvoiceId, LegalEntityId, ObligationId
from domain.invoice import Invoice
from domain.period import Period
from domain.plausibility import check_period_started
from domain.tax import (
    TaxProfile,
    TaxQuestion,
    TaxRateTable,
    TaxTreatment,
    TaxUnresolved,
    tax_questions,
)

BILLABLE_ENGAGEMENT_STATES = (
    EngagementState.ACTIVE,
    EngagementState.SUSPENDED,
    EngagementState.CLOSING,
)


@attrs.frozen
class BillingRunResult:
    #: A dry run's whole proposal; a commit's without its documents, which `stored` names.
    _proposal: BillingProposal
    #: The diff's rows, or a run's kept compact to its answer (ADR 0060).
    _diff: tuple[ObligationDiff, ...] | DiffRows
    fingerprint: str  # of the proposal; empty for a commit that was not given one to check
    invoice_ids: tuple[InvoiceId, ...] = ()
    #: Contracts not billed because their engagement is not billable (and its state).
    skipped: tuple[tuple[ContractId, str], ...] = ()
    #: The drafts a commit stored, read back when its proposal is asked for (ADR 0060).
    stored: StoredDrafts | None = None

    @property
    def proposal(self) -> BillingProposal:
        """The run's proposal: a dry run's as proposed, a commit's read back from the drafts
        it stored (its answer does not carry every allocation of the run)."""
        return self._proposal if self.stored is None else self.stored.proposal(self._proposal)

    @property
    def diff(self) -> tuple[ObligationDiff, ...]:
        """The proposal against what each obligation is already invoiced, row by row."""
        return self._diff if isinstance(self._diff, tuple) else self._diff.rows()


def fingerprint(proposal: BillingProposal) -> str:
    """A stable digest of a proposal (frozen values have a deterministic repr)."""
    return hashlib.sha256(repr(proposal).encode()).hexdigest()


def run_billing_command(
    cmd: c.RunBilling,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    stopwatch: Stopwatch,
    tax_engine: TaxEngine | None = None,
) -> BillingRunResult:
    """Dry run: the proposal and its diff. Commit: the same proposal stored as drafts, and
    a record of the run (what it drafted, how long it took) in the same transaction. Either
    way, only for a period that has begun (ADR 0025)."""
    check_period_started(cmd.period, clock.now().date())
    # The collector runs once the run's own frame is gone: what it read (the books, the unit
    # of work's identity maps) is freed by reference counting first, and the one pass walks
    # only what the result keeps.
    with paused_collection():
        return _run(cmd, ctx, _Run(unit_of_work, clock, ids, stopwatch, tax_engine))


@attrs.frozen
class _Run:
    """What a billing run uses besides its command."""

    unit_of_work: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    stopwatch: Stopwatch
    tax_engine: TaxEngine | None


def _run(cmd: c.RunBilling, ctx: RequestContext, deps: _Run) -> BillingRunResult:
    """The run in its unit of work (see `run_billing_command`), a chunk of contracts at a time
    (ADR 0060): each chunk is read, proposed and, in a commit, written into the one transaction
    and let go before the next is read, so the run's working memory does not grow with its
    entries. Contracts are independent, and the chunks go in contract-id order, so the parts
    joined are the proposal of one piece; the commit's checks come where they came before."""
    started = deps.stopwatch.seconds()
    with deps.unit_of_work(ctx, read_only=cmd.dry_run) as uow:
        written, skipped = _Written(cmd, ctx, deps, uow), Skipped()
        chunks = _chunks(uow, cmd, skipped)
        proposal, diff = _in_chunks(uow, cmd, chunks, deps, written)
        if cmd.dry_run:
            return BillingRunResult(proposal, diff, fingerprint(proposal), (), tuple(skipped))
        digest = written.checked_fingerprint(proposal)
        written.raise_if_refused()
        summary = f"{written.names.count} documents, {len(proposal.exclusions)} exclusions"
        uow.record(RecordMoved(f"billing_run:{cmd.period.key}", "commit", None, None, summary))
        record = _run_record(cmd, ctx, deps.clock, deps.stopwatch, written.counts, started)
        uow.billing_runs.add(record)
        uow.commit()
    names = written.names
    return BillingRunResult(proposal, diff, digest, names.ids(), tuple(skipped), written.drafts)


#: Contracts a run reads, proposes and writes at a time (ADR 0060): about 20k entries at the
#: bench's 40 a contract, a few MB of working memory, and per-chunk costs under 2 % of a run.
CHUNK_CONTRACTS = 500


class _Written:
    """What a commit wrote chunk by chunk: the drafts' ids and keys; nothing when the period
    is closed to it, whose refusal waits for the
    fingerprint check so the refusals come in the order they always came. A commit keeps no
    chunk's documents once they are written: its answer names the drafts (ADR 0060)."""

    def __init__(self, cmd: c.RunBilling, ctx: RequestContext, deps: _Run, uow: UnitOfWork):
        self._cmd, self._ctx, self._deps, self._uow = cmd, ctx, deps, uow
        self.names = DraftNames()
        self.refusal: PeriodClosedError | None = None
        self._digest = (
            ProposalDigest(BillingProposal(cmd.period))
            if cmd.expected_fingerprint is not None
            else None
        )
        if not cmd.dry_run:
            try:
                period_lock(uow).check(cmd.invoice_date or cmd.period.end, "commit a billing run")
            except PeriodClosedError as refused:
                self.refusal = refused
        self.writes = not cmd.dry_run and self.refusal is None

    def store(self, proposal: BillingProposal, settles: _Settles) -> BillingProposal:
        """One chunk's drafts, ledger rows, exclusions and settled marks, written and let go
        (the last chunk's too: the commit then writes only the run's own records, so what it
        holds does not depend on how big the last chunk is); what of the chunk the run keeps
        (a commit: all but its documents)."""
        if self._cmd.dry_run:
            return proposal
        # A fingerprint to check digests the invoices now and the adjustments at the end.
        kept = attrs.evolve(
            proposal, invoices=(), adjustments=proposal.adjustments if self._digest else ()
        )
        if self._digest is not None:
            self._digest.add(proposal.invoices)
        if not self.writes:
            return kept  # the period is closed: the commit is refused after its checks
        uow, deps = self._uow, self._deps
        ids, added = _store_drafts(uow, self._ctx, deps.clock, deps.ids, proposal)
        _record_exclusions(uow, self._ctx, deps.clock, proposal.exclusions)
        uow.billing_marks.mark(settles.seen, settles.obligations, added)
        keys = [x.key for x in proposal.invoices] + [x.key for x in proposal.adjustments]
        self.names.add(ids, keys, len(proposal.invoices))
        uow.write_out()
        return kept

    @property
    def counts(self) -> tuple[int, int]:
        """How many invoices and adjustments the commit proposed."""
        return self.names.counts

    @property
    def drafts(self) -> StoredDrafts:
        """The drafts stored, for the answer to read back."""
        deps = self._deps
        names = self.names
        return StoredDrafts(names.invoices(), names.adjustments(), deps.unit_of_work, self._ctx)

    def checked_fingerprint(self, kept: BillingProposal) -> str:
        """The proposal's digest when the commit was given the preview's to check (else
        empty); a proposal that changed since its preview is refused. `kept` is the proposal
        without the invoices, which were digested as they went by."""
        if self._digest is None:
            return ""
        digest = self._digest.hexdigest(kept)
        if self._cmd.expected_fingerprint != digest:
            raise ConflictError(
                "the billing proposal changed since it was previewed; preview it again"
            )
        return digest

    def raise_if_refused(self) -> None:
        if self.refusal is not None:
            raise self.refusal


def _in_chunks(
    uow: UnitOfWork,
    cmd: c.RunBilling,
    chunks: Iterable[list[ContractOutline]],
    deps: _Run,
    written: _Written,
) -> tuple[BillingProposal, DiffRows]:
    """The run's proposal and its diff, a chunk at a time: each chunk's contracts are locked
    for a commit, its obligations stamped (ADR 0048), its payers' tax profiles and its
    contracts read when it comes, and let go once billed and, in a commit, written with the
    settled marks of the chunk (a contract's blocks and exclusions are all in its own chunk,
    so the obligations each chunk settles are those the joined proposal settles; ADR 0060)."""
    parts: list[BillingProposal] = []
    diff = DiffRows()
    rates = _Tax(deps.tax_engine, uow.master_data.tax_rates())
    for outlines in chunks:
        if not cmd.dry_run:
            uow.ledger.lock(x.contract_id for x in outlines)
        seen = uow.billing_marks.observe(cmd.period, obligations_of(outlines))
        settled = [x for x in outlines if seen.settles(x)]
        chunk = _contracts(uow, [x for x in outlines if not seen.settles(x)])
        tax = rates.of_chunk(uow, outlines)
        part, (billed, ledger) = _propose(uow, cmd, chunk, settled, tax)
        diff.add(diff_against_ledger(part, ledger))
        settles = _Settles(seen, part.settled_obligations(billed))
        del chunk, billed, ledger, outlines, settled, tax
        parts.append(written.store(part, settles))
        del part, settles, seen  # what a commit keeps of the chunk is in `parts`
        collect_young()
    return _joined(cmd.period, parts), diff


@attrs.frozen
class _Settles:
    """One chunk's obligations as stamped before it was read, and those its proposal leaves
    settled: a commit marks them as it writes the chunk (ADR 0048, 0060)."""

    seen: Observation
    obligations: list[ObligationId]


@attrs.frozen
class _Tax:
    """How the run taxes: its engine if any, the master data's rates, read once for the run,
    and the tax profiles of a chunk's payers, read for each chunk (ADR 0060)."""

    engine: TaxEngine | None
    rates: TaxRateTable
    profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile] = attrs.field(factory=dict)

    def of_chunk(self, uow: UnitOfWork, outlines: Iterable[ContractOutline]) -> _Tax:
        """The same, with the profiles of every payer of these contracts at its legal entity
        (all `run_billing` looks up, for the contracts it bills and those it checks)."""
        keys = {(payer, x.legal_entity_id) for x in outlines for payer in x.payers}
        return attrs.evolve(self, profiles=uow.master_data.tax_profiles_of(keys))


def _joined(period: Period, parts: Sequence[BillingProposal]) -> BillingProposal:
    """The proposals of consecutive chunks as the one proposal of the whole run."""
    if len(parts) == 1:
        return parts[0]
    return BillingProposal(
        period,
        tuple(x for part in parts for x in part.invoices),
        tuple(x for part in parts for x in part.adjustments),
        tuple(x for part in parts for x in part.exclusions),
        tuple(x for part in parts for x in part.blocked),
    )


#: The contracts not billed because their engagement is not billable, and its state.
Skipped = list[tuple[ContractId, str]]


def _chunks(
    uow: UnitOfWork, cmd: c.RunBilling, skipped: Skipped
) -> Iterator[list[ContractOutline]]:
    """The outlines of the chosen contracts whose engagement can be billed, CHUNK_CONTRACTS
    at a time in contract-id order (at least one chunk, maybe empty); the others go to
    `skipped` with their engagement's state as they are read. Every contract's outlines are
    read a page at a time, so the run holds a page and a chunk of them (ADR 0060)."""
    pending: list[ContractOutline] = []
    given = False
    for page in _pages(uow, cmd):
        for outline in page:
            state = outline.engagement_state
            if state in BILLABLE_ENGAGEMENT_STATES:
                pending.append(outline)
            else:
                named = state.value if state is not None else "no_engagement"
                skipped.append((outline.contract_id, f"engagement_{named}"))
        pending.sort(key=lambda x: x.contract_id)
        while len(pending) >= CHUNK_CONTRACTS:
            yield pending[:CHUNK_CONTRACTS]
            del pending[:CHUNK_CONTRACTS]
            given = True
    if pending or not given:
        yield pending


def _pages(uow: UnitOfWork, cmd: c.RunBilling) -> Iterator[list[ContractOutline]]:
    """The outlines of the contracts a command names, in its order, at once; else of every
    contract, CHUNK_CONTRACTS at a time in id order (keyset: after the last id of a page)."""
    if cmd.contract_ids:
        yield _chosen(uow, cmd.contract_ids)
        return
    after: ContractId | None = None
    while True:
        page = uow.billing_reads.outlines_after(after, CHUNK_CONTRACTS)
        if page:
            yield page
        if len(page) < CHUNK_CONTRACTS:
            return
        after = page[-1].contract_id


def _chosen(uow: UnitOfWork, contract_ids: Sequence[ContractId]) -> list[ContractOutline]:
    """The outlines of the contracts a command names, in its order; one it names that does
    not exist is refused, as reading it would be."""
    found = {x.contract_id: x for x in uow.billing_reads.outlines(contract_ids)}
    for contract_id in contract_ids:
        if contract_id not in found:
            raise NotFoundError(f"contract {contract_id} does not exist")
    return [found[x] for x in contract_ids]


def _contracts(uow: UnitOfWork, outlines: Sequence[ContractOutline]) -> list[Contract]:
    """The contracts of these outlines (a chunk's to bill), read untracked (the run changes
    none), in the outlines' order."""
    read = {x.contract_id: x for x in uow.billing_reads.contracts(o.contract_id for o in outlines)}
    return [read[x.contract_id] for x in outlines]


def _propose(
    uow: UnitOfWork,
    cmd: c.RunBilling,
    billed: Sequence[Contract],
    settled: Sequence[ContractOutline],
    tax: _Tax,
) -> tuple[BillingProposal, tuple[tuple[Contract, ...], BilledLedger]]:
    """The proposal of the run: contracts left settled are only checked (from their outlines:
    they are not read in full), the rest billed; with the contracts billed and their ledger
    (the items read are let go here: the proposal names its sources and the drafts are
    written from it, so they need not live through the commit)."""
    books = load_books(uow, billed, ())  # the entries are priced from rows (ADR 0069)
    run_input = BillingRunInput(
        period=cmd.period,
        contracts=books.contracts,
        rate_cards=books.rate_cards,
        time_entries=tuple(uow.billing_reads.time_rows_for(obligations_billed_from_time(billed))),
        expenses=books.expenses,
        milestones=books.milestones,
        ledger=books.ledger,
        tax_profiles=tax.profiles,
        tax_rates=tax.rates,
        invoice_date=cmd.invoice_date,
        billed_in_period=billed_in_period(uow, books.contracts, cmd.period),
        settled=tuple(sorted(settled, key=lambda x: x.contract_id)),
        delivery=delivery_of(uow, books.contracts),
    )
    answers = _tax_answers(tax.engine, run_input)
    proposal = run_billing(attrs.evolve(run_input, tax_answers=answers))
    return proposal, (books.contracts, books.ledger)


def _tax_answers(
    tax_engine: TaxEngine | None, run: BillingRunInput
) -> Mapping[TaxQuestion, TaxTreatment | TaxUnresolved] | None:
    """What the tax engine says of every category the run may bill to each payer on its tax
    date (ADR 0030); None without an engine, and the run reads the tax table itself."""
    if tax_engine is None:
        return None
    payers = {
        key: run.tax_profiles[key]
        for x in run.contracts
        for key in ((payer, x.legal_entity_id) for payer in x.payer_ids())
        if key in run.tax_profiles
    }
    questions = tax_questions(payers, (x.category for x in run.expenses), run.tax_date)
    return tax_engine.treatments(questions, payers, run.tax_rates)


def _run_record(
    cmd: c.RunBilling,
    ctx: RequestContext,
    clock: Clock,
    stopwatch: Stopwatch,
    counts: tuple[int, int],
    started: float,
) -> BillingRunRecord:
    """What operations is told about a committed run (timed up to its commit)."""
    return BillingRunRecord(
        period=cmd.period.key,
        invoices=counts[0],
        adjustments=counts[1],
        duration=timedelta(seconds=max(0.0, stopwatch.seconds() - started)),
        finished_at=clock.now(),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def _store_drafts(
    uow: UnitOfWork, ctx: RequestContext, clock: Clock, ids: IdGenerator, proposal: BillingProposal
) -> tuple[tuple[InvoiceId, ...], Counter[ObligationId]]:
    """Every document of the proposal as a draft, its allocations in the billed ledger; the
    drafts' ids, and how many ledger rows each obligation gained."""
    now = clock.now()
    stored = []
    billed: dict[ContractId, list[BilledDocument]] = {}
    added: Counter[ObligationId] = Counter()
    for draft in proposal.invoices:
        invoice_id = InvoiceId(ids.next_id("INV"))
        invoice = Invoice.from_proposal(invoice_id, draft, ctx.actor, now)
        uow.invoices.add(invoice)
        billed.setdefault(draft.contract_id, []).append((invoice_id, draft.lines))
        uow.record(RecordMoved(f"invoice:{invoice_id}", "draft", None, invoice.state))
        stored.append(invoice_id)
    for adjustment in proposal.adjustments:
        invoice_id = InvoiceId(ids.next_id("ADJ"))
        invoice = Invoice.from_proposal(invoice_id, adjustment, ctx.actor, now, proposal.period)
        uow.invoices.add(invoice)
        billed.setdefault(adjustment.contract_id, []).append((invoice_id, adjustment.lines))
        why = f"{invoice.kind.value} re-rating {adjustment.references}"
        uow.record(RecordMoved(f"invoice:{invoice_id}", "draft", None, invoice.state, why))
        stored.append(invoice_id)
    # The rows are made from the lines' allocations, as `billed_by` gives them (ADR 0060).
    uow.ledger.add_billed(billed)
    for documents in billed.values():
        for _, lines in documents:
            for line in lines:
                added[line.obligation_id] += len(line.allocations)
    return tuple(stored), added


def _record_exclusions(
    uow: UnitOfWork, ctx: RequestContext, clock: Clock, exclusions: Sequence[Exclusion]
) -> None:
    """Held quantities wait for a decision; written-off ones are recorded as leakage. A
    source that is no time entry or expense (a record of a declared delivery kind, a schedule
    item) has no held state of its own to keep: its exclusion is recorded in the audit trail."""
    now = clock.now()
    for exclusion in exclusions:
        item_id = exclusion.source.source_id
        item = uow.delivery.time_entry(item_id) or uow.delivery.expense(item_id)
        if item is None:
            uow.record(excluded_source(exclusion))
            continue
        before = item.state
        if exclusion.disposition is Disposition.HELD:
            item.hold(exclusion.quantity, exclusion.reason, now)
        else:
            item.write_off_over_cap(exclusion.quantity, exclusion.reason, now)
        uow.delivery.save(item)
        disposition, reason = exclusion.disposition.value, exclusion.reason
        uow.record(RecordMoved(f"item:{item_id}", disposition, before, item.state, reason))
