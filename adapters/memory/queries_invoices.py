"""Invoices and credit memos over the in-memory store: the committed documents filtered by
the application's visibility rules and paged as the SQL stores page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adapters.memory.queries_paging import page_of
from adapters.memory.store import StoreQueries
from application.queries import credit_memos as cm
from application.queries import invoices as inv
from application.queries.paging import Page, PageRequest
from application.queries.projection import projected
from application.queries.viewer import Viewer
from domain.credit_memo import CreditMemo
from domain.invoice import Invoice


class MemoryInvoices(StoreQueries):
    """`InvoiceQueries` on the in-memory store."""

    def _all(self) -> Iterator[Invoice]:
        items: dict[str, Any] = self._store.data.aggregates.get("invoice", {})
        return iter(list(items.values()))

    def page(
        self, wanted: inv.InvoiceFilter, viewer: Viewer, request: PageRequest
    ) -> Page[inv.InvoiceSummary]:
        rows = (
            _summary(i)
            for i in self._all()
            if inv.invoice_shown_to(viewer, i.customer_id, i.payer, i.state)
            and wanted.state in (None, i.state.value)
            and wanted.customer_id in (None, i.customer_id)
            and wanted.payer_id in (None, i.payer)
        )
        return page_of(rows, inv.summary_key, request)

    def invoice(self, invoice_id: str, viewer: Viewer) -> Invoice | None:
        invoice: Invoice | None = self._store.data.aggregates.get("invoice", {}).get(invoice_id)
        if invoice is None:
            return None
        shown = inv.invoice_shown_to(viewer, invoice.customer_id, invoice.payer, invoice.state)
        return invoice if shown else None


def _summary(invoice: Invoice) -> inv.InvoiceSummary:
    return projected(
        inv.InvoiceSummary,
        invoice,
        kind=invoice.kind.value,
        state=invoice.state.value,
        payer_id=invoice.payer,
        gross=invoice.totals.gross,
    )


class MemoryCreditMemos(StoreQueries):
    """`CreditMemoQueries` on the in-memory store."""

    def _documents(self) -> Iterator[cm.CreditMemoDocument]:
        aggregates = self._store.data.aggregates
        invoices: dict[str, Invoice] = aggregates.get("invoice", {})
        for memo in list(aggregates.get("credit_memo", {}).values()):
            invoice = invoices.get(memo.invoice_id)
            if invoice is not None:
                yield cm.CreditMemoDocument(memo, invoice)

    def page(
        self, wanted: cm.CreditMemoFilter, viewer: Viewer, request: PageRequest
    ) -> Page[cm.CreditMemoSummary]:
        rows = (
            _memo_summary(d.memo, d.invoice)
            for d in self._documents()
            if _shown(viewer, d)
            and wanted.invoice_id in (None, d.memo.invoice_id)
            and wanted.state in (None, d.memo.state.value)
        )
        return page_of(rows, cm.summary_key, request)

    def credit_memo(self, credit_memo_id: str, viewer: Viewer) -> cm.CreditMemoDocument | None:
        for document in self._documents():
            if document.memo.credit_memo_id == credit_memo_id:
                return document if _shown(viewer, document) else None
        return None


def _shown(viewer: Viewer, document: cm.CreditMemoDocument) -> bool:
    memo, invoice = document.memo, document.invoice
    return cm.credit_memo_shown_to(
        viewer, memo.state, invoice.customer_id, invoice.payer, invoice.state
    )


def _memo_summary(memo: CreditMemo, invoice: Invoice) -> cm.CreditMemoSummary:
    return projected(
        cm.CreditMemoSummary,
        memo,
        customer_id=invoice.customer_id,
        state=memo.state.value,
        gross=memo.totals.gross,
    )
