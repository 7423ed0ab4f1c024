"""Faults at the commit boundary: an exception between "effect done" and "marked done" loses
nothing and duplicates nothing on retry; a process killed inside a billing run or an import
leaves the database as it was, and the re-run completes the work."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application import commands as c
from application.audit import verify_chain
from application.records import ExceptionState
from domain.invoice import InvoiceState
from domain.period import Period
from tests.integration.crash_child import IMPORT_SIZE, import_batch
from tests.integration.support import SqlApp, billed_quantities
from tests.unit.application.conftest import set_up_tm_contract, time_entry
from tests.unit.application.test_billing_and_closure import billed_month

ROOT = Path(__file__).resolve().parents[2]
MARCH = Period.month(2026, 3)


def count(app: SqlApp, table: sa.Table) -> int:
    with app.database.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_crash_after_the_hand_over_but_before_marking_it_done_is_retried_without_a_duplicate(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.handover.available = False
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    (exception,) = app.data.exceptions.values()
    assert exception.state is ExceptionState.RETRY_SCHEDULED
    app.handover.available = True
    app.clock.advance(minutes=1)

    real_commit = SqlAlchemyUnitOfWork.commit
    crashes: list[str] = []

    def commit_or_crash(uow: SqlAlchemyUnitOfWork) -> None:
        if app.handover.received and not crashes:  # the ERP has the invoice: effect done
            crashes.append("crashed")
            raise RuntimeError("process died before recording the hand-over")
        real_commit(uow)

    monkeypatch.setattr(SqlAlchemyUnitOfWork, "commit", commit_or_crash)
    with pytest.raises(RuntimeError, match="before recording"):
        app.do(c.RetryDueExceptions(), actor="retry-job")
    # nothing lost: the hand-over is still owed, and still due
    assert app.data.exceptions[exception.exception_id].state is ExceptionState.RETRY_SCHEDULED
    assert list(app.handover.received) == [f"{invoice_id}:handover"]

    assert app.do(c.RetryDueExceptions(), actor="retry-job") == [exception.exception_id]
    # nothing duplicated: the same idempotency key, one document at the ERP, one CRM update
    assert app.data.exceptions[exception.exception_id].state is ExceptionState.RESOLVED
    assert list(app.handover.received) == [f"{invoice_id}:handover"]
    assert list(app.crm.updates) == [f"{invoice_id}:issued"]
    assert app.data.aggregates["invoice"][invoice_id].state is InvoiceState.ISSUED
    assert verify_chain(app.data.audit).intact


def run_and_kill(workload: str, url: str) -> str:
    """Start the workload in a child process, wait until it pauses inside its transaction
    (everything written, nothing committed), then SIGKILL it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.crash_child", workload, url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, child.kill)  # never hang the suite
    watchdog.start()
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        watchdog.cancel()
    assert line.startswith("paused"), child.stderr.read() if child.stderr else line
    assert child.returncode == -signal.SIGKILL
    return line


def test_a_billing_run_killed_before_its_commit_leaves_nothing_and_the_rerun_bills_once(
    app: SqlApp, database_url: str
) -> None:
    set_up_tm_contract(app)
    batch = (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
    app.do(c.RecordTimeEntries(batch))
    before = {table.name: count(app, table) for table in (t.outbox, t.audit_log, t.sequences)}

    line = run_and_kill("billing", database_url)

    assert "ledger=2" in line  # the child had written its allocations inside the transaction
    assert app.data.aggregates["invoice"] == {}
    assert count(app, t.ledger_entries) == 0
    assert {
        table.name: count(app, table) for table in (t.outbox, t.audit_log, t.sequences)
    } == before
    assert verify_chain(app.data.audit).intact

    result = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    assert len(result.invoice_ids) == 1
    assert billed_quantities(app) == {"t1": Decimal("8"), "t2": Decimal("4")}
    assert app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal.is_empty
    assert verify_chain(app.data.audit).intact


def test_an_import_killed_before_its_commit_leaves_nothing_and_the_rerun_takes_every_entry(
    app: SqlApp, database_url: str
) -> None:
    set_up_tm_contract(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    outbox_before = count(app, t.outbox)

    line = run_and_kill("import", database_url)

    assert f"time_entries={IMPORT_SIZE + 1}" in line  # written inside the transaction
    assert list(app.data.time_entries) == ["t1"]
    assert count(app, t.outbox) == outbox_before
    report = app.do(import_batch(), actor="psa-import")
    assert len(report.accepted) == IMPORT_SIZE
    assert report.duplicates == ()
    assert len(app.data.time_entries) == IMPORT_SIZE + 1
    again = app.do(import_batch(), actor="psa-import")
    assert (again.accepted, len(again.duplicates)) == ((), IMPORT_SIZE)
