"""Hours are written off once: what a document billed or a write-off credit memo gave up is
settled, so writing it off again (and losing the same revenue twice) is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from domain.billing import SourceKind, SourceRef
from domain.ids import CreditMemoId
from domain.time_entry import AlreadySettledError
from tests.unit.application.conftest import App, time_entry
from tests.unit.application.test_billing_and_closure import billed_month


def _credited_off(app: App) -> None:
    invoice_id = billed_month(app)  # t1 8 h and t2 4 h at 100.00
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    t2 = SourceRef(SourceKind.TIME_ENTRY, "t2")
    app.do(
        c.DraftCreditMemo(
            CreditMemoId("CM-1"), invoice_id, (c.CreditRequestInput(1, t2),), "rework", True
        ),
        actor="ar-clerk",
    )
    app.do(c.ApproveCreditMemo(CreditMemoId("CM-1")), actor="finance-lead")
    app.do(c.IssueCreditMemo(CreditMemoId("CM-1"), date(2026, 4, 3)), actor="finance-lead")


def test_hours_credited_off_cannot_be_written_off_again(app: App) -> None:
    _credited_off(app)

    with pytest.raises(AlreadySettledError, match="only 0 of it is still open"):
        app.do(c.WriteOffItem("t2", "in scope of the fixed fee", Decimal("4")))

    assert app.data.time_entries["t2"].written_off == 0


def test_billed_hours_cannot_be_written_off_but_unbilled_ones_can(app: App) -> None:
    _credited_off(app)
    app.do(c.RecordTimeEntries((_entry("t3", "3"),)))

    with pytest.raises(AlreadySettledError):
        app.do(c.WriteOffItem("t1", "goodwill", Decimal("1")))
    app.do(c.WriteOffItem("t3", "goodwill", Decimal("3")))

    assert app.data.time_entries["t3"].written_off == Decimal("3")
    assert app.data.time_entries["t1"].written_off == 0


def _entry(entry_id: str, hours: str) -> c.TimeEntryInput:
    return time_entry(entry_id, date(2026, 3, 20), hours)
