"""Hours are written off once: what a document billed or a write-off credit memo gave up is
settled, so writing it off again (and losing the same revenue twice) is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from domain.billing import SourceKind, SourceRef
from domain.ids import CreditMemoId
from domain.time_entry import AlreadySettledError, InvalidQuantityError
from tests.unit.application.conftest import App, time_entry
from tests.unit.application.test_billing_and_closure import billed_month
from tests.unit.application.test_time_plausibility import expense


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


def test_hours_held_or_written_off_by_hand_carry_two_decimals(app: App) -> None:
    """A sliver held or written off would leave 3.9999999999 h to bill on an invoice."""
    _credited_off(app)
    app.do(c.RecordTimeEntries((_entry("t3", "4"),)))
    for decision in (
        c.WriteOffItem("t3", "goodwill", Decimal("0.0000000001")),
        c.HoldItem("t3", Decimal("0.001"), "over_cap"),
    ):
        with pytest.raises(InvalidQuantityError, match=r"t3: .* is finer than 0\.01 h"):
            app.do(decision)
    entry = app.data.time_entries["t3"]
    assert (entry.written_off, entry.held) == (0, 0)
    app.do(c.WriteOffItem("t3", "goodwill", Decimal("0.25")))
    assert app.data.time_entries["t3"].written_off == Decimal("0.25")


def test_an_expense_is_written_off_in_whole_minor_units_of_its_currency(app: App) -> None:
    _credited_off(app)
    app.do(c.RecordExpenses((expense("x1", date(2026, 3, 4), "212.40"),)))
    with pytest.raises(InvalidQuantityError, match="whole EUR minor units"):
        app.do(c.WriteOffItem("x1", "goodwill", Decimal("0.001")))
    app.do(c.WriteOffItem("x1", "goodwill", Decimal("12.40")))
    assert app.data.expenses["x1"].written_off == Decimal("12.40")
