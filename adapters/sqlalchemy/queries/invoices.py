"""Invoices on SQL: filtered, scoped to the viewer, sorted and paged by the database, with the
list's amounts from the figure columns (migration 0018) rather than each document."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, after, reading, stored
from application.queries.invoices import (
    ISSUED_INVOICE_STATES,
    InvoiceFilter,
    InvoiceSummary,
    invoice_shown_to,
    summary_key,
)
from application.queries.paging import Page, PageRequest
from application.queries.projection import projected
from application.queries.viewer import Viewer
from domain.invoice import Invoice, InvoiceFigures, InvoiceState
from domain.money import Currency, Money

_I = t.invoices.c
#: Who the invoice bills (rows from before split billing name no payer: the customer).
PAYER = sa.func.coalesce(_I.payer_id, _I.customer_id)
_ISSUED = sorted(state.value for state in ISSUED_INVOICE_STATES)


def visible_to(viewer: Viewer) -> sa.ColumnElement[bool]:
    """The rule of `invoice_shown_to` as a condition on the invoices table."""
    if not viewer.scoped:
        return sa.true()
    mine = sa.or_(_I.customer_id == viewer.customer_id, viewer.customer_id == PAYER)
    return sa.and_(mine, _I.state.in_(_ISSUED))


class SqlInvoices(EngineQueries):
    """`InvoiceQueries` on SQLite and PostgreSQL."""

    def page(
        self, wanted: InvoiceFilter, viewer: Viewer, request: PageRequest
    ) -> Page[InvoiceSummary]:
        statement = _summaries().where(visible_to(viewer), after(_I.id, request))
        if wanted.state is not None:
            statement = statement.where(_I.state == wanted.state)
        if wanted.customer_id is not None:
            statement = statement.where(_I.customer_id == wanted.customer_id)
        if wanted.payer_id is not None:
            statement = statement.where(wanted.payer_id == PAYER)
        statement = statement.order_by(_I.id).limit(request.limit + 1)
        with reading(self._engine) as connection:
            rows = connection.execute(statement).all()
        return Page.from_rows([_summary(row) for row in rows], request, summary_key)

    def invoice(self, invoice_id: str, viewer: Viewer) -> Invoice | None:
        with reading(self._engine) as connection:
            invoice = stored(connection, t.invoices, invoice_id, Invoice)
        if invoice is None:
            return None
        shown = invoice_shown_to(viewer, invoice.customer_id, invoice.payer, invoice.state)
        return invoice if shown else None


@functools.cache
def _summaries() -> sa.Select[Any]:
    return sa.select(
        _I.id.label("invoice_id"),
        _I.body["kind"].as_string().label("kind"),
        _I.state,
        _I.customer_id,
        PAYER.label("payer_id"),
        _I.contract_id,
        _I.number,
        _I.issue_date,
        _I.currency,
        _I.gross,
        _I.paid,
        _I.credited,
        _I.written_off,
    )


def _summary(row: Any) -> InvoiceSummary:
    currency = _currency(row.currency)

    def money(amount: Decimal | None) -> Money:
        return Money(amount if amount is not None else Decimal(0), currency)

    state = InvoiceState(row.state)
    figures = InvoiceFigures(
        row.invoice_id,
        state,
        row.number,
        currency,
        money(row.gross),
        money(row.paid),
        money(row.credited),
        None if row.written_off is None else money(row.written_off),
    )
    return projected(InvoiceSummary, row, gross=figures.gross, outstanding=figures.outstanding)


@functools.cache
def _currency(code: str) -> Currency:
    return Currency.of(code)
