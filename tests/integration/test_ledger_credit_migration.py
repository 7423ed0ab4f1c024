"""Migration 0009 marks the ledger entries a credit memo made, on SQLite and PostgreSQL: rows
written before it are back-filled from the document they belong to (a credit memo's entries
are credits, an invoice's are not), and the application reads the marker back, with the
concession an amount credit records. Downgrading drops the column."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.tables import ledger_entries
from application import commands as c
from application.context import RequestContext
from domain.billing import BilledLedger, SourceKind, SourceRef
from domain.ids import ContractId, CreditMemoId
from tests.integration.support import SqlApp
from tests.integration.test_dispute_history_migration import issued, migrate

T2 = SourceRef(SourceKind.TIME_ENTRY, "t2")


def credited(app: SqlApp) -> None:
    """An invoice of 12 h, and a 100.00 concession on its 4 h of t2."""
    invoice_id = issued(app)
    request = c.CreditRequestInput(1, T2, amount=Decimal("100.00"))
    memo = CreditMemoId("CM-1")
    app.do(c.DraftCreditMemo(memo, invoice_id, (request,), "goodwill"), actor="ar-clerk")
    app.do(c.ApproveCreditMemo(memo), actor="finance-lead")
    app.do(c.IssueCreditMemo(memo, date(2026, 4, 3)), actor="finance-lead")


def columns(database: Database) -> set[str]:
    return {col["name"] for col in sa.inspect(database.engine).get_columns("ledger_entries")}


def ledger(database: Database) -> BilledLedger:
    ctx = RequestContext("test-reader", "read")
    now = datetime(2026, 4, 3, tzinfo=UTC)
    with database.unit_of_work(ctx, lambda: now, read_only=True) as uow:
        return uow.ledger.load([ContractId("C1")])


def test_existing_credit_entries_are_marked_as_credits(app: SqlApp, database: Database) -> None:
    credited(app)
    migrate(database, "0008", down=True)
    assert "credit" not in columns(database)
    migrate(database, "head")
    with database.engine.connect() as connection:
        rows = connection.execute(sa.select(ledger_entries.c.document_id, ledger_entries.c.credit))
        marked = {(document.startswith("CM-"), credit) for document, credit in rows}
    assert marked == {(False, False), (True, True)}
    (entry,) = [e for e in ledger(database).entries if e.document_id == "CM-1"]
    assert (entry.credit, entry.write_off, entry.quantity) == (True, True, Decimal(0))
    # the 4 h stay billed; 100.00 of their value was conceded
    assert ledger(database).billed_quantity(T2) == Decimal(4)
    assert ledger(database).standing(T2).conceded == Decimal("100.00")
