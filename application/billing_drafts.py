"""What a committed billing run answers (ADR 0060, amendment): the drafts it stored, named by
id and key, read back from the store as the proposal they hold when the answer is shown.

A run over 200k entries proposes about 200k allocations; a commit writes them a chunk at a time
and lets them go. Its answer names the drafts instead of carrying them, so the run's memory
does not grow with what it bills; the HTTP and CLI edges ask for the proposal when they show
it and get exactly what the run stored (a draft's lines and totals are fixed when it is
drafted). A commit that checks a preview's fingerprint digests its documents as they go by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs

from application.context import RequestContext
from application.messagebus import UnitOfWorkFactory
from domain.billing_run import (
    AdjustmentKind,
    AdjustmentProposal,
    BillingProposal,
    InvoiceProposal,
)
from domain.ids import InvoiceId
from domain.invoice import DocumentKind, Invoice


@attrs.frozen
class StoredDrafts:
    """The drafts a committed run stored, in the proposal's order: the (id, key) of every
    invoice, then of every adjustment; and the unit of work they are read back through."""

    invoices: tuple[tuple[InvoiceId, str], ...]
    adjustments: tuple[tuple[InvoiceId, str], ...]
    unit_of_work: UnitOfWorkFactory = attrs.field(repr=False)
    ctx: RequestContext = attrs.field(repr=False)

    def proposal(self, rest: BillingProposal) -> BillingProposal:
        """The committed proposal: its documents read back from the drafts stored, its
        exclusions and blocked contracts as the run kept them (`rest`)."""
        wanted = [i for i, _ in self.invoices] + [i for i, _ in self.adjustments]
        with self.unit_of_work(self.ctx, read_only=True) as uow:
            found = uow.invoices.find_many(wanted)
        return attrs.evolve(
            rest,
            invoices=tuple(invoice_proposal(found[i], key) for i, key in self.invoices),
            adjustments=tuple(adjustment_proposal(found[i], key) for i, key in self.adjustments),
        )


def invoice_proposal(draft: Invoice, key: str) -> InvoiceProposal:
    """The invoice proposal a draft was stored from (`Invoice.from_proposal` in reverse)."""
    return InvoiceProposal(
        key,
        draft.customer_id,
        draft.contract_id,
        draft.legal_entity_id,
        draft.currency,
        draft.period,
        draft.lines,
        draft.totals,
        payer_id=draft.payer_id,
    )


def adjustment_proposal(draft: Invoice, key: str) -> AdjustmentProposal:
    """The adjustment a debit memo or credit adjustment was stored from."""
    debit = draft.kind is DocumentKind.DEBIT_MEMO
    return AdjustmentProposal(
        key,
        AdjustmentKind.DEBIT_MEMO if debit else AdjustmentKind.CREDIT_MEMO,
        draft.references or "",
        draft.customer_id,
        draft.contract_id,
        draft.legal_entity_id,
        draft.currency,
        draft.lines,
        draft.totals,
        payer_id=draft.payer_id,
    )


class ProposalDigest:
    """`fingerprint` of the proposal that consecutive chunks join into, their invoices
    digested as they go by: the same text is hashed (the proposal's repr), in the same order,
    without keeping the documents. Adjustments, exclusions and blocked contracts come after
    the invoices in that text; the run keeps them, and they are hashed at the end."""

    def __init__(self, rest: BillingProposal) -> None:
        self._hash = hashlib.sha256()
        head, _, _ = repr(attrs.evolve(rest, invoices=())).partition(_NO_INVOICES)
        self._hash.update(f"{head}invoices=(".encode())
        self._count = 0

    def add(self, invoices: Iterable[InvoiceProposal]) -> None:
        """The next invoices of the proposal, in its order."""
        for invoice in invoices:
            self._hash.update(f"{', ' if self._count else ''}{invoice!r}".encode())
            self._count += 1

    def hexdigest(self, rest: BillingProposal) -> str:
        """The digest, once every invoice was added; `rest` is the proposal without them."""
        _, _, tail = repr(attrs.evolve(rest, invoices=())).partition(_NO_INVOICES)
        self._hash.update(f"{',' if self._count == 1 else ''}){tail}".encode())
        return self._hash.hexdigest()


_NO_INVOICES = "invoices=()"
