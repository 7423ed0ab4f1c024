"""What the outbox says about each event: the event itself through the one converter, and for
the events an ERP acts on (an invoice issued, a credit memo issued, a payment received) the
document it needs without calling back (ADR 0036).

The event's own fields come first and keep their names and shapes, so the payload only grows:
a consumer of the earlier, thinner payloads reads it unchanged. What is added:

- who and under what: customer, payer (the customer unless billing is split), legal entity,
  contract, currency;
- totals (net, tax per tax code with its rate, base and legal note, gross) and lines (obligation,
  kind, quantity, unit price, amount, tax code and the sources each line billed), every amount a
  decimal string with exactly the currency's minor digits (`"1440.00"`, `"1440"` in JPY,
  `"1.440"` in BHD);
- dates (issue, and due when the terms give one), the credited invoice of a credit memo;
- links to the document, with the media types its URL serves.

The schemas of these payloads are published in docs/events/ (one per event type).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from adapters.serialization import unstructure
from domain.credit_memo import CreditMemo, CreditMemoIssued
from domain.document import DocumentLine, DocumentTotals
from domain.invoice import Invoice, InvoiceIssued, PaymentRecorded
from domain.money import Money
from domain.period import Period

#: The renditions of a document URL, by media type: JSON, the UBL 2.1 e-invoice of an issued
#: document (ADR 0037), and the printable PDF, all on the same URL.
RENDITIONS: tuple[tuple[str, str], ...] = (
    ("document", "application/json"),
    ("e-invoice", "application/xml"),
    ("printable", "application/pdf"),
)


def outbox_payload(aggregate: object, event: object, seen: Iterable[object]) -> dict[str, Any]:
    """The payload of one outbox event: the event's fields, plus the document an ERP needs for
    the events it acts on (`seen`: the other aggregates of the same unit of work)."""
    data = unstructure(event)
    payload: dict[str, Any] = data if isinstance(data, dict) else {"value": data}
    if isinstance(event, InvoiceIssued) and isinstance(aggregate, Invoice):
        payload.update(_invoice_issued(aggregate))
    elif isinstance(event, CreditMemoIssued) and isinstance(aggregate, CreditMemo):
        payload.update(_credit_memo_issued(aggregate, _invoice_in(seen, str(aggregate.invoice_id))))
    elif isinstance(event, PaymentRecorded) and isinstance(aggregate, Invoice):
        payload.update(_payment_recorded(aggregate, event))
    return payload


def amount_text(money: Money) -> str:
    """A document amount as text with exactly the currency's minor digits."""
    return f"{Money.from_minor(money.minor, money.currency).amount:f}"


def decimal_text(value: Decimal) -> str:
    """A quantity, rate or unit price as plain decimal text (never an exponent)."""
    return f"{value:f}"


def links(path: str) -> list[dict[str, str]]:
    """The URL of a document once per media type it serves."""
    return [{"rel": rel, "href": path, "type": media} for rel, media in RENDITIONS]


def _parties(invoice: Invoice) -> dict[str, Any]:
    return {
        "customer_id": str(invoice.customer_id),
        "payer_id": str(invoice.payer),
        "split_billing": invoice.payer_id is not None,
        "legal_entity_id": str(invoice.legal_entity_id),
        "contract_id": str(invoice.contract_id),
        "currency": invoice.currency.code,
    }


def _totals(totals: DocumentTotals) -> dict[str, Any]:
    return {
        "net": amount_text(totals.net),
        "tax": amount_text(totals.tax),
        "gross": amount_text(totals.gross),
        "tax_breakdown": [
            {
                "tax_code": t.tax_code,
                "rate": decimal_text(t.rate),
                "base": amount_text(t.base),
                "amount": amount_text(t.amount),
                "note": t.note,
            }
            for t in totals.tax_lines
        ],
        "note": totals.note,
    }


def _line(line: DocumentLine) -> dict[str, Any]:
    period = line.service_period
    return {
        "line_no": line.line_no,
        "obligation_id": str(line.obligation_id),
        "kind": line.kind.value,
        "description": line.description,
        "quantity": decimal_text(line.quantity),
        "unit_price": decimal_text(line.unit_price.amount),
        "amount": amount_text(line.amount),
        "tax_code": line.tax_code,
        "service_period": None if period is None else _period(period),
        "credits_line": line.credits_line,
        "sources": [
            {
                "kind": a.source.kind.value,
                "source_id": a.source.source_id,
                "quantity": decimal_text(a.quantity),
                "payer_id": None if a.payer is None else str(a.payer),
            }
            for a in line.allocations
        ],
    }


def _invoice_issued(invoice: Invoice) -> dict[str, Any]:
    return {
        "document_kind": invoice.kind.value,
        **_parties(invoice),
        "references": None if invoice.references is None else str(invoice.references),
        "period": _period(invoice.period),
        "due_date": None if invoice.due_date is None else invoice.due_date.isoformat(),
        "totals": _totals(invoice.totals),
        "lines": [_line(line) for line in invoice.lines],
        "links": links(f"/invoices/{invoice.invoice_id}"),
    }


def _credit_memo_issued(memo: CreditMemo, invoice: Invoice | None) -> dict[str, Any]:
    # Issuing a credit loads its invoice into the same unit of work; a memo saved on its own
    # (a repository round trip) still writes what it knows itself rather than failing the commit.
    credited = None if invoice is None else invoice.issue_date
    return {
        **({} if invoice is None else _parties(invoice)),
        "credited_invoice": {
            "invoice_id": str(memo.invoice_id),
            "number": None if invoice is None else invoice.number,
            "issue_date": None if credited is None else credited.isoformat(),
            "href": f"/invoices/{memo.invoice_id}",
        },
        "issue_date": None if memo.issue_date is None else memo.issue_date.isoformat(),
        "due_date": None,
        "reason": memo.reason,
        "write_off": memo.write_off,
        "totals": _totals(memo.totals),
        "lines": [_line(line) for line in memo.lines],
        "links": links(f"/credit-memos/{memo.credit_memo_id}"),
    }


def _payment_recorded(invoice: Invoice, event: PaymentRecorded) -> dict[str, Any]:
    return {
        **_parties(invoice),
        "invoice_number": invoice.number,
        "paid_amount": amount_text(event.amount),
        "invoice_gross": amount_text(invoice.totals.gross),
        "outstanding": amount_text(invoice.outstanding),
        "invoice_state": invoice.state.value,
        "links": links(f"/invoices/{invoice.invoice_id}"),
    }


def _period(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def _invoice_in(seen: Iterable[object], invoice_id: str) -> Invoice | None:
    for item in seen:
        if isinstance(item, Invoice) and str(item.invoice_id) == invoice_id:
            return item
    return None
