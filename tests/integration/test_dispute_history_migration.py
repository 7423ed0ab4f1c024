"""Migration 0008 turns the `dispute_reason` stored in every invoice's body into the invoice's
dispute history, on SQLite and PostgreSQL: a reason on a disputed invoice is its open dispute
(which can then be resolved), a reason that outlived its dispute (the bug of issue 9) is a
resolved one, and an invoice never disputed has no history. Downgrading gives the old shape
back."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from adapters.sqlalchemy.database import MIGRATIONS, Database
from adapters.sqlalchemy.tables import invoices
from application import commands as c
from domain.ids import InvoiceId
from domain.invoice import InvoiceState
from tests.integration.support import SqlApp
from tests.unit.application.test_billing_and_closure import billed_month

LEGACY = "resolved before Throughline kept a dispute history"


def migrate(database: Database, target: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, target)


def body_of(database: Database, invoice_id: str) -> dict[str, object]:
    with database.engine.connect() as connection:
        body = connection.execute(
            sa.select(invoices.c.body).where(invoices.c.id == invoice_id)
        ).scalar_one()
    return dict(body)


def set_body(database: Database, invoice_id: str, body: dict[str, object]) -> None:
    with database.engine.begin() as connection:
        connection.execute(sa.update(invoices).where(invoices.c.id == invoice_id).values(body=body))


def issued(app: SqlApp) -> InvoiceId:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    return invoice_id


def test_stored_dispute_reasons_become_the_invoices_dispute_history(
    app: SqlApp, database: Database
) -> None:
    invoice_id = issued(app)
    app.do(c.OpenDispute(invoice_id, "4 h not delivered"), actor="ar-clerk")
    migrate(database, "0007", down=True)
    old = body_of(database, invoice_id)
    assert (old["dispute_reason"], "disputes" in old) == ("4 h not delivered", False)

    migrate(database, "head")
    new = body_of(database, invoice_id)
    assert "dispute_reason" not in new
    assert new["disputes"] == [
        {
            "reason": "4 h not delivered",
            "opened_at": None,
            "resolution": None,
            "resolved_at": None,
            "credit_memo_id": None,
        }
    ]
    stored = app.data.aggregates["invoice"][invoice_id]
    assert (stored.state, stored.dispute_reason) == (InvoiceState.DISPUTED, "4 h not delivered")
    app.do(c.ResolveDispute(invoice_id, "the hours were delivered"), actor="ar-clerk")
    resolved = app.data.aggregates["invoice"][invoice_id]
    assert (resolved.state, resolved.dispute_reason) == (InvoiceState.ISSUED, None)
    assert resolved.disputes[-1].resolution == "the hours were delivered"


def test_a_reason_that_outlived_its_dispute_becomes_a_resolved_dispute(
    app: SqlApp, database: Database
) -> None:
    invoice_id = issued(app)
    migrate(database, "0007", down=True)
    assert body_of(database, invoice_id)["dispute_reason"] is None
    migrate(database, "head")
    assert body_of(database, invoice_id)["disputes"] == []  # never disputed, no history

    migrate(database, "0007", down=True)
    # what the old code left behind: an issued invoice still naming its ended dispute
    set_body(database, invoice_id, {**body_of(database, invoice_id), "dispute_reason": "rate"})
    migrate(database, "head")
    (dispute,) = body_of(database, invoice_id)["disputes"]  # type: ignore[misc]
    assert (dispute["reason"], dispute["resolution"]) == ("rate", LEGACY)
    stored = app.data.aggregates["invoice"][invoice_id]
    assert (stored.state, stored.dispute_reason) == (InvoiceState.ISSUED, None)
    assert stored.current_dispute is None
    # and back: the old shape, the reason where it was
    migrate(database, "0007", down=True)
    assert body_of(database, invoice_id)["dispute_reason"] == "rate"
    migrate(database, "head")
