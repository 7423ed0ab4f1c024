"""Concurrent writers: one aggregate changed twice → one conflict, no lost update; two billing
runs of one period → nothing billed twice; two revenue runs of one month → recognised once; a period
closed while something is posted in it → closed after it; the audit chain never forks.

PostgreSQL runs units of work side by side (READ COMMITTED) and relies on the revision check,
row locks and an advisory lock. SQLite runs one writer at a time: each unit of work opens
with BEGIN IMMEDIATE, so the second writer waits for the first and then reads its result.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repositories import SqlAlchemyPeriods
from adapters.sqlalchemy.stores import SqlAlchemyLedger
from application import commands as c
from application.audit import verify_chain
from application.errors import ConcurrentChangeError, ConflictError
from application.handlers import billing as billing_handlers_issue
from application.handlers import billing_run as billing_handlers
from application.handlers import finance as finance_handlers
from application.handlers import inbox as inbox_handlers
from application.legal_entities import LegalEntityRecord
from domain.ids import ContractId, CustomerId, EngagementId, InvoiceId, ObligationId, RateCardId
from domain.invoice import InvoiceState
from domain.period import Period
from domain.time_and_materials import TimeAndMaterialsTerms
from tests.integration.support import SqlApp, billed_quantities, only_on
from tests.support.documents import SELLER
from tests.unit.application.conftest import ENTITY, EUR, set_up_tm_contract, time_entry
from tests.unit.application.test_billing_and_closure import billed_month
from tests.unit.application.test_inbox import deliver, example

MARCH = Period.month(2026, 3)


def in_threads(*work: Callable[[], Any]) -> list[BaseException | None]:
    """Run each callable in its own thread; what each raised (None when it returned)."""
    outcomes: list[BaseException | None] = [None] * len(work)

    def run(index: int) -> None:
        try:
            work[index]()
        except BaseException as error:  # reported to the test, not swallowed
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    return outcomes


# Two writers on one aggregate ----------------------------------------------------------------


@only_on("postgresql")
def test_postgresql_two_writers_on_one_invoice_one_conflict_no_lost_update(app: SqlApp) -> None:
    invoice_id = billed_month(app)
    first, second = app.bus.deps.uow(app.as_("lead")), app.bus.deps.uow(app.as_("clerk"))
    with first, second:
        mine = first.invoices.get(invoice_id)
        theirs = second.invoices.get(invoice_id)  # both read revision 0
        mine.approve("finance-lead", app.clock.now())
        theirs.discard("duplicate run", app.clock.now())
        first.commit()
        with pytest.raises(ConflictError, match="changed by someone else"):
            second.commit()
    kept = app.data.aggregates["invoice"][invoice_id]
    assert (kept.state, kept.approved_by) == (InvoiceState.APPROVED, "finance-lead")
    assert kept.revision == 1


@only_on("postgresql")
def test_postgresql_two_threads_on_one_invoice_one_conflict_no_lost_update(app: SqlApp) -> None:
    invoice_id = billed_month(app)
    both_read = threading.Barrier(2, timeout=30)

    def change(actor: str, action: Callable[[Any], None]) -> Callable[[], None]:
        def work() -> None:
            with app.bus.deps.uow(app.as_(actor)) as uow:
                invoice = uow.invoices.get(invoice_id)
                both_read.wait()
                action(invoice)
                uow.commit()

        return work

    outcomes = in_threads(
        change("lead", lambda i: i.approve("finance-lead", app.clock.now())),
        change("clerk", lambda i: i.discard("duplicate run", app.clock.now())),
    )
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(conflicts) == 1
    assert outcomes.count(None) == 1
    kept = app.data.aggregates["invoice"][invoice_id]
    winner = InvoiceState.APPROVED if outcomes[0] is None else InvoiceState.DISCARDED
    assert (kept.state, kept.revision) == (winner, 1)


@only_on("sqlite")
def test_sqlite_writers_take_turns_so_the_second_sees_the_first(app: SqlApp) -> None:
    invoice_id = billed_month(app)
    first_has_read = threading.Event()
    states: list[InvoiceState] = []

    def approve() -> None:
        with app.bus.deps.uow(app.as_("lead")) as uow:
            invoice = uow.invoices.get(invoice_id)
            first_has_read.set()
            time.sleep(0.2)  # the other writer is waiting at BEGIN IMMEDIATE meanwhile
            invoice.approve("finance-lead", app.clock.now())
            uow.commit()

    def issue_after() -> None:
        first_has_read.wait(timeout=30)
        with app.bus.deps.uow(app.as_("clerk")) as uow:
            invoice = uow.invoices.get(invoice_id)
            states.append(invoice.state)  # the first writer's change, committed
            number = uow.sequences.next_number("invoice", date(2026, 3, 31))
            invoice.issue(number, date(2026, 3, 31), app.clock.now(), _open())
            uow.commit()

    assert in_threads(approve, issue_after) == [None, None]
    assert states == [InvoiceState.APPROVED]
    kept = app.data.aggregates["invoice"][invoice_id]
    assert (kept.state, kept.approved_by, kept.revision) == (
        InvoiceState.ISSUED,
        "finance-lead",
        2,
    )


def _open() -> Any:
    from domain.accounting_period import PeriodLock

    return PeriodLock()


def test_a_stale_revision_is_refused_and_the_first_change_kept(app: SqlApp) -> None:
    """The check itself, on both databases: the row moved on after this unit of work read it
    (on SQLite only another connection's commit outside BEGIN IMMEDIATE could do that; here
    the same transaction plays the other writer)."""
    invoice_id = billed_month(app)
    with app.bus.deps.uow(app.as_("clerk")) as uow:
        invoice = uow.invoices.get(invoice_id)
        uow.connection.execute(  # type: ignore[attr-defined]
            t.invoices.update().where(t.invoices.c.id == invoice_id).values(revision=7)
        )
        invoice.discard("duplicate run", app.clock.now())
        with pytest.raises(ConflictError):
            uow.commit()
    assert app.data.aggregates["invoice"][invoice_id].state is InvoiceState.DRAFT


# Two billing runs of one period -----------------------------------------------------------


def two_contracts_with_time(app: SqlApp) -> None:
    set_up_tm_contract(app)
    app.do(c.ProposeEngagement(EngagementId("E2"), CustomerId("acme"), ContractId("C2")), "crm")
    app.do(c.RegisterContract(ContractId("C2"), CustomerId("acme"), ENTITY, "EUR", "Build"), "clm")
    terms = TimeAndMaterialsTerms(ObligationId("tm2"), "Build", EUR, RateCardId("RC"))
    app.do(c.DraftContractVersion(ContractId("C2"), date(2026, 1, 1), (terms,)), actor="clm")
    app.do(c.ApproveContractVersion(ContractId("C2"), 1), actor="legal")
    entries = [time_entry(f"a{n}", date(2026, 3, 2 + n), "3") for n in range(5)]
    entries += [
        time_entry(f"b{n}", date(2026, 3, 2 + n), "2", engagement_id=EngagementId("E2"))
        for n in range(5)
    ]
    entries = [e if e.entry_id.startswith("a") else _on(e, ObligationId("tm2")) for e in entries]
    report = app.do(c.RecordTimeEntries(tuple(entries)))
    assert len(report.accepted) == 10


def _on(entry: c.TimeEntryInput, obligation: ObligationId) -> c.TimeEntryInput:
    import attrs

    return attrs.evolve(entry, obligation_id=obligation)


def slow_billing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the two runs time to overlap: both are between reading and writing at once."""
    real = billing_handlers.run_billing

    def slowly(run: Any) -> Any:
        time.sleep(0.3)
        return real(run)

    monkeypatch.setattr(billing_handlers, "run_billing", slowly)


def twice_at_once(app: SqlApp, command: object, job: str) -> list[Any]:
    """The command run by two jobs that start together; their results, first finished first."""
    results: list[Any] = []
    start = threading.Barrier(2, timeout=30)

    def run(actor: str) -> Callable[[], None]:
        def work() -> None:
            start.wait()
            results.append(app.do(command, actor=actor))

        return work

    assert in_threads(run(f"{job}-1"), run(f"{job}-2")) == [None, None]
    return results


def run_twice_at_once(app: SqlApp) -> list[Any]:
    return twice_at_once(app, c.RunBilling(MARCH, dry_run=False), "billing-job")


def test_two_concurrent_billing_runs_bill_every_source_exactly_once(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_contracts_with_time(app)
    slow_billing(monkeypatch)
    results = run_twice_at_once(app)
    assert sorted(len(r.invoice_ids) for r in results) == [0, 2]  # the second found it billed
    invoices = app.data.aggregates["invoice"].values()
    per_contract = defaultdict(list)
    for invoice in invoices:
        per_contract[invoice.contract_id].append(invoice.state)
    assert dict(per_contract) == {"C1": [InvoiceState.DRAFT], "C2": [InvoiceState.DRAFT]}
    hours = {
        **{f"a{n}": Decimal("3") for n in range(5)},
        **{f"b{n}": Decimal("2") for n in range(5)},
    }
    assert billed_quantities(app) == hours
    assert verify_chain(app.data.audit).intact


def without_the_ledger_lock(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch, slow: Callable[[pytest.MonkeyPatch], None]
) -> None:
    """Two contracts with time, runs slowed to overlap, and the contracts' lock taken away."""
    two_contracts_with_time(app)
    slow(monkeypatch)
    monkeypatch.setattr(SqlAlchemyLedger, "lock", lambda self, contracts: None)


@only_on("postgresql")
def test_without_the_ledger_lock_the_same_two_runs_would_bill_twice(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control experiment: it is the lock, not luck, that keeps the runs apart."""
    without_the_ledger_lock(app, monkeypatch, slow_billing)
    results = run_twice_at_once(app)
    assert [len(r.invoice_ids) for r in results] == [2, 2]
    assert billed_quantities(app)["a0"] == Decimal("6")  # billed twice
    assert verify_chain(app.data.audit).intact  # and even then the audit chain holds


def test_concurrent_writers_append_to_one_unforked_audit_chain(app: SqlApp) -> None:
    set_up_tm_contract(app)
    rounds = 5

    def writer(prefix: str) -> Callable[[], None]:
        def work() -> None:
            for n in range(rounds):
                entry = time_entry(f"{prefix}{n}", date(2026, 3, 2 + n), "1")
                app.do(c.RecordTimeEntries((entry,)), actor=prefix)

        return work

    before = len(app.data.audit)
    assert in_threads(writer("x"), writer("y"), writer("z")) == [None, None, None]
    records = app.data.audit
    assert len(records) == before + 3 * rounds
    assert [r.sequence for r in records] == list(range(1, len(records) + 1))
    assert verify_chain(records).intact


def test_concurrent_issues_get_gap_free_distinct_numbers(app: SqlApp) -> None:
    invoice_ids = [InvoiceId(i) for i in _three_approved_invoices(app)]

    def issue(invoice_id: InvoiceId) -> Callable[[], None]:
        return lambda: app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="lead")

    assert in_threads(*(issue(i) for i in invoice_ids)) == [None, None, None]
    numbers = sorted(app.data.aggregates["invoice"][i].number for i in invoice_ids)
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]


def _three_approved_invoices(app: SqlApp) -> list[str]:
    set_up_tm_contract(app)
    ids = []
    for n, day in enumerate((2, 9, 16)):
        app.do(c.RecordTimeEntries((time_entry(f"t{n}", date(2026, 3, day), "1"),)))
        result = app.do(
            c.RunBilling(MARCH, dry_run=False, invoice_date=date(2026, 3, 31)), actor="clerk"
        )
        ids.extend(result.invoice_ids)
    for invoice_id in ids:
        app.do(c.ApproveInvoice(invoice_id), actor="lead-approver")
    return ids


# Two revenue runs of one month ----------------------------------------------------------------


def slow_recognition(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give two revenue runs time to overlap between reading the journal and posting to it."""
    real = finance_handlers.balances_from_journal

    def slowly(*args: Any) -> Any:
        time.sleep(0.3)
        return real(*args)

    monkeypatch.setattr(finance_handlers, "balances_from_journal", slowly)


def recognise_twice_at_once(app: SqlApp) -> list[c.RevenueRun]:
    return twice_at_once(app, c.RecogniseRevenue(MARCH), "revenue-job")


def recognised(app: SqlApp) -> list[str]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return [str(entry.lines[-1].credit.amount) for entry in uow.journal.all()]


def test_two_concurrent_revenue_runs_recognise_the_month_once(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_contracts_with_time(app)
    slow_recognition(monkeypatch)
    runs = recognise_twice_at_once(app)
    assert sorted(len(run.posted) for run in runs) == [0, 2]  # the second found it posted
    assert sorted(recognised(app)) == ["1000.00", "1500.00"]  # 10 h and 15 h at 100


@only_on("postgresql")
def test_without_the_lock_two_revenue_runs_would_recognise_the_month_twice(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control experiment: the contracts' lock, not timing, keeps the runs apart."""
    without_the_ledger_lock(app, monkeypatch, slow_recognition)
    runs = recognise_twice_at_once(app)
    assert [len(run.posted) for run in runs] == [2, 2]
    assert sorted(recognised(app)) == ["1000.00", "1000.00", "1500.00", "1500.00"]


# A period closed while something is posted in it ---------------------------------------------


def issue_and_close_at_once(app: SqlApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """An invoice of March is issued and, once the issue has read the periods, March is closed;
    the audit trail's order of the two."""
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.clock.advance(days=31)  # April: March has ended and can be closed
    periods_read = threading.Event()
    real = billing_handlers_issue.balances_from_journal

    def after_reading_the_periods(*args: Any) -> Any:
        periods_read.set()
        time.sleep(0.5)
        return real(*args)

    monkeypatch.setattr(billing_handlers_issue, "balances_from_journal", after_reading_the_periods)

    def issue() -> None:
        app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")

    def close() -> None:
        assert periods_read.wait(timeout=30)
        app.do(c.ClosePeriod(MARCH), actor="controller")

    assert in_threads(issue, close) == [None, None]
    wanted = {(f"invoice:{invoice_id}", "issue"), ("period:2026-03", "close")}
    return [r.action for r in app.data.audit if (r.subject, r.action) in wanted]


def test_a_period_closes_only_after_what_is_being_posted_in_it(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert issue_and_close_at_once(app, monkeypatch) == ["issue", "close"]


@only_on("postgresql")
def test_without_the_periods_lock_an_invoice_would_post_into_a_closed_period(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control experiment: without the lock the close commits first, and the invoice is
    then posted on 31 March, inside the closed period."""
    monkeypatch.setattr(SqlAlchemyPeriods, "hold_for_posting", lambda self: None)
    assert issue_and_close_at_once(app, monkeypatch) == ["close", "issue"]


# Two payments of one invoice from the ERP at once -----------------------------------------------


def two_payments_at_once(app: SqlApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ERP sends two payments of one issued invoice together, each in its own message; both
    have read the invoice before either commits. The statuses of the two deliveries."""
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    app.clock.advance(days=20)
    both_read = threading.Barrier(2, timeout=30)
    first_runs = itertools.count()
    real = finance_handlers.period_lock

    def after_reading_the_invoice(uow: Any) -> Any:
        if next(first_runs) < 2:  # the two first runs meet here; a run again goes straight on
            both_read.wait()
        return real(uow)

    monkeypatch.setattr(finance_handlers, "period_lock", after_reading_the_invoice)
    statuses: list[str] = []

    def pay(number: int) -> Callable[[], None]:
        body = example("payment.received")
        body["data"] |= {"payment_id": f"PAY-{number}", "invoice_id": invoice_id}
        body["data"] |= {"amount": "100.00", "received_on": "2026-04-15"}

        def work() -> None:
            statuses.append(deliver(app, "erp", body, f"erp-pay-{number}").status.value)

        return work

    assert in_threads(pay(1), pay(2)) == [None, None]
    return statuses


@only_on("postgresql")  # SQLite's writers take turns: the second never reads before the first
def test_two_payments_of_one_invoice_sent_together_are_both_applied(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert two_payments_at_once(app, monkeypatch) == ["processed", "processed"]
    (invoice,) = app.data.aggregates["invoice"].values()
    assert str(invoice.amount_paid.amount) == "200.00"  # 100.00 twice
    assert app.data.exceptions == {}


@only_on("postgresql")
def test_without_running_again_one_of_the_two_payments_would_wait_on_the_queue(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control experiment: one run per message parks the payment that lost the race."""
    monkeypatch.setattr(inbox_handlers, "RUNS_ON_CONCURRENT_CHANGE", 1)
    assert sorted(two_payments_at_once(app, monkeypatch)) == ["failed", "processed"]
    (parked,) = app.data.exceptions.values()
    assert "was changed by someone else" in parked.detail


# A master record versioned by two writers ---------------------------------------------------------


def test_a_version_someone_else_stored_first_is_a_concurrent_change(app: SqlApp) -> None:
    """Both writers read no version and make version 1; the second finds it stored and is told
    it lost a race (`ConcurrentChangeError`), so a webhook's command runs again and stores
    version 2 instead of waiting on the queue."""
    first = attrs.evolve(LegalEntityRecord("tl-race", "TL Race Ltd", SELLER.address), version=1)
    second = attrs.evolve(first, legal_name="TL Race Limited")
    with app.bus.deps.uow(app.as_("erp-1")) as uow:
        uow.master_data.add_legal_entity(first)
        uow.commit()
    with (
        app.bus.deps.uow(app.as_("erp-2")) as uow,
        pytest.raises(ConcurrentChangeError, match="changed by someone else"),
    ):
        uow.master_data.add_legal_entity(second)
