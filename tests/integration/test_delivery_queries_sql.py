"""An engagement's time entries and milestones read the same from the in-memory store and
from the database: by work date (or obligation), within a month, scoped to the client's own
customer, in keyset pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.memory.queries_delivery import InMemoryDeliveryQueries
from adapters.memory.queries_milestones import InMemoryMilestoneQueries
from adapters.sqlalchemy.queries.delivery import SqlAlchemyDeliveryQueries
from adapters.sqlalchemy.queries.milestones import SqlAlchemyMilestoneQueries
from application import commands as c
from application.queries.delivery import DeliveryQueries, TimeEntryFilter
from application.queries.milestones import MilestoneQueries
from application.queries.paging import InvalidPageRequestError, PageRequest, encode_cursor
from domain.ids import MilestoneId, ObligationId
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from tests.integration.support import SqlApp
from tests.support.builders import MARCH
from tests.support.paging import every_row
from tests.unit.application.conftest import (
    EUR,
    App,
    set_up_tm_contract,
    sign_contract,
    time_entry,
    told_in_memory_too,
)


def time_in_two_months_and_a_milestone_programme(app: App) -> None:
    """E1 holds five entries over February and March; E2 a two-milestone programme, the first
    completed."""
    set_up_tm_contract(app)
    app.do(
        c.RecordTimeEntries(
            (
                time_entry("t3", date(2026, 3, 3), "4"),
                time_entry("t1", date(2026, 3, 2), "8"),
                time_entry("t2", date(2026, 3, 2), "2.5"),
                time_entry("f1", date(2026, 2, 27), "6"),
                time_entry("t4", date(2026, 3, 31), "1"),
            )
        )
    )
    terms = MilestoneTerms(
        ObligationId("ms"), "Programme", EUR, Decimal("1000.00"),
        (MilestoneSpec(MilestoneId("M2"), "Build", percentage=Decimal("60"), final=True),
         MilestoneSpec(MilestoneId("M1"), "Design", percentage=Decimal("40"))),
        passive_acceptance_days=10,
    )  # fmt: skip
    sign_contract(app, "E2", "C2", "Programme", [terms])
    app.do(c.CompleteMilestone(MilestoneId("M1"), "design pack signed", date(2026, 3, 2)))


@pytest.fixture
def both(
    app: SqlApp,
) -> tuple[tuple[DeliveryQueries, MilestoneQueries], tuple[DeliveryQueries, MilestoneQueries]]:
    memory = told_in_memory_too(app, time_in_two_months_and_a_milestone_programme)
    engine = app.database.engine
    return (
        (InMemoryDeliveryQueries(memory.store), InMemoryMilestoneQueries(memory.store)),
        (SqlAlchemyDeliveryQueries(engine), SqlAlchemyMilestoneQueries(engine)),
    )


def all_entries(queries: DeliveryQueries, where: TimeEntryFilter, size: int) -> list[str]:
    rows = every_row(lambda request: queries.time_entries(where, request), size)
    return [e.entry_id for e in rows]


def test_time_entries_list_by_work_date_then_id_in_pages_alike_in_both_stores(
    both: tuple[tuple[DeliveryQueries, MilestoneQueries], ...],
) -> None:
    for delivery, _ in both:
        everything = TimeEntryFilter("E1")
        assert all_entries(delivery, everything, 2) == ["f1", "t1", "t2", "t3", "t4"]
        assert all_entries(delivery, TimeEntryFilter("E1", MARCH), 50) == ["t1", "t2", "t3", "t4"]


def test_the_same_entry_reads_the_same_in_both_stores(
    both: tuple[tuple[DeliveryQueries, MilestoneQueries], ...],
) -> None:
    (memory, _), (sql, _) = both
    in_memory = memory.time_entries(TimeEntryFilter("E1"), PageRequest(5))
    in_sql = sql.time_entries(TimeEntryFilter("E1"), PageRequest(5))
    assert in_memory is not None
    assert in_sql is not None
    assert in_sql.items == in_memory.items
    assert in_sql.items[1].hours == Decimal("8")


def test_another_customers_viewer_and_an_unknown_engagement_get_no_page(
    both: tuple[tuple[DeliveryQueries, MilestoneQueries], ...],
) -> None:
    for delivery, milestones in both:
        assert (
            delivery.time_entries(TimeEntryFilter("E1", visible_to="globex"), PageRequest()) is None
        )
        assert delivery.time_entries(TimeEntryFilter("E-NONE"), PageRequest()) is None
        assert milestones.milestones("E2", "globex", PageRequest()) is None
        mine = delivery.time_entries(TimeEntryFilter("E1", visible_to="acme"), PageRequest(1))
        assert mine is not None
        assert [e.entry_id for e in mine.items] == ["f1"]


def test_a_cursor_that_names_no_work_date_is_refused(
    both: tuple[tuple[DeliveryQueries, MilestoneQueries], ...],
) -> None:
    for delivery, _ in both:
        forged = PageRequest.of(5, encode_cursor(["not-a-date", "t1"]))
        with pytest.raises(InvalidPageRequestError):
            delivery.time_entries(TimeEntryFilter("E1"), forged)


def test_milestones_list_by_obligation_and_id_and_one_reads_with_its_contract(
    both: tuple[tuple[DeliveryQueries, MilestoneQueries], ...],
) -> None:
    (_, memory), (_, sql) = both
    for milestones in (memory, sql):
        first = milestones.milestones("E2", None, PageRequest(1))
        assert first is not None
        rest = milestones.milestones("E2", "acme", PageRequest.of(1, first.next_cursor))
        assert rest is not None
        assert [m.milestone_id for m in (*first.items, *rest.items)] == ["M1", "M2"]
        assert rest.next_cursor is None
        assert milestones.milestones("E1", None, PageRequest()) is not None
    one = sql.milestone("M1")
    assert one is not None
    assert (one.state, one.contract_id, one.engagement_id) == ("completed", "C2", "E2")
    assert one == memory.milestone("M1")
    assert sql.milestone("M-NONE") is None
    assert memory.milestone("M-NONE") is None
