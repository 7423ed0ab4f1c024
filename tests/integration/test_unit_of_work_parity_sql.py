"""The in-memory and the SQL unit of work are one unit of work over two storages: the same
commands leave the same outbox, aggregate for aggregate, event for event, field for field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from application import commands as c
from domain.ids import InvoiceId, PaymentId
from domain.money import Money
from tests.integration.support import SqlApp
from tests.support.builders import MARCH
from tests.unit.application.conftest import (
    EUR,
    App,
    set_up_tm_contract,
    time_entry,
    told_in_memory_too,
)


def a_month_billed_paid_and_closed(app: App) -> None:
    """Set-up, time, a committed run, issue, payment, then March closed and reopened."""
    set_up_tm_contract(app)
    app.do(
        c.RecordTimeEntries(
            (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
        )
    )
    (invoice_id,) = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk").invoice_ids
    app.do(c.ApproveInvoice(InvoiceId(invoice_id)), actor="finance-lead")
    app.do(c.IssueInvoice(InvoiceId(invoice_id), date(2026, 3, 31)), actor="finance-lead")
    app.do(
        c.RecordPayment(
            InvoiceId(invoice_id), PaymentId("P1"), Money(Decimal("500.00"), EUR), date(2026, 3, 31)
        )
    )
    app.clock.advance(days=31)  # April: March has ended and can be closed
    app.do(c.ClosePeriod(MARCH), actor="controller")
    app.do(c.ReopenPeriod(MARCH, "late supplier invoice"), actor="controller")


def outbox_rows(app: App) -> list[tuple[str, str, str, Any]]:
    return [
        (e.aggregate_type, e.aggregate_id, e.event_type, dict(e.payload)) for e in app.data.outbox
    ]


def test_the_same_commands_leave_the_same_outbox_in_memory_and_in_the_database(
    app: SqlApp,
) -> None:
    memory = told_in_memory_too(app, a_month_billed_paid_and_closed)
    assert outbox_rows(app) == outbox_rows(memory)


def test_closing_and_reopening_a_period_is_told_under_the_period_key_by_both(
    app: SqlApp,
) -> None:
    memory = told_in_memory_too(app, a_month_billed_paid_and_closed)
    for told in (memory, app):
        periods = [row[:3] for row in outbox_rows(told) if row[0] == "AccountingPeriod"]
        assert periods == [
            ("AccountingPeriod", "2026-03", "PeriodClosed"),
            ("AccountingPeriod", "2026-03", "PeriodReopened"),
        ]
