"""Invoices: list, read, approve (maker-checker), issue, discard, payments and disputes.

A client viewer sees its customer's issued documents only (issued and every state after it),
in lists and by id (a draft, approved or discarded invoice is 404, like another customer's),
and never the firm's people behind them: `created_by` and `approved_by` are absent from what it
gets. A dispute's reason is current only while the invoice is disputed; every dispute, with how
it ended, is in `disputes`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, cast

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter, QueryParameter

from application import commands as c
from application.context import RequestContext
from application.documents import document_for_invoice
from domain.dispute import Dispute
from domain.ids import DisputeId, InvoiceId, PaymentId
from domain.invoice import Invoice, InvoiceState
from entrypoints.http.problems import Problem
from entrypoints.http.renditions import JSON, rendition, wanted
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    Cursor,
    CustomerFilter,
    DecimalString,
    Id,
    IdempotencyKey,
    Limit,
    MoneyOut,
    PeriodOut,
    Text,
    documented,
    exact_out,
    money_out,
    period_out,
    permission,
    staff,
    to_money,
)
from entrypoints.http.routes.delivery import decimal_text
from entrypoints.http.runtime import (
    Page,
    context_of,
    execute,
    paginate,
    principal_of,
    services_of,
)
from entrypoints.http.security import Principal

#: What a client viewer sees of its customer's invoices: issued documents, whatever came after.
ISSUED_STATES = frozenset(
    {
        InvoiceState.ISSUED,
        InvoiceState.PARTIALLY_PAID,
        InvoiceState.PAID,
        InvoiceState.DISPUTED,
        InvoiceState.CREDITED,
        InvoiceState.WRITTEN_OFF,
    }
)

InvoicePath = Annotated[
    str,
    Parameter(
        description="The invoice id (not its number).",
        examples=[Example(summary="an invoice", value="INV-000001")],
    ),
]


class InvoiceLineOut(msgspec.Struct):
    line_no: int
    obligation_id: str
    kind: str
    description: str
    quantity: str
    unit_price: MoneyOut
    amount: MoneyOut
    tax_code: str
    sources: list[str]
    credits_line: int | None = None


class TaxLineOut(msgspec.Struct):
    tax_code: str
    rate: str
    base: MoneyOut
    tax: MoneyOut
    note: str


class DisputeOut(msgspec.Struct):
    """One dispute of the invoice and, once it ended, how (by a credit memo, or not)."""

    reason: str
    opened_at: datetime | None
    state: Literal["open", "resolved"]
    resolution: str | None
    resolved_at: datetime | None
    credit_memo_id: str | None


def dispute_out(dispute: Dispute) -> DisputeOut:
    return DisputeOut(
        reason=dispute.reason,
        opened_at=dispute.opened_at,
        state="open" if dispute.is_open else "resolved",
        resolution=dispute.resolution,
        resolved_at=dispute.resolved_at,
        credit_memo_id=dispute.credit_memo_id,
    )


class InvoiceOut(msgspec.Struct, omit_defaults=True):
    invoice_id: str
    kind: str
    state: str
    customer_id: str
    #: Who the invoice bills: a payer of a split obligation, or the customer (ADR 0029).
    payer_id: str
    contract_id: str
    legal_entity_id: str
    currency: str
    period: PeriodOut
    net: MoneyOut
    tax: MoneyOut
    tax_lines: list[TaxLineOut]
    #: Printed once on the document: a reverse-charged payer's legal note ("" when none).
    note: str
    gross: MoneyOut
    outstanding: MoneyOut
    paid: MoneyOut
    credited: MoneyOut
    refund_due: MoneyOut
    #: Given up as uncollectable by write-offs (ADR 0040), in total; "0.00" when nothing.
    written_off: MoneyOut
    number: str | None
    issue_date: date | None
    #: When payment is due: the issue date plus the payer's payment terms (ADR 0037); null
    #: before issue and on invoices issued before due dates were kept.
    due_date: date | None
    #: The payer's payment terms in days, fixed at issue; null before issue.
    payment_terms_days: int | None
    references: str | None
    #: Why the invoice is disputed; null unless it is `disputed` now.
    dispute_reason: str | None
    #: Every dispute, oldest first, with its resolution once it ended.
    disputes: list[DisputeOut]
    lines: list[InvoiceLineOut]
    #: Absent for a client viewer (as are the cost keys for roles without `rates:read_cost`).
    created_by: str | msgspec.UnsetType = msgspec.UNSET
    approved_by: str | msgspec.UnsetType | None = msgspec.UNSET


class InvoiceSummary(msgspec.Struct):
    invoice_id: str
    kind: str
    state: str
    customer_id: str
    payer_id: str
    contract_id: str
    number: str | None
    issue_date: date | None
    gross: MoneyOut
    outstanding: MoneyOut


def invoice_out(invoice: Invoice, principal: Principal) -> InvoiceOut:
    """The invoice as `principal` may see it (no staff identities for a client viewer)."""
    totals = invoice.totals
    return InvoiceOut(
        invoice_id=invoice.invoice_id,
        kind=invoice.kind.value,
        state=invoice.state.value,
        customer_id=invoice.customer_id,
        payer_id=invoice.payer,
        contract_id=invoice.contract_id,
        legal_entity_id=invoice.legal_entity_id,
        currency=invoice.currency.code,
        period=period_out(invoice.period),
        net=money_out(totals.net),
        tax=money_out(totals.tax),
        tax_lines=[
            TaxLineOut(t.tax_code, str(t.rate), money_out(t.base), money_out(t.amount), t.note)
            for t in totals.tax_lines
        ],
        note=totals.note,
        gross=money_out(totals.gross),
        outstanding=money_out(invoice.outstanding),
        paid=money_out(invoice.amount_paid),
        credited=money_out(invoice.amount_credited),
        refund_due=money_out(invoice.refund_due),
        written_off=money_out(invoice.amount_written_off),
        created_by=staff(principal, invoice.created_by),
        approved_by=staff(principal, invoice.approved_by),
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days,
        references=invoice.references,
        dispute_reason=invoice.dispute_reason,
        disputes=[dispute_out(d) for d in invoice.disputes],
        lines=[
            InvoiceLineOut(
                line_no=line.line_no,
                obligation_id=line.obligation_id,
                kind=line.kind.value,
                description=line.description,
                quantity=decimal_text(line.quantity),
                unit_price=exact_out(line.unit_price),
                amount=money_out(line.amount),
                tax_code=line.tax_code,
                sources=[str(a.source) for a in line.allocations],
                credits_line=line.credits_line,
            )
            for line in invoice.lines
        ],
    )


def invoice_summary(invoice: Invoice) -> InvoiceSummary:
    return InvoiceSummary(
        invoice_id=invoice.invoice_id,
        kind=invoice.kind.value,
        state=invoice.state.value,
        customer_id=invoice.customer_id,
        payer_id=invoice.payer,
        contract_id=invoice.contract_id,
        number=invoice.number,
        issue_date=invoice.issue_date,
        gross=money_out(invoice.totals.gross),
        outstanding=money_out(invoice.outstanding),
    )


def shown_to(principal: Principal, invoice: Invoice) -> bool:
    """A client viewer sees the issued documents of its own customer's contracts, and those
    billed to it as a payer of another customer's contract; everyone else, everything."""
    if not (principal.sees(invoice.customer_id) or principal.sees(invoice.payer)):
        return False
    return not principal.scoped or invoice.state in ISSUED_STATES


def _visible(request: Request[Any, Any, Any], invoice_id: str) -> Invoice:
    """The invoice, or 404 when it does not exist or is not shown to the caller (another
    client's, or not yet issued for a client viewer)."""
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        invoice = uow.invoices.find(invoice_id)
    if invoice is None or not shown_to(principal_of(request), invoice):
        raise Problem("not-found", f"there is no invoice {invoice_id}")
    return invoice


@get(
    "/invoices",
    opt=permission("invoices:read"),
    tags=["invoices"],
    summary="List invoices (a client viewer sees its customer's issued ones only)",
    responses=documented(),
    sync_to_thread=True,
)
def list_invoices(
    request: Request[Any, Any, Any],
    limit: Limit = None,
    cursor: Cursor = None,
    state_filter: Annotated[
        str | None,
        QueryParameter(
            name="state",
            required=False,
            max_length=20,
            examples=[Example(summary="issued invoices", value="issued")],
        ),
    ] = None,
    customer_id: CustomerFilter = None,
    payer_id: Annotated[
        str | None,
        QueryParameter(
            name="payer_id",
            required=False,
            max_length=100,
            description="Only invoices billed to this payer (split billing; the customer "
            "when billing is not split).",
            examples=[Example(summary="one payer", value="acme-holding")],
        ),
    ] = None,
) -> Page[InvoiceSummary]:
    services = services_of(request)
    principal = principal_of(request)
    with services.reader(context_of(request)) as uow:
        invoices = uow.invoices.all()
    chosen = sorted(
        (
            i
            for i in invoices
            if shown_to(principal, i)
            and (state_filter is None or i.state.value == state_filter)
            and (customer_id is None or i.customer_id == customer_id)
            and (payer_id is None or i.payer == payer_id)
        ),
        key=lambda i: i.invoice_id,
    )
    page = paginate(chosen, limit, cursor, services.limits)
    return Page([invoice_summary(i) for i in page.items], page.next_cursor)


@get(
    "/invoices/{invoice_id:str}",
    opt=permission("invoices:read"),
    tags=["invoices"],
    summary="One invoice with its lines and the sources each line billed (or its e-invoice)",
    description=(
        "JSON by default. An issued invoice is also served as its UBL 2.1 e-invoice "
        "(EN 16931) with `Accept: application/xml` or `application/vnd.oasis.ubl+xml`: an "
        "`Invoice`, or a `CreditNote` for a credit adjustment (ADR 0037), and as a PDF a "
        "customer can read with `Accept: application/pdf` (ADR 0038). A draft has no "
        "rendition (409 `invalid-state`); an Accept header that asks for no served type gets "
        "406 `not-acceptable`."
    ),
    responses=documented("not-found", "not-acceptable", "invalid-state", "master-data-missing"),
    sync_to_thread=True,
)
def get_invoice(request: Request[Any, Any, Any], invoice_id: InvoicePath) -> Response[InvoiceOut]:
    media = wanted(request)
    invoice = _visible(request, invoice_id)
    if media == JSON:
        return Response(invoice_out(invoice, principal_of(request)), headers={"Vary": "Accept"})
    master = services_of(request).bus.deps.customer_master
    document = rendition(
        request,
        media,
        lambda uow: document_for_invoice(uow, invoice_id, master),
        invoice.number or invoice_id,
    )
    return cast("Response[InvoiceOut]", document)


def _act(
    request: Request[Any, Any, Any], invoice_id: str, body: object, command: object
) -> Response[InvoiceOut]:
    """Run an invoice command and answer with the invoice as it now stands."""
    _visible(request, invoice_id)
    services = services_of(request)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        with services.reader(ctx) as uow:
            return 200, invoice_out(uow.invoices.get(invoice_id), principal_of(request))

    return execute(request, body, run)


class Reason(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class IssueBody(msgspec.Struct, forbid_unknown_fields=True):
    issue_date: date


class PaymentBody(msgspec.Struct, forbid_unknown_fields=True):
    payment_id: Id
    amount: DecimalString
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
    received_on: date


class DisputeBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    reason: Text
    #: The billing platform's id of the dispute, if any: the same id again is a replay (a
    #: body without it fingerprints as it did before the field existed).
    dispute_id: Id | None = None


class ResolutionBody(msgspec.Struct, forbid_unknown_fields=True):
    resolution: Text


class WriteOffBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    #: Why the receivable is given up (required, not blank).
    reason: Text
    #: What to give up, in the invoice's currency with at most its minor digits; absent: all
    #: that is still owed.
    amount: DecimalString | None = None


def _example(summary: str, value: dict[str, Any]) -> Any:
    return Body(examples=[Example(summary=summary, value=value)])


@post(
    "/invoices/{invoice_id:str}/approve",
    opt=permission("invoices:approve"),
    tags=["invoices"],
    summary="Approve a draft (maker-checker: not by whoever created it)",
    responses=documented(*WRITE_PROBLEMS, "maker-checker", "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def approve_invoice(
    request: Request[Any, Any, Any], invoice_id: InvoicePath, idempotency_key: IdempotencyKey
) -> Response[InvoiceOut]:
    return _act(request, invoice_id, None, c.ApproveInvoice(InvoiceId(invoice_id)))


@post(
    "/invoices/{invoice_id:str}/discard",
    opt=permission("invoices:write"),
    tags=["invoices"],
    summary="Discard a draft; its sources become billable again",
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def discard_invoice(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[Reason, _example("a wrong rate", {"reason": "wrong rate card"})],
) -> Response[InvoiceOut]:
    return _act(request, invoice_id, data, c.DiscardInvoice(InvoiceId(invoice_id), data.reason))


@post(
    "/invoices/{invoice_id:str}/issue",
    opt=permission("invoices:issue"),
    tags=["invoices"],
    summary="Number, post and hand over an approved invoice",
    responses=documented(*WRITE_PROBLEMS, "period-closed", "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def issue_invoice(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[IssueBody, _example("issue today", {"issue_date": "2026-04-01"})],
) -> Response[InvoiceOut]:
    return _act(request, invoice_id, data, c.IssueInvoice(InvoiceId(invoice_id), data.issue_date))


@post(
    "/invoices/{invoice_id:str}/payments",
    opt=permission("payments:write"),
    tags=["invoices"],
    summary="Record a payment received (partial payments allowed; never beyond what is owed)",
    responses=documented(*WRITE_PROBLEMS, "business-rule", "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def record_payment(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        PaymentBody,
        _example(
            "a partial payment",
            {
                "payment_id": "PAY-1",
                "amount": "500.00",
                "currency": "EUR",
                "received_on": "2026-04-20",
            },
        ),
    ],
) -> Response[InvoiceOut]:
    amount = to_money(data.amount, data.currency, "/amount")
    command = c.RecordPayment(
        InvoiceId(invoice_id), PaymentId(data.payment_id), amount, data.received_on
    )
    return _act(request, invoice_id, data, command)


@post(
    "/invoices/{invoice_id:str}/dispute",
    opt=permission("disputes:write"),
    tags=["invoices"],
    summary="Open a dispute on an issued invoice",
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def open_dispute(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[DisputeBody, _example("hours disputed", {"reason": "March hours disputed"})],
) -> Response[InvoiceOut]:
    dispute_id = DisputeId(data.dispute_id) if data.dispute_id is not None else None
    command = c.OpenDispute(InvoiceId(invoice_id), data.reason, dispute_id)
    return _act(request, invoice_id, data, command)


@post(
    "/invoices/{invoice_id:str}/resolve",
    opt=permission("disputes:write"),
    tags=["invoices"],
    summary="Resolve a dispute with a stated resolution; the invoice stands",
    description=(
        "The dispute's reason moves to the invoice's `disputes` with this resolution. A credit "
        "memo drafted with `resolves_dispute: true` resolves the dispute when it is issued "
        "instead; any other credit leaves it open for this call. 409 `invalid-state` when "
        "the invoice has no open dispute."
    ),
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def resolve_dispute(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        ResolutionBody, _example("settled", {"resolution": "credit 4 hours, rest upheld"})
    ],
) -> Response[InvoiceOut]:
    command = c.ResolveDispute(InvoiceId(invoice_id), data.resolution)
    return _act(request, invoice_id, data, command)


@post(
    "/invoices/{invoice_id:str}/write-off",
    opt=permission("invoices:write_off"),
    tags=["invoices"],
    summary="Write off what an invoice still owes as uncollectable (bad debt)",
    description=(
        "Finance approvers only. Gives up `amount` (in the invoice's currency, at most its minor "
        "digits; absent: all that is still owed) of an `issued` or `partially_paid` invoice, "
        "posts Dr write-off expense / Cr receivables dated today and emits "
        "`invoice.written_off`. All that is owed makes the invoice `written_off`; part of it "
        "leaves its state as it is. 409 `invalid-state` for an invoice that is disputed (settle "
        "the dispute first), paid, credited or already written off; 422 `business-rule` for an "
        "amount above what is owed. A written-off invoice takes no payment and no credit (422)."
    ),
    responses=documented(*WRITE_PROBLEMS, "business-rule", "period-closed", "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def write_off_invoice(
    request: Request[Any, Any, Any],
    invoice_id: InvoicePath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        WriteOffBody,
        _example(
            "a short payment not worth chasing",
            {"reason": "short payment: the client's bank charges", "amount": "35.00"},
        ),
    ],
) -> Response[InvoiceOut]:
    invoice = _visible(request, invoice_id)
    amount = None
    if data.amount is not None:
        amount = to_money(data.amount, invoice.currency.code, "/amount")
    command = c.WriteOffInvoice(InvoiceId(invoice_id), data.reason, amount)
    return _act(request, invoice_id, data, command)


ROUTES = [
    list_invoices,
    get_invoice,
    approve_invoice,
    discard_invoice,
    issue_invoice,
    record_payment,
    open_dispute,
    resolve_dispute,
    write_off_invoice,
]
