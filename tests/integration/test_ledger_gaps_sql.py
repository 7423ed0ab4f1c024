"""The journal gaps of ADR 0040 on real databases: the suite of
`tests/unit/application/test_receivable_write_off.py` again on SQLite and PostgreSQL (the
written-off amount, the project code and the tax code in migration 0017's columns), and the
migration itself: what was stored before it reads back with nothing written off and no project
code, and a downgrade leaves snapshots the earlier code reads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.tables import engagements, invoices, journal_lines
from application import commands as c
from application.context import RequestContext
from domain.ids import EngagementId
from domain.invoice import InvoiceState
from tests.integration.support import SqlApp
from tests.integration.test_dispute_history_migration import issued, migrate
from tests.unit.application.test_receivable_write_off import *  # noqa: F403


def reading(database: Database) -> object:
    now = datetime(2026, 4, 15, tzinfo=UTC)
    return database.unit_of_work(RequestContext("test-reader", "read"), lambda: now, read_only=True)


def test_the_amount_written_off_and_the_project_code_are_columns_to_query_by(
    app: SqlApp, database: Database
) -> None:
    invoice_id = issued(app)
    app.clock.advance(days=45)
    app.do(c.WriteOffInvoice(invoice_id, "customer in liquidation"), actor="fay.approver")
    with database.engine.connect() as connection:
        written_off = connection.execute(
            sa.select(invoices.c.written_off).where(invoices.c.id == invoice_id)
        ).scalar_one()
        project = connection.execute(
            sa.select(engagements.c.project_code).where(engagements.c.id == "E1")
        ).scalar_one()
        codes = connection.execute(sa.select(journal_lines.c.tax_code)).scalars().all()
    assert written_off == Decimal("1440.00")
    assert project == "PRJ-E1"
    assert sorted(code for code in codes if code is not None) == ["VAT20"]


def test_rows_written_before_migration_0017_read_back_without_write_off_or_project_code(
    app: SqlApp, database: Database
) -> None:
    invoice_id = issued(app)
    migrate(database, "0015", down=True)
    with database.engine.connect() as connection:
        body = connection.execute(
            sa.select(engagements.c.body).where(engagements.c.id == "E1")
        ).scalar_one()
        columns = {col["name"] for col in sa.inspect(connection).get_columns("invoices")}
    assert "project_code" not in body
    assert "written_off" not in columns
    migrate(database, "head")
    with reading(database) as uow:  # type: ignore[attr-defined]
        engagement = uow.engagements.get(EngagementId("E1"))
        invoice = uow.invoices.get(invoice_id)
        (figures,) = uow.invoices.figures()
        (entry,) = uow.journal.all()
    assert engagement.project_code is None  # the PSA's answer was not kept before
    assert (invoice.state, invoice.written_off) == (InvoiceState.ISSUED, None)
    assert figures.outstanding == invoice.totals.gross
    assert [line.tax_code for line in entry.lines] == [None, None, None]
