"""Billing runs: preview a period's proposal (a dry run that changes nothing), then commit it.

The preview and the commit are the same pure run on the same inputs. The preview answers the
proposal's fingerprint; a commit that sends it back as `expected_fingerprint` is refused with a
409 `conflict` if the proposal changed meanwhile (new time, a rate change), so what a
controller reviewed is exactly what is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.handlers.billing import BillingRunResult, fingerprint
from domain.billing import Allocation, Exclusion
from domain.billing_run import AdjustmentProposal, InvoiceProposal
from domain.document import DocumentLine, DocumentTotals
from domain.ids import ContractId
from domain.tax import TaxLine
from entrypoints.http.problems import FINGERPRINT_PATTERN
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    Id,
    IdempotencyKey,
    MoneyOut,
    Month,
    PeriodOut,
    exact_out,
    money_out,
    out_of,
    period_out,
    to_period,
)
from entrypoints.http.routes.declare import RouteFamily, body_example, respond_after
from entrypoints.http.routes.delivery_text import decimal_text
from entrypoints.http.routes.document_lines import LineOut, line_of
from entrypoints.http.runtime import context_of, services_of

Fingerprint = Annotated[
    str,
    msgspec.Meta(
        pattern=FINGERPRINT_PATTERN,
        description="The `fingerprint` a preview answered (SHA-256, hex).",
    ),
]


# -- requests ---------------------------------------------------------------------------------


class PreviewBody(msgspec.Struct, forbid_unknown_fields=True):
    period: Month
    #: Only these contracts (default: every contract).
    contract_ids: Annotated[list[Id], msgspec.Meta(max_length=1_000)] = []
    #: The invoices' date (default: the period's last day); it dates the tax rate.
    invoice_date: date | None = None


class CommitBody(msgspec.Struct, forbid_unknown_fields=True):
    period: Month
    contract_ids: Annotated[list[Id], msgspec.Meta(max_length=1_000)] = []
    invoice_date: date | None = None
    #: The preview's fingerprint: the commit is refused (409) if the proposal changed since.
    expected_fingerprint: Fingerprint | None = None


# -- responses --------------------------------------------------------------------------------


class AllocationOut(msgspec.Struct):
    """Which quantity of which source a line bills, at its exact (unrounded) value."""

    source: str
    quantity: str
    amount: MoneyOut
    terms: str
    #: The payer this part of the source was billed to (split billing); null: the customer.
    payer: str | None = None


class DocumentLineOut(LineOut):
    allocations: list[AllocationOut]
    service_period: PeriodOut | None
    flags: list[str]
    credits_line: int | None


class TaxLineOut(msgspec.Struct):
    tax_code: str
    base: MoneyOut
    rate: str
    tax: MoneyOut
    note: str


class InvoiceProposalOut(msgspec.Struct):
    key: str
    customer_id: str
    #: Who the invoice bills: a payer of a split obligation, or the customer (ADR 0029).
    payer_id: str
    contract_id: str
    legal_entity_id: str
    currency: str
    period: PeriodOut
    lines: list[DocumentLineOut]
    net: MoneyOut
    tax_lines: list[TaxLineOut]
    tax: MoneyOut
    gross: MoneyOut
    #: Printed once on the document: a reverse-charged payer's legal note ("" when none).
    note: str


class AdjustmentOut(msgspec.Struct):
    """A debit or credit memo re-rating what an earlier invoice billed (amounts signed)."""

    key: str
    kind: str
    references: str
    customer_id: str
    #: The payer of the document it re-rates (the customer unless billing is split).
    payer_id: str
    contract_id: str
    currency: str
    lines: list[DocumentLineOut]
    net: MoneyOut
    tax_lines: list[TaxLineOut]
    tax: MoneyOut
    gross: MoneyOut
    note: str


class ExclusionOut(msgspec.Struct):
    obligation_id: str
    source: str
    quantity: str
    value: MoneyOut
    disposition: str  # held | written_off | rejected
    reason: str


class BlockedOut(msgspec.Struct):
    contract_id: str
    reason: str
    detail: str


class SkippedOut(msgspec.Struct):
    contract_id: str
    reason: str


class DiffOut(msgspec.Struct):
    contract_id: str
    obligation_id: str
    already_invoiced: MoneyOut
    proposed: MoneyOut
    after: MoneyOut
    sources: int


class BillingRunOut(msgspec.Struct):
    period: PeriodOut
    dry_run: bool
    fingerprint: str
    invoices: list[InvoiceProposalOut]
    adjustments: list[AdjustmentOut]
    exclusions: list[ExclusionOut]
    blocked: list[BlockedOut]
    skipped: list[SkippedOut]
    diff: list[DiffOut]
    #: The drafts a commit stored (empty for a preview); each awaits a second person's approval.
    invoice_ids: list[str]


def allocation_out(a: Allocation) -> AllocationOut:
    return AllocationOut(
        str(a.source), decimal_text(a.quantity), exact_out(a.amount), a.terms, a.payer
    )


def line_out(line: DocumentLine) -> DocumentLineOut:
    return line_of(
        DocumentLineOut,
        line,
        allocations=[allocation_out(a) for a in line.allocations],
        service_period=period_out(line.service_period) if line.service_period else None,
        flags=list(line.flags),
        credits_line=line.credits_line,
    )


def tax_line_out(t: TaxLine) -> TaxLineOut:
    return TaxLineOut(t.tax_code, money_out(t.base), str(t.rate), money_out(t.amount), t.note)


def _totals(totals: DocumentTotals) -> dict[str, Any]:
    return {
        "net": money_out(totals.net),
        "tax_lines": [tax_line_out(t) for t in totals.tax_lines],
        "tax": money_out(totals.tax),
        "gross": money_out(totals.gross),
        "note": totals.note,
    }


def _invoice(p: InvoiceProposal) -> InvoiceProposalOut:
    return out_of(
        InvoiceProposalOut,
        p,
        payer_id=p.payer,
        currency=p.currency.code,
        period=period_out(p.period),
        lines=[line_out(line) for line in p.lines],
        **_totals(p.totals),
    )


def _adjustment(a: AdjustmentProposal) -> AdjustmentOut:
    return out_of(
        AdjustmentOut,
        a,
        kind=a.kind.value,
        payer_id=a.payer_id or a.customer_id,
        contract_id=a.contract_id,
        currency=a.currency.code,
        lines=[line_out(line) for line in a.lines],
        **_totals(a.totals),
    )


def _exclusion(x: Exclusion) -> ExclusionOut:
    return ExclusionOut(
        x.obligation_id,
        str(x.source),
        decimal_text(x.quantity),
        money_out(x.value.quantized()),
        x.disposition.value,
        x.reason,
    )


def billing_run_out(result: BillingRunResult, *, dry_run: bool) -> BillingRunOut:
    proposal = result.proposal
    return BillingRunOut(
        period=period_out(proposal.period),
        dry_run=dry_run,
        # A commit computes the digest only when asked to check one; answer it regardless.
        fingerprint=result.fingerprint or fingerprint(proposal),
        invoices=[_invoice(p) for p in proposal.invoices],
        adjustments=[_adjustment(a) for a in proposal.adjustments],
        exclusions=[_exclusion(x) for x in proposal.exclusions],
        blocked=[BlockedOut(b.contract_id, b.reason, b.detail) for b in proposal.blocked],
        skipped=[SkippedOut(cid, reason) for cid, reason in result.skipped],
        diff=[
            DiffOut(
                d.contract_id,
                d.obligation_id,
                money_out(d.already_invoiced),
                money_out(d.proposed),
                money_out(d.after),
                d.sources,
            )
            for d in result.diff
        ],
        invoice_ids=list(result.invoice_ids),
    )


_PREVIEW_EXAMPLE = {"period": "2026-03", "contract_ids": ["C1"], "invoice_date": "2026-03-31"}


_BILLING = RouteFamily("billing", "billing:run")


@_BILLING.post(
    "/billing-runs/preview",
    "Preview a period's billing run: the proposal, its diff and its fingerprint",
    "not-found",
    "business-rule",
    description=(
        "A dry run: nothing is stored, so no Idempotency-Key is needed. The answer is exactly "
        "what a commit of the same inputs would store. A period that has not begun is refused "
        "(422, like its commit)."
    ),
)
def preview_billing_run(
    request: Request[Any, Any, Any],
    data: Annotated[PreviewBody, body_example("March, one contract", _PREVIEW_EXAMPLE)],
) -> BillingRunOut:
    services = services_of(request)
    command = c.RunBilling(
        to_period(data.period),
        dry_run=True,
        contract_ids=tuple(ContractId(cid) for cid in data.contract_ids),
        invoice_date=data.invoice_date,
    )
    result: BillingRunResult = services.bus.handle(command, context_of(request))
    return billing_run_out(result, dry_run=True)


_COMMIT_EXAMPLE = {
    "period": "2026-03",
    "contract_ids": ["C1"],
    "invoice_date": "2026-03-31",
    "expected_fingerprint": "9f2c1e6d0a4b7c3e5f8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
}


@_BILLING.post(
    "/billing-runs",
    "Commit a billing run: store its proposal as draft invoices",
    *WRITE_PROBLEMS,
    "conflict",
    "period-closed",
    permission="billing:commit",
    status_code=201,
    description=(
        "Send the preview's `expected_fingerprint` to be sure the stored drafts are what was "
        "reviewed: a changed proposal is refused with 409 and nothing is stored. Each draft "
        "then needs approval by someone other than who committed the run."
    ),
)
def commit_billing_run(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[CommitBody, body_example("the previewed March run", _COMMIT_EXAMPLE)],
) -> Response[BillingRunOut]:
    command = c.RunBilling(
        to_period(data.period),
        dry_run=False,
        contract_ids=tuple(ContractId(cid) for cid in data.contract_ids),
        invoice_date=data.invoice_date,
        expected_fingerprint=data.expected_fingerprint,
    )

    return respond_after(
        request, data, command, lambda result: billing_run_out(result, dry_run=False), status=201
    )


ROUTES = [preview_billing_run, commit_billing_run]
