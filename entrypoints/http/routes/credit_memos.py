"""Credit memos: draft one against an issued invoice (whole lines, quantities of the sources
a line billed, or amounts), list and read them, approve (maker-checker) and issue, or discard
an unissued one (what it reserved on the invoice can be credited again).

An amount credit (ADR 0027) returns no quantity: it is a concession (written off) unless the
line says `releases`; on a milestone or installment line a releasing amount is billed again on
that part in a later run (ADR 0026).

A credit memo belongs to its invoice's customer: a client viewer of another customer gets 404
for it and never sees it in the list. A client viewer sees issued credit memos only (a draft,
approved or discarded one is 404 and absent from lists), without `created_by` or `approved_by`.
Its id is assigned by the server.

A credit on a disputed invoice leaves the dispute open unless it says `resolves_dispute`:
issuing such a credit resolves the dispute, its reason recorded as the resolution.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

import domain.billing_models  # noqa: F401  (every model's source kinds, for the pattern)
from application import commands as c
from application.context import RequestContext
from application.documents import document_for_credit_memo
from application.queries.credit_memos import CreditMemoFilter
from application.queries.credit_memos import CreditMemoSummary as CreditMemoRow
from application.queries.paging import PageRequest
from application.queries.viewer import Viewer
from domain.billing import SourceKind, SourceRef
from domain.credit_memo import CreditMemo, CreditMemoState
from domain.ids import CreditMemoId, InvoiceId
from domain.invoice import Invoice
from domain.money import Currency
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.renditions import document_answer, wanted
from entrypoints.http.routes.billing import DocumentLineOut, TaxLineOut, line_out, tax_line_out
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    WRITE_PROBLEMS,
    DecimalString,
    IdempotencyKey,
    MoneyOut,
    Text,
    money_out,
    or_not_found,
    out_of,
    published,
    staff,
    to_decimal,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    body_examples,
    optional_query,
    path_param,
    respond_seen,
    state_query,
)
from entrypoints.http.routes.invoices import InvoicePath, Reason
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import (
    execute,
    finance_of,
    principal_of,
    services_of,
    viewer_of,
)
from entrypoints.http.security import Principal

_KINDS = "|".join(kind.value for kind in SourceKind.members())

Source = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^({_KINDS}):[A-Za-z0-9._:\-]{{1,200}}$",
        description="A source a line billed, as `kind:id` (e.g. `time_entry:PSA-88231`).",
        examples=["time_entry:PSA-88231"],
    ),
]

CreditMemoPath = Annotated[
    str,
    path_param("The credit memo id (not its number).", "a credit memo", "CM-000001"),
]


class CreditLineIn(msgspec.Struct, forbid_unknown_fields=True):
    """What to credit on one invoice line: a quantity of a source, all that is left of a
    source, a quantity taken from the line's last sources first, an amount (of one source or
    spread over the line), or (none of these) the whole line."""

    line_no: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    source: Source | None = None
    quantity: DecimalString | None = None
    #: An amount instead of a quantity, with exactly the currency's minor digits.
    amount: DecimalString | None = None
    #: Only with `amount`: the amount is billed again (a price correction, or on a milestone
    #: or installment billable again on that part) instead of conceded for good.
    releases: bool = False


class DraftCreditMemoBody(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[CreditLineIn], msgspec.Meta(min_length=1, max_length=1_000)]
    reason: Text
    #: Settle the credited quantities for good instead of releasing them to be billed again.
    write_off: bool = False
    #: Issuing this credit resolves the invoice's open dispute, with `reason` as the
    #: resolution (only a disputed invoice takes it). Without it the dispute stays open.
    resolves_dispute: bool = False


class IssueBody(msgspec.Struct, forbid_unknown_fields=True):
    issue_date: date


class CreditMemoOut(msgspec.Struct, omit_defaults=True):
    credit_memo_id: str
    invoice_id: str
    invoice_number: str | None
    customer_id: str
    state: str
    reason: str
    write_off: bool
    resolves_dispute: bool
    #: Credit lines written off as amount concessions although the memo is not `write_off`.
    conceded_lines: list[int]
    number: str | None
    issue_date: date | None
    currency: str
    net: MoneyOut
    tax_lines: list[TaxLineOut]
    tax: MoneyOut
    gross: MoneyOut
    lines: list[DocumentLineOut]
    #: Absent for a client viewer.
    created_by: str | msgspec.UnsetType = msgspec.UNSET
    approved_by: str | msgspec.UnsetType | None = msgspec.UNSET
    #: Why the credit was discarded; absent until it is (`reason` stays the credit's own).
    discard_reason: str | None = None


#: What a row of the credit memo list publishes of its read model: all of it.
_SUMMARY_FIELDS = (
    "credit_memo_id", "invoice_id", "customer_id", "state", "number", "issue_date", "gross",
)  # fmt: skip


class CreditMemoSummary(published(CreditMemoRow, *_SUMMARY_FIELDS, gross=MoneyOut)):
    """A row of the credit memo list on the wire."""


def credit_memo_out(memo: CreditMemo, invoice: Invoice, principal: Principal) -> CreditMemoOut:
    """The credit memo as `principal` may see it (no staff identities for a client viewer)."""
    totals = memo.totals
    return out_of(
        CreditMemoOut,
        memo,
        invoice_number=invoice.number,
        customer_id=invoice.customer_id,
        state=memo.state.value,
        conceded_lines=list(memo.conceded_lines),
        created_by=staff(principal, memo.created_by),
        approved_by=staff(principal, memo.approved_by),
        discard_reason=memo.discard_reason,
        currency=invoice.currency.code,
        net=money_out(totals.net),
        tax_lines=[tax_line_out(t) for t in totals.tax_lines],
        tax=money_out(totals.tax),
        gross=money_out(totals.gross),
        lines=[line_out(line) for line in memo.lines],
    )


def _visible_invoice(request: Request[Any, Any, Any], invoice_id: str) -> Invoice:
    """The invoice to credit, or 404 when it does not exist or is another client's."""
    invoice = finance_of(request).invoices.invoice(invoice_id, Viewer.staff())
    principal = principal_of(request)
    return or_not_found(invoice, "invoice", invoice_id, lambda i: principal.sees(i.customer_id))


def _visible(request: Request[Any, Any, Any], credit_memo_id: str) -> CreditMemoOut:
    """The credit memo, or 404 when it does not exist or is not shown to the caller (its
    invoice is another client's, or it is not issued yet for a client viewer)."""
    found = finance_of(request).credit_memos.credit_memo(credit_memo_id, viewer_of(request))
    shown = or_not_found(found, "credit memo", credit_memo_id)
    return credit_memo_out(shown.memo, shown.invoice, principal_of(request))


def _bad(pointer: str, detail: str) -> Problem:
    return Problem("validation-error", detail, errors=[FieldError(pointer, detail)])


def _request(line: CreditLineIn, n: int, currency: Currency) -> c.CreditRequestInput:
    """One credit line as the command takes it; a quantity that is not positive, a quantity
    and an amount together, a release flag without an amount, or an amount that is not
    positive with exactly the currency's minor digits are refused (400) at the field."""
    at = f"/lines/{n}"
    quantity = None if line.quantity is None else to_decimal(line.quantity, f"{at}/quantity")
    if quantity is not None and quantity <= 0:
        raise _bad(f"{at}/quantity", f"{line.quantity} is not a positive quantity")
    amount = None
    if line.amount is not None:
        if quantity is not None:
            raise _bad(f"{at}/amount", "credit a quantity or an amount, not both")
        amount = to_decimal(line.amount, f"{at}/amount")
        exponent = amount.as_tuple().exponent
        if exponent != -currency.minor_units or amount <= 0:
            raise _bad(
                f"{at}/amount",
                f"{line.amount} is not a positive {currency.code} amount with exactly "
                f"{currency.minor_units} decimals",
            )
    elif line.releases:
        raise _bad(f"{at}/releases", "`releases` goes with an `amount`")
    return c.CreditRequestInput(line.line_no, _source(line.source), quantity, amount, line.releases)


def _source(text: str | None) -> SourceRef | None:
    if text is None:
        return None
    kind, _, source_id = text.partition(":")
    return SourceRef(SourceKind(kind), source_id)


_DRAFT_EXAMPLE = {
    "lines": [{"line_no": 1, "source": "time_entry:PSA-88231", "quantity": "2"}],
    "reason": "2 h booked twice",
}
_AMOUNT_EXAMPLE = {
    "lines": [{"line_no": 1, "amount": "150.00"}],
    "reason": "goodwill concession on the March advisory hours",
}
_RELEASING_EXAMPLE = {
    "lines": [{"line_no": 3, "amount": "1000.00", "releases": True}],
    "reason": "milestone billed 1,000.00 too early; billed again with the next run",
}
_RESOLVING_EXAMPLE = {
    "lines": [{"line_no": 1, "source": "time_entry:PSA-88231"}],
    "reason": "hours disputed by the client credited in full",
    "resolves_dispute": True,
}


_CREDIT_MEMOS = RouteFamily("credit memos", "invoices:read")


@_CREDIT_MEMOS.post(
    "/invoices/{invoice_id:str}/credit-memos",
    "Draft a credit memo against an issued invoice",
    *RULED_WRITE_PROBLEMS,
    permission="credits:write",
    status_code=201,
    description=(
        "A credit never exceeds what its invoice line billed less earlier credits, quantity "
        "and amount credits together. Issued, it releases the credited quantities to be billed "
        "again, unless `write_off` settles them. A line may credit an `amount` instead of a "
        "quantity (exactly the currency's minor digits): no quantity returns, and the amount "
        "is a concession unless the line says `releases`. "
        "On a disputed invoice, `resolves_dispute: true` makes its issue resolve the dispute "
        "(the reason becomes the resolution); without it the dispute stays open and is "
        "resolved separately (a credit that leaves nothing to collect ends it either way)."
    ),
)
def draft_credit_memo(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        DraftCreditMemoBody,
        body_examples(
            {
                "part of a line": _DRAFT_EXAMPLE,
                "an amount conceded": _AMOUNT_EXAMPLE,
                "an amount to bill again": _RELEASING_EXAMPLE,
                "a credit that resolves the dispute": _RESOLVING_EXAMPLE,
            }
        ),
    ],
) -> Response[CreditMemoOut]:
    services = services_of(request)
    currency = _visible_invoice(request, invoice_id).currency
    requests = tuple(_request(line, n, currency) for n, line in enumerate(data.lines))

    def run(ctx: RequestContext) -> tuple[int, object]:
        memo_id = CreditMemoId(services.bus.deps.ids.next_id("CM"))
        command = c.DraftCreditMemo(
            memo_id,
            InvoiceId(invoice_id),
            requests,
            data.reason,
            data.write_off,
            data.resolves_dispute,
        )
        services.bus.handle(command, ctx)
        return 201, _visible(request, memo_id)

    return execute(request, data, run)


def _summary(row: CreditMemoRow) -> CreditMemoSummary:
    return CreditMemoSummary(
        row.credit_memo_id,
        row.invoice_id,
        row.customer_id,
        row.state,
        row.number,
        row.issue_date,
        money_out(row.gross),
    )


@_CREDIT_MEMOS.get(
    "/credit-memos", "List credit memos (a client viewer sees its customer's issued ones only)"
)
@paged(CreditMemoSummary, _summary)
def list_credit_memos(
    request: Request[Any, Any, Any],
    page: PageRequest,
    invoice_id: Annotated[
        str | None,
        optional_query("invoice_id", "one invoice's credits", "INV-000001", max_length=100),
    ] = None,
    state_filter: Annotated[
        str | None,
        state_query(CreditMemoState, "drafts awaiting approval", "draft"),
    ] = None,
) -> Rows:
    wanted = CreditMemoFilter(invoice_id, state_filter)
    memos = finance_of(request).credit_memos
    return memos.page(wanted, viewer_of(request), page)


@_CREDIT_MEMOS.get(
    "/credit-memos/{credit_memo_id:str}",
    "One credit memo with its lines and the sources each credits (or its e-invoice)",
    "not-found",
    "not-acceptable",
    "invalid-state",
    "master-data-missing",
    description=(
        "JSON by default. An issued credit memo is also served as its UBL 2.1 `CreditNote` "
        "(EN 16931, citing the credited invoice) with `Accept: application/xml` or "
        "`application/vnd.oasis.ubl+xml` (ADR 0037), and as a printable credit note with "
        "`Accept: application/pdf` (ADR 0038). A draft has no rendition (409 "
        "`invalid-state`); an Accept header that asks for no served type gets 406 "
        "`not-acceptable`."
    ),
)
def get_credit_memo(
    request: Request[Any, Any, Any], credit_memo_id: CreditMemoPath
) -> Response[CreditMemoOut]:
    media = wanted(request)
    memo = _visible(request, credit_memo_id)
    master = services_of(request).bus.deps.customer_master
    return document_answer(
        request,
        media,
        lambda: memo,
        lambda uow: document_for_credit_memo(uow, credit_memo_id, master),
        memo.number or credit_memo_id,
    )


def _act(
    request: Request[Any, Any, Any], credit_memo_id: str, body: object, command: object
) -> Response[CreditMemoOut]:
    return respond_seen(request, body, command, lambda: _visible(request, credit_memo_id))


_CREDIT_MEMO = Subject("credit_memo_id", CreditMemoPath, CreditMemoOut, _act)


@_CREDIT_MEMOS.post(
    "/credit-memos/{credit_memo_id:str}/approve",
    "Approve a drafted credit memo (maker-checker: not by whoever drafted it)",
    *WRITE_PROBLEMS,
    "maker-checker",
    permission="credits:approve",
)
@_CREDIT_MEMO.command()
def approve_credit_memo(credit_memo_id: str) -> object:
    return c.ApproveCreditMemo(CreditMemoId(credit_memo_id))


@_CREDIT_MEMOS.post(
    "/credit-memos/{credit_memo_id:str}/discard",
    "Discard a draft or approved credit memo; what it reserved can be credited again",
    *WRITE_PROBLEMS,
    permission="credits:write",
)
@_CREDIT_MEMO.command(body_example("drafted in error", {"reason": "wrong line credited"}))
def discard_credit_memo(credit_memo_id: str, data: Reason) -> object:
    return c.DiscardCreditMemo(CreditMemoId(credit_memo_id), data.reason)


@_CREDIT_MEMOS.post(
    "/credit-memos/{credit_memo_id:str}/issue",
    "Number, post and issue an approved credit memo",
    *WRITE_PROBLEMS,
    "period-closed",
    permission="credits:issue",
)
@_CREDIT_MEMO.command(body_example("issue today", {"issue_date": "2026-04-03"}))
def issue_credit_memo(credit_memo_id: str, data: IssueBody) -> object:
    return c.IssueCreditMemo(CreditMemoId(credit_memo_id), data.issue_date)


ROUTES = [
    draft_credit_memo,
    list_credit_memos,
    get_credit_memo,
    approve_credit_memo,
    discard_credit_memo,
    issue_credit_memo,
]
