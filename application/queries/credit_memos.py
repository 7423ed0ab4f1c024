"""Credit memos as the finance screens list and open them.

A credit memo belongs to its invoice's customer: a client viewer sees it when it sees the
invoice, and only once the memo is issued. Lists are sorted by credit memo id and paged by
keyset.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import attrs

from application.queries.invoices import invoice_shown_to
from application.queries.paging import KeysetList
from application.queries.viewer import Viewer
from domain.credit_memo import CreditMemo, CreditMemoState
from domain.invoice import Invoice, InvoiceState
from domain.money import Money


def credit_memo_shown_to(
    viewer: Viewer,
    memo_state: CreditMemoState,
    customer_id: str,
    payer_id: str,
    invoice_state: InvoiceState,
) -> bool:
    """A client viewer sees the issued credit memos on invoices it sees."""
    if not invoice_shown_to(viewer, customer_id, payer_id, invoice_state):
        return False
    return not viewer.scoped or memo_state is CreditMemoState.ISSUED


@attrs.frozen
class CreditMemoFilter:
    """What a credit memo list is narrowed to (None: any)."""

    invoice_id: str | None = None
    state: str | None = None


@attrs.frozen
class CreditMemoSummary:
    """One row of the credit memo list."""

    credit_memo_id: str
    invoice_id: str
    customer_id: str
    state: str
    number: str | None
    issue_date: date | None
    gross: Money


@attrs.frozen
class CreditMemoDocument:
    """A credit memo with the invoice it credits."""

    memo: CreditMemo
    invoice: Invoice


class CreditMemoQueries(KeysetList[CreditMemoFilter, CreditMemoSummary], Protocol):
    """The credit memos' query port: the list, by credit memo id, and one memo."""

    def credit_memo(self, credit_memo_id: str, viewer: Viewer) -> CreditMemoDocument | None:
        """The memo and its invoice, or None when either is missing or not shown to `viewer`."""
        ...


def summary_key(row: CreditMemoSummary) -> tuple[str]:
    """The list's sort key (its keyset position)."""
    return (row.credit_memo_id,)
