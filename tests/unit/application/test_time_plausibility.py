"""Plausible time, expenses, payments and periods through the application (ADR 0025): a
person's day as a whole across batches, hours with a precision and a minimum, nothing dated
in the future, no run for a period that has not begun, a re-sent id with other content a
conflict, and the audited correction of an unbilled entry."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application import commands as c
from application.errors import NotFoundError
from application.handlers.delivery import IngestionReport
from domain.billing import SourceKind, SourceRef
from domain.errors import CapExceededError, DomainError, PeriodClosedError
from domain.ids import (
    ContractId,
    CreditMemoId,
    EngagementId,
    ExpenseId,
    ObligationId,
    PaymentId,
    RateCardId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.money import Money
from domain.period import Period
from domain.plausibility import (
    DayOver24HoursError,
    FutureDateError,
    HoursTooPreciseError,
    PeriodNotStartedError,
    PlausibilityPolicy,
)
from domain.ratecard import RateCardVersion
from domain.tax import TaxRate, TaxRateTable
from domain.time_and_materials import (
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
)
from domain.time_entry import (
    EntryAlreadyBilledError,
    EntryNotCorrectableError,
    ItemState,
)
from tests.unit.application.conftest import (
    CUSTOMER,
    ENTITY,
    EUR,
    App,
    in_memory_app,
    time_entry,
)
from tests.unit.application.test_inbox import deliver, example, won_and_signed

MARCH = Period.month(2026, 3)
#: The last evening of March: every March date is in the past, 1 April is tomorrow.
END_OF_MARCH = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)


def strict_app(policy: PlausibilityPolicy | None = None) -> App:
    """The application with the deployment's default plausibility (tolerance one day)."""
    return in_memory_app(policy or PlausibilityPolicy())


def set_up(
    app: App,
    engagement: str = "E1",
    contract: str = "C1",
    obligation: str = "tm",
    **terms: Any,
) -> None:
    """A T&M engagement of its own (rates and tax set once per application)."""
    if not app.data.aggregates["rate_card"]:
        rates = TaxRateTable((TaxRate("VAT20", date(2020, 1, 1), Decimal("0.20")),))
        app.do(c.SetTaxRates(rates))
        app.do(c.CreateRateCard(RateCardId("RC"), "UK rates", "EUR"))
        version = RateCardVersion(1, date(2026, 1, 1), EUR, {Role("consultant"): Decimal("100")})
        app.do(c.PublishRateCardVersion(RateCardId("RC"), version))
    app.do(
        c.ProposeEngagement(EngagementId(engagement), CUSTOMER, ContractId(contract)), actor="crm"
    )
    app.do(c.RegisterContract(ContractId(contract), CUSTOMER, ENTITY, "EUR", contract), actor="clm")
    tm = TimeAndMaterialsTerms(ObligationId(obligation), "Advisory", EUR, RateCardId("RC"), **terms)
    app.do(c.DraftContractVersion(ContractId(contract), date(2026, 1, 1), (tm,)), actor="clm")
    app.do(c.ApproveContractVersion(ContractId(contract), 1), actor="legal")


@pytest.fixture
def strict() -> App:
    """At the end of March, with the default future tolerance of one day."""
    app = strict_app()
    set_up(app)
    app.clock.current = END_OF_MARCH
    return app


def record(app: App, *entries: c.TimeEntryInput) -> IngestionReport:
    report: IngestionReport = app.do(c.RecordTimeEntries(entries))
    return report


def reasons(report: IngestionReport) -> dict[str, str]:
    return {r.item_id: r.reason_code for r in report.rejected}


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def billed_hours(app: App, period: Period = MARCH) -> dict[str, Decimal]:
    result = app.do(c.RunBilling(period))
    return {
        a.source.source_id: a.quantity
        for invoice in result.proposal.invoices
        for line in invoice.lines
        for a in line.allocations
    }


# -- a person's day as a whole ----------------------------------------------------------------


def test_two_13_hour_entries_by_one_person_on_one_day_are_not_both_accepted(strict: App) -> None:
    report = record(strict, time_entry("t1", date(2026, 3, 2), "13"))
    again = record(strict, time_entry("t2", date(2026, 3, 2), "13"))
    assert report.accepted == ("t1",)
    assert (again.accepted, reasons(again)) == ((), {"t2": "day_over_24_hours"})
    (refused,) = again.rejected
    assert "r1 would have 26 h on 2026-03-02 (13 h already recorded + 13 h)" in refused.detail
    assert billed_hours(strict) == {"t1": Decimal("13")}


def test_in_one_batch_the_day_fills_in_billing_order_whatever_the_order_sent(strict: App) -> None:
    report = record(
        strict,
        time_entry("t3", date(2026, 3, 2), "13"),
        time_entry("t1", date(2026, 3, 2), "8"),
        time_entry("t2", date(2026, 3, 2), "8"),
    )
    # t1 (8) + t2 (8) = 16; t3 would make 29: the entry last in billing order is refused
    assert report.accepted == ("t1", "t2")
    assert reasons(report) == {"t3": "day_over_24_hours"}


def test_a_day_of_exactly_24_hours_is_accepted(strict: App) -> None:
    first = record(strict, time_entry("t1", date(2026, 3, 2), "16.75"))
    second = record(strict, time_entry("t2", date(2026, 3, 2), "7.25"))
    assert (first.accepted, second.accepted) == (("t1",), ("t2",))


def test_the_day_counts_the_persons_hours_on_every_engagement(strict: App) -> None:
    set_up(strict, engagement="E2", contract="C2", obligation="tm2")
    record(strict, time_entry("t1", date(2026, 3, 2), "13"))
    other = time_entry(
        "u1",
        date(2026, 3, 2),
        "13",
        engagement_id=EngagementId("E2"),
        obligation_id=ObligationId("tm2"),
    )
    someone_else = time_entry("u2", date(2026, 3, 2), "13", resource_id=ResourceId("r2"))
    report = record(strict, other, someone_else)
    assert report.accepted == ("u2",)
    assert reasons(report) == {"u1": "day_over_24_hours"}


def test_a_daily_cap_makes_the_hours_above_it_non_billable_across_batches(strict: App) -> None:
    set_up(strict, engagement="E2", contract="C2", obligation="capped", daily_cap_hours=Decimal(8))

    def capped(entry_id: str, hours: str) -> c.TimeEntryInput:
        return time_entry(
            entry_id,
            date(2026, 3, 2),
            hours,
            engagement_id=EngagementId("E2"),
            obligation_id=ObligationId("capped"),
        )

    assert record(strict, capped("t2", "6")).accepted == ("t2",)
    assert record(strict, capped("t3", "6")).accepted == ("t3",)  # worked, within 24 h
    assert billed_hours(strict) == {"t2": Decimal("6"), "t3": Decimal("2")}
    strict.do(c.RunBilling(MARCH, dry_run=False))
    # an entry of the same day, earlier by id, arrives after the day was billed
    assert record(strict, capped("t1", "5")).accepted == ("t1",)
    assert billed_hours(strict) == {}  # the day already billed its 8 h


# -- hours: a precision and a minimum ---------------------------------------------------------


def test_hours_finer_than_a_hundredth_or_not_positive_are_refused(strict: App) -> None:
    report = record(
        strict,
        time_entry("tiny", date(2026, 3, 2), "0.0000000001"),
        time_entry("zero", date(2026, 3, 2), "0"),
        time_entry("negative", date(2026, 3, 2), "-2"),
        time_entry("ok", date(2026, 3, 2), "7.25"),
    )
    assert report.accepted == ("ok",)
    assert reasons(report) == {
        "tiny": "hours_too_precise",
        "zero": "hours_not_positive",
        "negative": "hours_not_positive",
    }
    assert sorted(strict.data.time_entries) == ["ok"]
    assert billed_hours(strict) == {"ok": Decimal("7.25")}


# -- nothing in the future ----------------------------------------------------------------------


def test_work_dated_beyond_the_tolerance_is_refused(strict: App) -> None:
    report = record(
        strict,
        time_entry("tomorrow", date(2026, 4, 1), "2"),
        time_entry("later", date(2026, 4, 2), "2"),
        time_entry("far", date(2031, 1, 6), "2"),
    )
    assert report.accepted == ("tomorrow",)
    assert reasons(report) == {"later": "future_date", "far": "future_date"}
    far = next(r for r in report.rejected if r.item_id == "far")
    assert far.detail == (
        "the work date of far is 2031-01-06, in the future: today is 2026-03-31, and nothing "
        "can be dated after 2026-04-01"
    )


def test_the_tolerance_is_the_deployments_setting() -> None:
    app = strict_app(PlausibilityPolicy(future_tolerance_days=0))
    set_up(app)
    app.clock.current = END_OF_MARCH
    report = record(app, time_entry("today", date(2026, 3, 31), "2"))
    tomorrow = record(app, time_entry("tomorrow", date(2026, 4, 1), "2"))
    assert report.accepted == ("today",)
    assert reasons(tomorrow) == {"tomorrow": "future_date"}


def expense(expense_id: str, day: date, amount: str = "100.00", **kw: Any) -> c.ExpenseInput:
    fields: dict[str, Any] = {
        "expense_id": ExpenseId(expense_id),
        "engagement_id": EngagementId("E1"),
        "obligation_id": ObligationId("tm"),
        "resource_id": ResourceId("r1"),
        "category": "travel",
        "incurred_on": day,
        "cost": eur(amount),
    }
    return c.ExpenseInput(**(fields | kw))


def test_an_expense_dated_in_the_future_is_refused(strict: App) -> None:
    report = strict.do(
        c.RecordExpenses((expense("x1", date(2026, 3, 30)), expense("x2", date(2031, 1, 6))))
    )
    assert report.accepted == ("x1",)
    assert reasons(report) == {"x2": "future_date"}
    assert sorted(strict.data.expenses) == ["x1"]


def issued_invoice(app: App) -> str:
    record(app, time_entry("t1", date(2026, 3, 2), "8"))
    (invoice_id,) = app.do(c.RunBilling(MARCH, dry_run=False), actor="clerk").invoice_ids
    app.do(c.ApproveInvoice(invoice_id), actor="controller")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="controller")
    return str(invoice_id)


def test_a_payment_received_in_the_future_is_refused_and_changes_nothing(strict: App) -> None:
    invoice_id = issued_invoice(strict)
    journal, audit = len(strict.data.journal), len(strict.data.audit)
    with pytest.raises(FutureDateError, match="the payment date is 2031-01-06, in the future"):
        strict.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("960.00"), date(2031, 1, 6)))
    invoice = strict.data.aggregates["invoice"][invoice_id]
    assert invoice.outstanding == eur("960.00")
    assert (len(strict.data.journal), len(strict.data.audit)) == (journal, audit)
    assert all(kind != "payment_received" for _, kind, _ in strict.crm.updates.values())
    # the same payment, dated today, is applied
    strict.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("960.00"), date(2026, 3, 31)))
    assert strict.data.aggregates["invoice"][invoice_id].outstanding == eur("0.00")


# -- a run bills only a period that has begun ----------------------------------------------------


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_billing_run_for_a_period_that_has_not_begun_is_refused(
    strict: App, dry_run: bool
) -> None:
    record(strict, time_entry("t1", date(2026, 4, 1), "2"))  # tomorrow: within the tolerance
    with pytest.raises(PeriodNotStartedError) as refused:
        strict.do(c.RunBilling(Period.month(2026, 4), dry_run=dry_run))
    assert refused.value.code == "period_not_started"
    with pytest.raises(PeriodNotStartedError, match="period 2031-01 starts on 2031-01-01"):
        strict.do(c.RunBilling(Period.month(2031, 1), dry_run=dry_run))
    assert strict.data.aggregates["invoice"] == {}
    strict.clock.current = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)  # April has begun
    assert billed_hours(strict, Period.month(2026, 4)) == {"t1": Decimal("2")}


# -- the same id again: a replay, or a conflict ------------------------------------------------


def test_the_same_entry_id_with_other_hours_is_a_conflict_naming_the_field(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8", task_id=TaskId("T-1")))
    same = record(strict, time_entry("t1", date(2026, 3, 2), "8.00", task_id=TaskId("T-1")))
    other = record(
        strict, time_entry("t1", date(2026, 3, 3), "9", task_id=TaskId("T-1"), billable=False)
    )
    assert (same.accepted, same.duplicates, same.rejected) == ((), ("t1",), ())
    assert (other.accepted, other.duplicates) == ((), ())
    (conflict,) = other.rejected
    assert (conflict.item_id, conflict.reason_code, conflict.position) == (
        "t1",
        "entry_conflict",
        0,
    )
    assert conflict.detail.startswith(
        "time entry t1 is already recorded with other values: work_date 2026-03-02 (sent "
        "2026-03-03); hours 8 (sent 9); billable True (sent False)."
    )
    entry = strict.data.time_entries["t1"]
    assert (entry.hours, entry.work_date, entry.billable) == (Decimal(8), date(2026, 3, 2), True)


def test_a_resend_without_the_cost_rate_is_still_the_same_entry(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8", cost_rate=Decimal("60")))
    again = record(strict, time_entry("t1", date(2026, 3, 2), "8"))
    cheaper = record(strict, time_entry("t1", date(2026, 3, 2), "8", cost_rate=Decimal("50")))
    assert again.duplicates == ("t1",)
    (conflict,) = cheaper.rejected
    assert "cost_rate." in conflict.detail
    assert "60" not in conflict.detail  # a cost rate is never echoed


def test_an_id_repeated_in_one_batch_with_other_hours_is_refused_at_its_place(
    strict: App,
) -> None:
    report = record(
        strict,
        time_entry("t1", date(2026, 3, 2), "8"),
        time_entry("t2", date(2026, 3, 3), "1"),
        time_entry("t1", date(2026, 3, 2), "8"),
        time_entry("t1", date(2026, 3, 2), "6"),
    )
    assert (report.accepted, report.duplicates) == (("t1", "t2"), ("t1",))
    (conflict,) = report.rejected
    assert (conflict.reason_code, conflict.position) == ("entry_conflict", 3)
    assert "appears earlier in this batch with other values: hours 8 (sent 6)" in conflict.detail
    assert strict.data.time_entries["t1"].hours == Decimal(8)


def test_the_same_expense_id_with_another_amount_is_a_conflict(strict: App) -> None:
    strict.do(c.RecordExpenses((expense("x1", date(2026, 3, 4), "212.40"),)))
    same = strict.do(c.RecordExpenses((expense("x1", date(2026, 3, 4), "212.4"),)))
    other = strict.do(c.RecordExpenses((expense("x1", date(2026, 3, 4), "250.00"),)))
    assert same.duplicates == ("x1",)
    (conflict,) = other.rejected
    assert conflict.reason_code == "expense_conflict"
    assert "cost 212.40 EUR (sent 250.00 EUR)" in conflict.detail
    assert strict.data.expenses["x1"].cost == eur("212.40")


# -- the audited correction ----------------------------------------------------------------


def test_a_correction_changes_an_unbilled_entry_with_before_after_and_reason(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8", task_id=TaskId("T-1")))
    strict.do(
        c.CorrectTimeEntry(TimeEntryId("t1"), "typo in the timesheet", hours=Decimal("6.5")),
        actor="dana.delivery",
    )
    entry = strict.data.time_entries["t1"]
    assert (entry.hours, entry.task_id, entry.billable) == (Decimal("6.5"), "T-1", True)
    trail = strict.data.audit[-1]
    assert (trail.subject, trail.action, trail.actor) == ("item:t1", "correct", "dana.delivery")
    assert (trail.before, trail.after, trail.reason) == (
        "8 h, task T-1, billable",
        "6.5 h, task T-1, billable",
        "typo in the timesheet",
    )
    event = strict.data.outbox[-1]
    assert (event.event_type, event.aggregate_id) == ("TimeEntryCorrected", "t1")
    assert (event.payload["hours_before"], event.payload["hours"]) == ("8", "6.5")
    assert billed_hours(strict) == {"t1": Decimal("6.5")}
    # after the correction, a re-send of the PSA's old values is a conflict, not a revert
    (conflict,) = record(
        strict, time_entry("t1", date(2026, 3, 2), "8", task_id=TaskId("T-1"))
    ).rejected
    assert conflict.reason_code == "entry_conflict"


def test_a_correction_may_change_the_task_and_billable_flag_only(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8"))
    strict.do(
        c.CorrectTimeEntry(TimeEntryId("t1"), "internal", task_id=TaskId("INT"), billable=False)
    )
    entry = strict.data.time_entries["t1"]
    assert (entry.hours, entry.task_id, entry.billable) == (Decimal(8), "INT", False)
    assert billed_hours(strict) == {}


def test_a_correction_that_changes_nothing_records_nothing(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8"))
    audit, outbox = len(strict.data.audit), len(strict.data.outbox)
    strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "same", hours=Decimal("8.00")))
    assert (len(strict.data.audit), len(strict.data.outbox)) == (audit, outbox)


def test_a_billed_entry_is_corrected_by_a_credit_memo_not_an_edit(strict: App) -> None:
    invoice_id = issued_invoice(strict)
    with pytest.raises(EntryAlreadyBilledError, match="corrected by a credit memo") as refused:
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "fewer hours", hours=Decimal("6")))
    assert refused.value.code == "entry_already_billed"
    # a credit memo releases 3 of the 8 h: the entry is still partly billed
    t1 = SourceRef(SourceKind.TIME_ENTRY, "t1")
    credit(strict, invoice_id, "CM-1", c.CreditRequestInput(1, t1, Decimal("3")))
    with pytest.raises(EntryAlreadyBilledError, match="5 h of time entry t1 are billed"):
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "fewer hours", hours=Decimal("6")))
    # the rest released too: nothing of it is billed, the correction goes through
    credit(strict, invoice_id, "CM-2", c.CreditRequestInput(1, t1, Decimal("5")))
    strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "fewer hours", hours=Decimal("6")))
    assert strict.data.time_entries["t1"].hours == Decimal(6)


def credit(app: App, invoice_id: str, memo: str, request: c.CreditRequestInput) -> None:
    app.do(
        c.DraftCreditMemo(CreditMemoId(memo), invoice_id, (request,), "hours not worked"),
        actor="ar-clerk",
    )
    app.do(c.ApproveCreditMemo(CreditMemoId(memo)), actor="controller")
    app.do(c.IssueCreditMemo(CreditMemoId(memo), date(2026, 3, 31)), actor="controller")


def test_a_correction_meets_the_plausibility_rules_and_the_persons_day(strict: App) -> None:
    record(
        strict, time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 2), "10")
    )
    with pytest.raises(HoursTooPreciseError):
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "x", hours=Decimal("0.0000000001")))
    with pytest.raises(DayOver24HoursError, match="28 h on 2026-03-02"):
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "x", hours=Decimal("18")))
    strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "x", hours=Decimal("14")))  # 24 h exactly
    assert strict.data.time_entries["t1"].hours == Decimal(14)


def test_a_correction_cannot_cross_a_blocking_cap() -> None:
    app = strict_app()
    set_up(app, cap=NotToExceed(hours=Decimal(10), policy=OveragePolicy.BLOCK))
    app.clock.current = END_OF_MARCH
    record(app, time_entry("t1", date(2026, 3, 2), "6"), time_entry("t2", date(2026, 3, 3), "3"))
    with pytest.raises(CapExceededError, match="over its cap"):
        app.do(c.CorrectTimeEntry(TimeEntryId("t1"), "more", hours=Decimal("8")))
    app.do(c.CorrectTimeEntry(TimeEntryId("t1"), "more", hours=Decimal("7")))


def test_an_entry_held_over_a_cap_is_decided_before_it_is_corrected(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8"))
    strict.do(c.HoldItem("t1", Decimal("2"), "over the cap"))
    with pytest.raises(EntryNotCorrectableError, match="held with a cap decision"):
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "x", hours=Decimal("6")))
    assert strict.data.time_entries["t1"].state is ItemState.HELD


def test_an_entry_dated_in_a_closed_period_is_not_corrected(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8"))
    strict.clock.current = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
    strict.do(c.ClosePeriod(MARCH), actor="controller")
    with pytest.raises(PeriodClosedError, match="cannot correct a time entry on 2026-03-02"):
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), "x", hours=Decimal("6")))
    assert strict.data.time_entries["t1"].hours == Decimal(8)


def test_an_unknown_entry_cannot_be_corrected(strict: App) -> None:
    with pytest.raises(NotFoundError):
        strict.do(c.CorrectTimeEntry(TimeEntryId("nope"), "x", hours=Decimal("1")))


def test_an_unstated_correction_reason_is_refused(strict: App) -> None:
    record(strict, time_entry("t1", date(2026, 3, 2), "8"))
    with pytest.raises(DomainError, match="needs a reason"):
        strict.do(c.CorrectTimeEntry(TimeEntryId("t1"), " ", hours=Decimal("6")))


# -- the order of arrival does not change what is accepted ---------------------------------------

_ENTRIES = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2"]),
        st.integers(min_value=2, max_value=4),
        st.sampled_from(["0.5", "4", "7.25", "8", "9.5", "12", "13", "0.001", "25"]),
    ),
    min_size=1,
    max_size=14,
)


def _outcome(batches: list[list[c.TimeEntryInput]]) -> tuple[set[str], dict[Any, Decimal]]:
    app = strict_app()
    set_up(app)
    app.clock.current = END_OF_MARCH
    accepted: set[str] = set()
    for batch in batches:
        accepted |= set(record(app, *batch).accepted)
    totals: defaultdict[Any, Decimal] = defaultdict(Decimal)
    for e in app.data.time_entries.values():
        totals[(e.resource_id, e.work_date)] += e.hours
    return accepted, dict(totals)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ENTRIES, data=st.data())
def test_any_split_of_the_same_entries_into_batches_accepts_the_same_set(
    rows: list[tuple[str, int, str]], data: st.DataObject
) -> None:
    """Cut the entries, in billing order (work date, then id), into batches anywhere and send
    each batch in any order: the accepted set and every person's day are the same as for one
    batch."""
    entries = sorted(
        (
            time_entry(f"t{n:02d}", date(2026, 3, day), hours, resource_id=ResourceId(who))
            for n, (who, day, hours) in enumerate(rows)
        ),
        key=lambda e: (e.work_date, e.entry_id),
    )
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(entries) - 1)), max_size=4)))
    bounds = [0, *cuts, len(entries)]
    batches = [data.draw(st.permutations(entries[a:b])) for a, b in itertools.pairwise(bounds)]
    assert _outcome([b for b in batches if b]) == _outcome([entries])
    _, totals = _outcome([entries])
    assert all(hours <= 24 for hours in totals.values())


def test_the_last_plausible_day_is_tomorrow_in_utc() -> None:
    app = strict_app()
    set_up(app)
    app.clock.current = datetime(2026, 3, 30, 23, 59, tzinfo=UTC)
    tomorrow = app.clock.current.date() + timedelta(days=1)
    assert record(app, time_entry("t1", tomorrow, "1")).accepted == ("t1",)


# -- the same rules for the PSA's webhooks ---------------------------------------------------


def test_a_psa_webhook_with_implausible_or_conflicting_entries_waits_on_the_queue(
    app: App,
) -> None:
    won_and_signed(app)
    body = example("time.approved")
    body["data"]["entries"][0]["hours"] = "0.0000000001"
    first = deliver(app, "psa", body, "psa-1")
    assert first.exception_id is not None
    queued = app.data.exceptions[first.exception_id]
    assert queued.reason_code == "items_rejected"
    assert "PSA-TE-1001: hours_too_precise" in queued.detail
    assert set(app.data.time_entries) == {"PSA-TE-1002"}
    # the PSA sends PSA-TE-1002 again with other hours: a conflict, not a silent duplicate
    again = example("time.approved")
    again["data"]["entries"] = [again["data"]["entries"][1] | {"hours": "3"}]
    second = deliver(app, "psa", again, "psa-2")
    assert second.exception_id is not None
    detail = app.data.exceptions[second.exception_id].detail
    assert "PSA-TE-1002: entry_conflict" in detail
    assert "hours 2 (sent 3)" in detail
    assert app.data.time_entries["PSA-TE-1002"].hours == Decimal(2)


def test_a_batch_is_reported_in_the_order_sent_though_admitted_in_billing_order(
    strict: App,
) -> None:
    sent = [("t5", 4, "8"), ("t1", 2, "13"), ("t4", 3, "0.125"), ("t2", 2, "13"), ("t3", 2, "2")]
    report = record(strict, *(time_entry(i, date(2026, 3, day), h) for i, day, h in sent))
    # billing order t1, t2, t3, t4, t5: t2 would make 26 h; t4 is finer than 0.01 h
    assert report.accepted == ("t5", "t1", "t3")
    assert [(r.item_id, r.position) for r in report.rejected] == [("t4", 2), ("t2", 3)]
    assert reasons(report) == {"t4": "hours_too_precise", "t2": "day_over_24_hours"}
