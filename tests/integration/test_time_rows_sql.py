"""The billing run's read of a chunk's entries as rows (ADR 0069, amended), on SQLite and
PostgreSQL: each row holds what the entry the store reads holds, value for value and exponent
for exponent, in the same order, and an obligation without entries reads none."""

from __future__ import annotations

from adapters.sqlalchemy.database import Database
from domain.ids import ObligationId
from domain.time_rows import TimeRow
from tests.integration.test_billing_reads_sql import an_entry, uow
from tests.unit.test_serialization import held_time_entry, rejected_non_billable_entry


def test_a_run_reads_each_entry_as_the_row_of_the_entry_the_store_reads(
    database: Database,
) -> None:
    held, rejected = held_time_entry(), rejected_non_billable_entry()
    other = [an_entry("o2", "other", "1.50", 3), an_entry("o1", "other", "2.0", 4)]
    elsewhere = an_entry("x1", "not-billed", "8", 5)
    with uow(database) as u:
        u.delivery.add_time_entries([held, rejected, *other, elsewhere])
        u.commit()
    wanted = [held.obligation_id, ObligationId("other"), ObligationId("nothing-recorded")]
    with uow(database, read_only=True) as u:
        entries = u.billing_reads.time_entries_for(wanted)
        rows = u.billing_reads.time_rows_for(wanted)
    assert [r.entry_id for r in rows] == ["e10", "e9", "o1", "o2"]
    assert all(type(r) is TimeRow for r in rows)
    assert [repr(r) for r in rows] == [repr(TimeRow.of(e)) for e in entries]
    assert str(rows[2].hours) == "2.0", "an exact value keeps its exponent"
    assert [r.is_billable_state for r in rows] == [e.is_billable_state for e in entries]


def test_no_obligation_reads_no_rows(database: Database) -> None:
    with uow(database, read_only=True) as u:
        assert u.billing_reads.time_rows_for([]) == []
        assert u.billing_reads.time_rows_for([ObligationId("nothing-recorded")]) == []
