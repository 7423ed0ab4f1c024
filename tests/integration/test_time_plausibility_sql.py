"""The plausibility rules on SQLite and PostgreSQL (ADR 0025): the CSV import's rows refused
with their reason codes, a person's day read by index and only for the days a batch touches,
an obligation's entries read once per batch and only under a cap that blocks, a correction
that reaches the table, and two concurrent writers of one person's day."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from application import commands as c
from application.handlers.delivery import IngestionReport
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.plausibility import PlausibilityPolicy
from domain.time_and_materials import NotToExceed, OveragePolicy
from domain.time_entry import TimeEntry
from entrypoints.cli.time_import import HEADER, read_time_file
from entrypoints.cli.time_import_run import import_rows
from tests.integration.support import SqlApp, only_on
from tests.integration.test_concurrency import in_threads
from tests.unit.application.conftest import set_up_tm_contract, time_entry
from tests.unit.application.test_recorded_time import (
    an_obligations_time_is_summed_by_role_day_and_billable,
)

END_OF_MARCH = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)


@pytest.fixture
def march(app: SqlApp) -> SqlApp:
    """The T&M contract, the clock at the end of March, the default future tolerance."""
    set_up_tm_contract(app)
    app.clock.current = END_OF_MARCH
    return app


def strict(app: SqlApp) -> SqlApp:
    """The deployment's default tolerance (one day) instead of the fixtures' wide one."""
    app.bus.deps = attrs.evolve(app.bus.deps, plausibility=PlausibilityPolicy())
    return app


@contextmanager
def statements(app: SqlApp) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) the application sends meanwhile."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(app.database.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(app.database.engine, "before_cursor_execute", capture)


def record(app: SqlApp, *entries: c.TimeEntryInput) -> IngestionReport:
    report: IngestionReport = app.do(c.RecordTimeEntries(entries))
    return report


# -- the CSV import ----------------------------------------------------------------------------


def test_the_csv_import_refuses_implausible_rows_with_their_line_and_reason(
    march: SqlApp, tmp_path: Path
) -> None:
    app = strict(march)
    rows = [
        "T1,E1,tm,r1,consultant,2026-03-02,13,,",  # line 2
        "T2,E1,tm,r1,consultant,2026-03-02,13,,",  # line 3: the day would hold 26 h
        "T3,E1,tm,r1,consultant,2026-03-03,0.0000000001,,",  # line 4
        "T4,E1,tm,r1,consultant,2031-01-06,2,,",  # line 5: work in 2031
        "T5,E1,tm,r2,consultant,2026-03-03,8,,",  # line 6
        "T5,E1,tm,r2,consultant,2026-03-03,8.00,,",  # line 7: the same entry again
        "T5,E1,tm,r2,consultant,2026-03-03,9,,",  # line 8: the same id, other hours
    ]
    path = tmp_path / "time.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    # one row per batch: every rule holds across batches, against what is recorded
    outcome = import_rows(app.bus, app.as_("psa-import"), read_time_file(path), "pm", 1)
    assert outcome.accepted == [2, 6]
    assert [(d.line, d.why) for d in outcome.duplicates] == [(7, "repeated in the file")]
    assert [(r.line, r.entry_id, r.reason_code) for r in outcome.rejected] == [
        (3, "T2", "day_over_24_hours"),
        (4, "T3", "hours_too_precise"),
        (5, "T4", "future_date"),
        (8, "T5", "entry_conflict"),
    ]
    assert "hours 8 (sent 9)" in outcome.rejected[-1].detail
    stored = app.data.time_entries
    assert {k: e.hours for k, e in stored.items()} == {"T1": Decimal(13), "T5": Decimal(8)}


def test_a_batch_that_repeats_an_id_with_other_hours_refuses_that_row(
    march: SqlApp, tmp_path: Path
) -> None:
    rows = ["T1,E1,tm,r1,consultant,2026-03-02,8,,", "T1,E1,tm,r1,consultant,2026-03-02,7,,"]
    path = tmp_path / "time.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    outcome = import_rows(march.bus, march.as_("psa-import"), read_time_file(path), "pm", 500)
    assert outcome.accepted == [2]
    assert [(r.line, r.reason_code) for r in outcome.rejected] == [(3, "entry_conflict")]


# -- set-based reads ---------------------------------------------------------------------------


def _reads_by_obligation(seen: list[tuple[str, Any]]) -> int:
    """Reads of an obligation's entries, one row each."""
    return sum(
        1 for sql, _ in seen if "WHERE time_entries.obligation_id" in sql and "GROUP BY" not in sql
    )


def _sums_by_obligation(seen: list[tuple[str, Any]]) -> int:
    """Reads of an obligation's time summed by role and day: its running totals, or its
    entries grouped (the first time, which seeds the totals)."""
    return _entries_grouped(seen) + sum(1 for sql, _ in seen if "cap_totals.entries >" in sql)


def _entries_grouped(seen: list[tuple[str, Any]]) -> int:
    """Reads that group an obligation's entries by role and day (every entry visited)."""
    return sum(
        1 for sql, _ in seen if "WHERE time_entries.obligation_id" in sql and "GROUP BY" in sql
    )


def _person_day_reads(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [
        (sql, p)
        for sql, p in seen
        if "resource_id = wanted.column1" in sql or "resource_id = wanted.pair" in sql
    ]


def test_a_batch_reads_only_its_ids_and_person_days_never_the_obligation(march: SqlApp) -> None:
    record(march, *(time_entry(f"old{n}", date(2026, 3, 1 + n % 28), "1") for n in range(60)))
    batch = [time_entry(f"t{n}", date(2026, 3, 2 + n % 3), "2") for n in range(30)]
    with statements(march) as seen:
        report = record(march, *batch)
    assert len(report.accepted) == 30
    assert _reads_by_obligation(seen) == 0
    assert len(_person_day_reads(seen)) == 1  # three person-days, one statement


def thirty_entries_of_3h_after_40h_under_a_blocking_cap(
    app: SqlApp, cap_hours: int
) -> tuple[IngestionReport, list[tuple[str, Any]]]:
    """40 h recorded under a blocking cap of `cap_hours`, then a batch of 30 entries of 3 h by
    30 people: the batch's report and the statements it sent."""
    cap = NotToExceed(hours=Decimal(cap_hours), policy=OveragePolicy.BLOCK)
    set_up_tm_contract(app, cap=cap)
    record(app, *(time_entry(f"old{n}", date(2026, 3, 1 + n % 28), "1") for n in range(40)))
    batch = [
        time_entry(f"t{n:02d}", date(2026, 3, 2 + n % 20), "3", resource_id=ResourceId(f"r{n}"))
        for n in range(30)
    ]
    with statements(app) as seen:
        report = record(app, *batch)
    return report, seen


def test_a_blocking_cap_reads_the_obligation_once_per_batch_not_once_per_entry(
    app: SqlApp,
) -> None:
    report, seen = thirty_entries_of_3h_after_40h_under_a_blocking_cap(app, cap_hours=100)
    # 40 h recorded + 30 entries of 3 h may reach the 100 h cap: the entries are read, once
    assert _sums_by_obligation(seen) == 1
    assert _reads_by_obligation(seen) == 1
    # 40 h recorded + 20 entries of 3 h = 100 h: the cap holds the rest back
    assert len(report.accepted) == 20
    assert {r.reason_code for r in report.rejected} == {"cap_exceeded"}


def test_a_batch_far_below_a_blocking_cap_reads_the_obligations_sums_not_its_entries(
    app: SqlApp,
) -> None:
    report, seen = thirty_entries_of_3h_after_40h_under_a_blocking_cap(app, cap_hours=1000)
    # 40 h recorded + 90 h sent stays far below 1,000 h: no entry can be refused
    assert len(report.accepted) == 30
    assert _sums_by_obligation(seen) == 1
    assert _reads_by_obligation(seen) == 0
    # The first batch seeded the obligation's running totals: its entries are not grouped again
    assert _entries_grouped(seen) == 0


def test_an_obligations_time_is_summed_by_role_day_and_billable_exactly(app: SqlApp) -> None:
    an_obligations_time_is_summed_by_role_day_and_billable(app)


def test_a_persons_day_is_found_through_its_index(march: SqlApp) -> None:
    # Many people work that day, so the day alone is a poor way in and the planner's choice
    # between the (work_date) and (resource_id, work_date) indexes is not a coin toss.
    others = [
        time_entry(f"o{n:02d}", DAY, "1", resource_id=ResourceId(f"other-{n}")) for n in range(60)
    ]
    record(march, time_entry("t1", DAY, "8"), *others)
    with statements(march) as seen:
        record(march, time_entry("t2", DAY, "8"))
    ((sql, parameters),) = _person_day_reads(seen)
    with march.database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE time_entries")
            connection.exec_driver_sql("SET enable_seqscan = off")  # a small table: ask anyway
        plan = " ".join(
            str(row) for row in connection.exec_driver_sql(_explain(connection, sql), parameters)
        )
    assert "ix_time_entries_resource_id_work_date" in plan, plan


def _explain(connection: sa.Connection, sql: str) -> str:
    return ("EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN ") + sql


# -- the correction reaches the table ------------------------------------------------------------


def test_a_correction_is_stored_with_its_event_and_audit(march: SqlApp) -> None:
    record(march, time_entry("t1", DAY, "8"))
    march.do(c.CorrectTimeEntry(TimeEntryId("t1"), "timesheet fixed", hours=Decimal("6.25")))
    entry = march.data.time_entries["t1"]
    assert (entry.hours, entry.revision) == (Decimal("6.25"), 2)  # approved, then corrected
    assert march.data.outbox[-1].event_type == "TimeEntryCorrected"
    assert march.data.audit[-1].reason == "timesheet fixed"
    # the person's day counts the corrected hours
    report = record(march, time_entry("t2", DAY, "17.75"), time_entry("t3", DAY, "0.01"))
    assert report.accepted == ("t2",)
    assert [r.reason_code for r in report.rejected] == ["day_over_24_hours"]


# -- concurrent writers of one person's day ---------------------------------------------------


def test_two_writers_of_one_persons_day_never_make_it_longer_than_24_hours(
    march: SqlApp,
) -> None:
    both_ready = threading.Barrier(2, timeout=30)
    reports: dict[str, IngestionReport] = {}

    def send(entry_id: str) -> Any:
        def work() -> None:
            both_ready.wait()
            reports[entry_id] = record(march, time_entry(entry_id, DAY, "13"))

        return work

    assert in_threads(send("t1"), send("t2")) == [None, None]
    accepted = [i for r in reports.values() for i in r.accepted]
    refused = [x.reason_code for r in reports.values() for x in r.rejected]
    assert (len(accepted), refused) == (1, ["day_over_24_hours"])
    assert sum(e.hours for e in march.data.time_entries.values()) == Decimal(13)


@only_on("postgresql")
def test_postgresql_a_second_writer_waits_for_the_person_day_then_reads_it(
    march: SqlApp,
) -> None:
    """The first batch holds the person-day's lock; the second waits on it (seen in pg_locks),
    then reads the first one's 13 h and refuses its own 13 h."""
    first_read = threading.Event()
    second: dict[str, IngestionReport] = {}

    def first() -> None:
        with march.bus.deps.uow(march.as_("psa")) as uow:
            assert uow.delivery.hours_by_person_day([(ResourceId("r1"), DAY)]) == {}
            first_read.set()
            _wait_for_a_waiting_advisory_lock(march)
            entry = TimeEntry.received_approved(
                TimeEntryId("t1"), ObligationId("tm"), ResourceId("r1"), Role("consultant"),
                DAY, Decimal(13),
            )  # fmt: skip
            uow.delivery.add_time_entries([entry])
            uow.commit()

    def then_second() -> None:
        first_read.wait(timeout=30)
        second["report"] = record(march, time_entry("t2", DAY, "13"))

    assert in_threads(first, then_second) == [None, None]
    report = second["report"]
    assert [r.reason_code for r in report.rejected] == ["day_over_24_hours"]
    assert sorted(march.data.time_entries) == ["t1"]


def _wait_for_a_waiting_advisory_lock(app: SqlApp) -> None:
    query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    deadline = datetime.now(UTC).timestamp() + 30
    with app.database.engine.connect() as connection:
        while connection.exec_driver_sql(query).scalar() == 0:
            connection.rollback()  # a fresh snapshot of pg_locks
            if datetime.now(UTC).timestamp() > deadline:
                raise AssertionError("the second writer never waited for the person-day")
