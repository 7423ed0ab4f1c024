"""The billing run's bulk read (ADR 0054) on SQLite and PostgreSQL: the same entries, value
for value, as the delivery store reads, and none of them tracked."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.context import RequestContext
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.time_entry import TimeEntry
from tests.support.builders import AT
from tests.unit.test_serialization import assert_same, held_time_entry, rejected_non_billable_entry


def uow(database: Database, *, read_only: bool = False) -> SqlAlchemyUnitOfWork:
    return database.unit_of_work(
        RequestContext("tester", "corr-reads"), lambda: AT, read_only=read_only
    )


def an_entry(entry_id: str, obligation: str, hours: str, day: int) -> TimeEntry:
    entry = TimeEntry.submit(
        TimeEntryId(entry_id),
        ObligationId(obligation),
        ResourceId("r7"),
        Role("consultant"),
        date(2026, 3, day),
        Decimal(hours),
    )
    entry.approve("psa", AT)
    return entry


def test_a_run_reads_every_entry_of_its_obligations_as_the_delivery_store_does(
    database: Database,
) -> None:
    held, rejected = held_time_entry(), rejected_non_billable_entry()
    other = [an_entry("o2", "other", "1.50", 3), an_entry("o1", "other", "2.0", 4)]
    elsewhere = an_entry("x1", "not-billed", "8", 5)
    with uow(database) as u:
        u.delivery.add_time_entries([held, rejected, *other, elsewhere])
        u.commit()
    wanted = [held.obligation_id, ObligationId("other"), ObligationId("nothing-recorded")]
    with uow(database) as u:
        stored = u.delivery.time_entries_for(wanted)
    with uow(database, read_only=True) as u:
        read = u.billing_reads.time_entries_for(wanted)
    assert [e.entry_id for e in read] == ["e10", "e9", "o1", "o2"]
    for by_run, by_store in zip(read, sorted(stored, key=lambda e: e.entry_id), strict=True):
        assert_same(by_store, by_run)
    assert str(read[2].hours) == "2.0", "an exact value keeps its exponent"


def test_an_entry_a_run_read_is_changed_through_the_delivery_stores_own_copy(
    database: Database,
) -> None:
    entry = an_entry("t1", "tm", "4", 9)
    with uow(database) as u:
        u.delivery.add_time_entries([entry])
        u.commit()
    with uow(database) as u:
        (read,) = u.billing_reads.time_entries_for([entry.obligation_id])
        tracked = u.delivery.time_entry(entry.entry_id)
        assert tracked is not None
        assert tracked is not read
        tracked.hold(Decimal("1.5"), "over the cap", AT)
        u.delivery.save(tracked)
        u.commit()
    with uow(database) as u:
        (again,) = u.billing_reads.time_entries_for([entry.obligation_id])
    assert again.held == Decimal("1.5")
    assert again.revision == tracked.revision


def test_no_obligations_read_nothing(database: Database) -> None:
    with uow(database) as u:
        assert u.billing_reads.time_entries_for([]) == []
