"""The in-memory store sums an obligation's time by role, work date and billable as the SQL
stores do (tests/integration/test_time_plausibility_sql.py), and a batch far below a blocking
cap is admitted without the obligation's entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from domain.cap_reach import RecordedTime
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.time_and_materials import NotToExceed, OveragePolicy
from tests.unit.application.conftest import App, set_up_tm_contract, time_entry

DAY = date(2026, 3, 2)


def an_obligations_time_is_summed_by_role_day_and_billable(app: App) -> None:
    """The story on any store (the SQL stores run it in tests/integration/
    test_time_plausibility_sql.py): five entries of one obligation, summed exactly."""
    set_up_tm_contract(app)
    app.do(
        c.RecordTimeEntries(
            (
                time_entry("a", DAY, "1.25"),
                time_entry("b", DAY, "0.1", resource_id=ResourceId("r2")),
                time_entry("c", DAY, "0.2", resource_id=ResourceId("r3")),
                time_entry("d", DAY, "2", billable=False),
                time_entry("e", date(2026, 3, 3), "7.5"),
            )
        )
    )
    with app.bus.deps.uow(app.as_("reader")) as uow:
        found = uow.delivery.recorded_time_by_role_and_day(ObligationId("tm"))
        other = uow.delivery.recorded_time_by_role_and_day(ObligationId("elsewhere"))
    assert sorted(found, key=lambda r: (r.work_date, r.billable)) == [
        RecordedTime(Role("consultant"), DAY, False, 1, Decimal("2")),
        RecordedTime(Role("consultant"), DAY, True, 3, Decimal("1.55")),
        RecordedTime(Role("consultant"), date(2026, 3, 3), True, 1, Decimal("7.5")),
    ]
    assert other == []


def entry_reads(app: App, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The obligations whose entries the delivery store reads from now on, one item a read."""
    reads: list[object] = []
    with app.bus.deps.uow(app.as_("reader")) as uow:
        store = type(uow.delivery)
    entries_for = store.time_entries_for
    monkeypatch.setattr(
        store,
        "time_entries_for",
        lambda self, obligations: reads.append(obligations) or entries_for(self, obligations),
    )
    return reads


def test_an_obligations_time_is_summed_by_role_day_and_billable_exactly(app: App) -> None:
    an_obligations_time_is_summed_by_role_day_and_billable(app)


def test_a_batch_far_below_a_blocking_cap_is_admitted_without_reading_the_entries(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_tm_contract(app, cap=NotToExceed(hours=Decimal(1000), policy=OveragePolicy.BLOCK))
    app.do(c.RecordTimeEntries(tuple(time_entry(f"old{n}", DAY, "0.5") for n in range(10))))
    reads = entry_reads(app, monkeypatch)
    batch = tuple(
        time_entry(f"t{n}", date(2026, 3, 3 + n % 20), "3", resource_id=ResourceId(f"r{n}"))
        for n in range(30)
    )
    report = app.do(c.RecordTimeEntries(batch))
    assert len(report.accepted) == 30
    assert reads == []


def test_a_batch_that_may_reach_a_blocking_cap_is_still_checked_entry_by_entry(
    app: App,
) -> None:
    set_up_tm_contract(app, cap=NotToExceed(hours=Decimal(100), policy=OveragePolicy.BLOCK))
    old = tuple(time_entry(f"old{n}", date(2026, 3, 1 + n % 28), "1") for n in range(40))
    assert len(app.do(c.RecordTimeEntries(old)).accepted) == 40
    batch = tuple(
        time_entry(f"t{n:02d}", date(2026, 3, 3 + n % 20), "3", resource_id=ResourceId(f"r{n}"))
        for n in range(30)
    )
    report = app.do(c.RecordTimeEntries(batch))
    # 40 h recorded + 20 entries of 3 h = 100 h: the cap refuses the other ten
    assert len(report.accepted) == 20
    assert {r.reason_code for r in report.rejected} == {"cap_exceeded"}


def test_a_correction_far_below_a_blocking_cap_is_made_without_reading_the_entries(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_tm_contract(app, cap=NotToExceed(hours=Decimal(1000), policy=OveragePolicy.BLOCK))
    app.do(c.RecordTimeEntries((time_entry("t1", DAY, "6"), time_entry("t2", DAY, "3"))))
    reads = entry_reads(app, monkeypatch)
    app.do(c.CorrectTimeEntry(TimeEntryId("t1"), "more", hours=Decimal("8")))
    assert app.data.time_entries["t1"].hours == Decimal("8")
    assert reads == []
