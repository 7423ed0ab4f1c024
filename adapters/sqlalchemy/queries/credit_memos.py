"""Credit memos on SQL: joined to their invoices for the customer and the viewer's scope,
filtered, sorted and paged by the database."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.invoices import visible_to
from adapters.sqlalchemy.queries.reading import EngineQueries, after, reading
from application.queries.credit_memos import (
    CreditMemoDocument,
    CreditMemoFilter,
    CreditMemoSummary,
    credit_memo_shown_to,
    summary_key,
)
from application.queries.paging import Page, PageRequest
from application.queries.projection import projected
from application.queries.viewer import Viewer
from domain.credit_memo import CreditMemo, CreditMemoState
from domain.invoice import Invoice
from domain.money import Money

_M, _I = t.credit_memos.c, t.invoices.c


class SqlCreditMemos(EngineQueries):
    """`CreditMemoQueries` on SQLite and PostgreSQL."""

    def page(
        self, wanted: CreditMemoFilter, viewer: Viewer, request: PageRequest
    ) -> Page[CreditMemoSummary]:
        statement = _summaries().where(visible_to(viewer), after(_M.id, request))
        if viewer.scoped:
            statement = statement.where(_M.state == CreditMemoState.ISSUED.value)
        if wanted.invoice_id is not None:
            statement = statement.where(_M.invoice_id == wanted.invoice_id)
        if wanted.state is not None:
            statement = statement.where(_M.state == wanted.state)
        statement = statement.order_by(_M.id).limit(request.limit + 1)
        with reading(self._engine) as connection:
            rows = connection.execute(statement).all()
        return Page.from_rows([_summary(row) for row in rows], request, summary_key)

    def credit_memo(self, credit_memo_id: str, viewer: Viewer) -> CreditMemoDocument | None:
        statement = (
            sa.select(_M.body.label("memo"), _I.body.label("invoice"))
            .join(t.invoices, _I.id == _M.invoice_id)
            .where(_M.id == credit_memo_id)
        )
        with reading(self._engine) as connection:
            row = connection.execute(statement).first()
        if row is None:
            return None
        memo, invoice = structure(row.memo, CreditMemo), structure(row.invoice, Invoice)
        shown = credit_memo_shown_to(
            viewer, memo.state, invoice.customer_id, invoice.payer, invoice.state
        )
        return CreditMemoDocument(memo, invoice) if shown else None


@functools.cache
def _summaries() -> sa.Select[Any]:
    def field(*path: str) -> Any:
        return _M.body[path].as_string()

    return sa.select(
        _M.id.label("credit_memo_id"),
        _M.invoice_id,
        _I.customer_id,
        _M.state,
        _M.number,
        field("issue_date").label("issue_date"),
        field("totals", "gross", "amount").label("gross"),
        field("totals", "gross", "currency").label("currency"),
    ).join(t.invoices, _I.id == _M.invoice_id)


def _summary(row: Any) -> CreditMemoSummary:
    return projected(
        CreditMemoSummary,
        row,
        issue_date=None if row.issue_date is None else date.fromisoformat(row.issue_date),
        gross=Money.of(Decimal(row.gross), row.currency),
    )
