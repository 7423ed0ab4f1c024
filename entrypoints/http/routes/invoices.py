"""Invoices: list, read, approve (maker-checker), issue, discard, payments and disputes.

A client viewer sees its customer's issued documents only (issued and every state after it),
in lists and by id (a draft, approved or discarded invoice is 404, like another customer's),
and never the firm's people behind them: `created_by` and `approved_by` are absent from what it
gets. A dispute's reason is current only while the invoice is disputed; every dispute, with how
it ended, is in `disputes`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.documents import document_for_invoice
from application.queries.invoices import InvoiceFilter
from application.queries.paging import PageRequest
from domain.ids import DisputeId, InvoiceId, PaymentId
from domain.invoice import Invoice
from domain.invoice_lifecycle import InvoiceState
from entrypoints.http.problems import CURRENCY_PATTERN
from entrypoints.http.renditions import document_answer, wanted
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    WRITE_PROBLEMS,
    CustomerFilter,
    DecimalString,
    Id,
    Text,
    or_not_found,
    to_money,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    optional_query,
    path_param,
    respond_seen,
    state_query,
)
from entrypoints.http.routes.invoice_views import (
    InvoiceOut,
    InvoiceSummary,
    invoice_out,
    invoice_summary,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import (
    finance_of,
    principal_of,
    services_of,
    viewer_of,
)

InvoicePath = Annotated[
    str,
    path_param("The invoice id (not its number).", "an invoice", "INV-000001"),
]


def _visible(request: Request[Any, Any, Any], invoice_id: str) -> Invoice:
    """The invoice, or 404 when it does not exist or is not shown to the caller (another
    client's, or not yet issued for a client viewer)."""
    invoice = finance_of(request).invoices.invoice(invoice_id, viewer_of(request))
    return or_not_found(invoice, "invoice", invoice_id)


_INVOICES = RouteFamily("invoices", "invoices:read")


@_INVOICES.get("/invoices", "List invoices (a client viewer sees its customer's issued ones only)")
@paged(InvoiceSummary, invoice_summary)
def list_invoices(
    request: Request[Any, Any, Any],
    page: PageRequest,
    state_filter: Annotated[
        str | None,
        state_query(InvoiceState, "issued invoices", "issued"),
    ] = None,
    customer_id: CustomerFilter = None,
    payer_id: Annotated[
        str | None,
        optional_query(
            "payer_id",
            "one payer",
            "acme-holding",
            max_length=100,
            description=(
                "Only invoices billed to this payer (split billing; the customer "
                "when billing is not split)."
            ),
        ),
    ] = None,
) -> Rows:
    wanted = InvoiceFilter(state_filter, customer_id, payer_id)
    return finance_of(request).invoices.page(wanted, viewer_of(request), page)


@_INVOICES.get(
    "/invoices/{invoice_id:str}",
    "One invoice with its lines and the sources each line billed (or its e-invoice)",
    "not-found",
    "not-acceptable",
    "invalid-state",
    "master-data-missing",
    description=(
        "JSON by default. An issued invoice is also served as its UBL 2.1 e-invoice "
        "(EN 16931) with `Accept: application/xml` or `application/vnd.oasis.ubl+xml`: an "
        "`Invoice`, or a `CreditNote` for a credit adjustment (ADR 0037), and as a PDF a "
        "customer can read with `Accept: application/pdf` (ADR 0038). A draft has no "
        "rendition (409 `invalid-state`); an Accept header that asks for no served type gets "
        "406 `not-acceptable`."
    ),
)
def get_invoice(request: Request[Any, Any, Any], invoice_id: InvoicePath) -> Response[InvoiceOut]:
    media = wanted(request)
    invoice = _visible(request, invoice_id)
    master = services_of(request).bus.deps.customer_master
    return document_answer(
        request,
        media,
        lambda: invoice_out(invoice, principal_of(request)),
        lambda uow: document_for_invoice(uow, invoice_id, master),
        invoice.number or invoice_id,
    )


def _act(
    request: Request[Any, Any, Any], invoice_id: str, body: object, command: object
) -> Response[InvoiceOut]:
    """Run an invoice command and answer with the invoice as it now stands."""
    principal = principal_of(request)
    return respond_seen(
        request, body, command, lambda: invoice_out(_visible(request, invoice_id), principal)
    )


class Reason(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class IssueBody(msgspec.Struct, forbid_unknown_fields=True):
    issue_date: date


class PaymentBody(msgspec.Struct, forbid_unknown_fields=True):
    payment_id: Id
    amount: DecimalString
    currency: Annotated[str, msgspec.Meta(pattern=CURRENCY_PATTERN)]
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


_INVOICE = Subject("invoice_id", InvoicePath, InvoiceOut, _act)


@_INVOICES.post(
    "/invoices/{invoice_id:str}/approve",
    "Approve a draft (maker-checker: not by whoever created it)",
    *WRITE_PROBLEMS,
    "maker-checker",
    permission="invoices:approve",
)
@_INVOICE.command()
def approve_invoice(invoice_id: str) -> object:
    return c.ApproveInvoice(InvoiceId(invoice_id))


@_INVOICES.post(
    "/invoices/{invoice_id:str}/discard",
    "Discard a draft; its sources become billable again",
    *WRITE_PROBLEMS,
    permission="invoices:write",
)
@_INVOICE.command(body_example("a wrong rate", {"reason": "wrong rate card"}))
def discard_invoice(invoice_id: str, data: Reason) -> object:
    return c.DiscardInvoice(InvoiceId(invoice_id), data.reason)


@_INVOICES.post(
    "/invoices/{invoice_id:str}/issue",
    "Number, post and hand over an approved invoice",
    *WRITE_PROBLEMS,
    "period-closed",
    permission="invoices:issue",
)
@_INVOICE.command(body_example("issue today", {"issue_date": "2026-04-01"}))
def issue_invoice(invoice_id: str, data: IssueBody) -> object:
    return c.IssueInvoice(InvoiceId(invoice_id), data.issue_date)


_PAYMENT_EXAMPLE = {
    "payment_id": "PAY-1",
    "amount": "500.00",
    "currency": "EUR",
    "received_on": "2026-04-20",
}


@_INVOICES.post(
    "/invoices/{invoice_id:str}/payments",
    "Record a payment received (partial payments allowed; never beyond what is owed)",
    *RULED_WRITE_PROBLEMS,
    permission="payments:write",
)
@_INVOICE.command(body_example("a partial payment", _PAYMENT_EXAMPLE))
def record_payment(invoice_id: str, data: PaymentBody) -> object:
    amount = to_money(data.amount, data.currency, "/amount")
    return c.RecordPayment(
        InvoiceId(invoice_id), PaymentId(data.payment_id), amount, data.received_on
    )


@_INVOICES.post(
    "/invoices/{invoice_id:str}/dispute",
    "Open a dispute on an issued invoice",
    *WRITE_PROBLEMS,
    permission="disputes:write",
)
@_INVOICE.command(body_example("hours disputed", {"reason": "March hours disputed"}))
def open_dispute(invoice_id: str, data: DisputeBody) -> object:
    dispute_id = DisputeId(data.dispute_id) if data.dispute_id is not None else None
    return c.OpenDispute(InvoiceId(invoice_id), data.reason, dispute_id)


@_INVOICES.post(
    "/invoices/{invoice_id:str}/resolve",
    "Resolve a dispute with a stated resolution; the invoice stands",
    *WRITE_PROBLEMS,
    permission="disputes:write",
    description=(
        "The dispute's reason moves to the invoice's `disputes` with this resolution. A credit "
        "memo drafted with `resolves_dispute: true` resolves the dispute when it is issued "
        "instead; any other credit leaves it open for this call. 409 `invalid-state` when "
        "the invoice has no open dispute."
    ),
)
@_INVOICE.command(body_example("settled", {"resolution": "credit 4 hours, rest upheld"}))
def resolve_dispute(invoice_id: str, data: ResolutionBody) -> object:
    return c.ResolveDispute(InvoiceId(invoice_id), data.resolution)


@_INVOICES.post(
    "/invoices/{invoice_id:str}/write-off",
    "Write off what an invoice still owes as uncollectable (bad debt)",
    *WRITE_PROBLEMS,
    "business-rule",
    "period-closed",
    permission="invoices:write_off",
    description=(
        "Finance approvers only. Gives up `amount` (in the invoice's currency, at most its minor "
        "digits; absent: all that is still owed) of an `issued` or `partially_paid` invoice, "
        "posts Dr write-off expense / Cr receivables dated today and emits "
        "`invoice.written_off`. All that is owed makes the invoice `written_off`; part of it "
        "leaves its state as it is. 409 `invalid-state` for an invoice that is disputed (settle "
        "the dispute first), paid, credited or already written off; 422 `business-rule` for an "
        "amount above what is owed. A written-off invoice takes no payment and no credit (422)."
    ),
)
@_INVOICE.command(
    body_example(
        "a short payment not worth chasing",
        {"reason": "short payment: the client's bank charges", "amount": "35.00"},
    )
)
def write_off_invoice(
    request: Request[Any, Any, Any], invoice_id: str, data: WriteOffBody
) -> object:
    invoice = _visible(request, invoice_id)
    amount = None
    if data.amount is not None:
        amount = to_money(data.amount, invoice.currency.code, "/amount")
    return c.WriteOffInvoice(InvoiceId(invoice_id), data.reason, amount)


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
