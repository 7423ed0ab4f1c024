"""A committed billing run leaves a record of what it drafted and how long it took, in its
own transaction; a preview, or a commit that is refused, leaves none."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from application import commands as c
from application.errors import ConflictError
from application.operations import BillingRunRecord, read_operations
from tests.unit.application.conftest import App, set_up_tm_contract, time_entry
from tests.unit.application.test_billing_and_closure import MARCH, billed_month


def last_run(app: App) -> BillingRunRecord | None:
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        return read_operations(uow.operations).last_billing_run


def a_billed_month_is_recorded_with_its_size_and_duration(app: App, seconds: float) -> None:
    """The story on any store (the SQL stores run it in tests/integration/test_operations_sql.py):
    the stopwatch ticks `seconds`, March is billed, and the run is recorded as such."""
    app.bus.deps.stopwatch.tick = seconds  # type: ignore[attr-defined]
    billed_month(app)
    assert last_run(app) == BillingRunRecord(
        "2026-03",
        invoices=1,
        adjustments=0,
        duration=timedelta(seconds=seconds),
        finished_at=app.clock.now(),
        actor="billing-clerk",
        correlation_id="corr-1",
    )


def test_a_committed_run_records_its_invoices_and_how_long_it_took(app: App) -> None:
    a_billed_month_is_recorded_with_its_size_and_duration(app, 2.5)


def test_a_preview_and_a_refused_commit_record_no_run(app: App) -> None:
    set_up_tm_contract(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    app.do(c.RunBilling(MARCH), actor="billing-clerk")  # a dry run
    with pytest.raises(ConflictError):
        app.do(
            c.RunBilling(MARCH, dry_run=False, expected_fingerprint="not-the-preview"),
            actor="billing-clerk",
        )
    assert last_run(app) is None


def test_the_last_run_is_the_one_committed_last_even_when_it_drafted_nothing(app: App) -> None:
    billed_month(app)
    app.clock.advance(hours=1)
    app.do(c.RunBilling(MARCH, dry_run=False), actor="second-clerk")  # all billed already
    run = last_run(app)
    assert run is not None
    assert (run.actor, run.invoices, run.finished_at) == ("second-clerk", 0, app.clock.now())
