"""Invoices as the finance screens list and open them.

A client viewer sees the issued documents (issued and every state after it) of its own
customer's contracts and those billed to it as a payer of another customer's contract; the
firm's people see every invoice. Lists are sorted by invoice id and paged by keyset.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import attrs

from application.queries.paging import KeysetList
from application.queries.viewer import Viewer
from domain.invoice import Invoice, InvoiceState
from domain.money import Money

#: What a client viewer sees of its customer's invoices: issued documents, whatever came after.
ISSUED_INVOICE_STATES = frozenset(
    {
        InvoiceState.ISSUED,
        InvoiceState.PARTIALLY_PAID,
        InvoiceState.PAID,
        InvoiceState.DISPUTED,
        InvoiceState.CREDITED,
        InvoiceState.WRITTEN_OFF,
    }
)


def invoice_shown_to(viewer: Viewer, customer_id: str, payer_id: str, state: InvoiceState) -> bool:
    """A client viewer sees the issued invoices of its customer or billed to it as a payer;
    the firm sees every invoice."""
    if not (viewer.sees(customer_id) or viewer.sees(payer_id)):
        return False
    return not viewer.scoped or state in ISSUED_INVOICE_STATES


@attrs.frozen
class InvoiceFilter:
    """What an invoice list is narrowed to (None: any)."""

    state: str | None = None
    customer_id: str | None = None
    payer_id: str | None = None


@attrs.frozen
class InvoiceSummary:
    """One row of the invoice list."""

    invoice_id: str
    kind: str
    state: str
    customer_id: str
    payer_id: str
    contract_id: str
    number: str | None
    issue_date: date | None
    gross: Money
    outstanding: Money


class InvoiceQueries(KeysetList[InvoiceFilter, InvoiceSummary], Protocol):
    """The invoices' query port: the list, by invoice id, and one invoice."""

    def invoice(self, invoice_id: str, viewer: Viewer) -> Invoice | None:
        """The whole document, or None when it does not exist or is not shown to `viewer`."""
        ...


def summary_key(row: InvoiceSummary) -> tuple[str]:
    """The list's sort key (its keyset position)."""
    return (row.invoice_id,)
