"""The billing run's read of a chunk's entries as rows (ADR 0069, amended), on SQLite and
PostgreSQL: each row holds what the entry the store reads holds, value for value and exponent
for exponent, in the same order, and an obligation without entries reads none."""

from __future__ import annotations

from decimal import Decimal

from adapters.sqlalchemy.database import Database
from domain.ids import ObligationId
from domain.time_rows import TimeRow
from tests.integration.test_billing_reads_sql import an_entry, uow
from tests.support.builders import AT
from tests.unit.test_serialization import held_time_entry, rejected_non_billable_entry


def test_a_run_reads_each_entry_as_the_row_of_the_entry_the_store_reads(
    database: Database,
) -> None:
    recorded = [
        held_time_entry(),
        rejected_non_billable_entry(),
        an_entry("t3", "tm", "0.25", 2),
        an_entry("t1", "tm", "7.50", 30),
        an_entry("t2", "tm", "8", 1),
        an_entry("x1", "elsewhere", "3", 5),
    ]
    recorded[2].write_off(Decimal("0.25"), "goodwill", AT, settled=Decimal(0))
    with uow(database) as u:
        u.delivery.add_time_entries(recorded)
        u.commit()
    asked = [ObligationId("tm"), recorded[0].obligation_id, ObligationId("none")]
    with uow(database, read_only=True) as u:
        rows = u.billing_reads.time_rows_for(asked)
        as_entities = [TimeRow.of(e) for e in u.billing_reads.time_entries_for(asked)]
    assert [row.entry_id for row in rows] == sorted(row.entry_id for row in as_entities)
    assert {type(row) for row in rows} == {TimeRow}
    assert [repr(row) for row in rows] == [repr(row) for row in as_entities]
    hours = {row.entry_id: str(row.hours) for row in rows}
    assert (hours["t1"], hours["t2"], hours["t3"]) == ("7.50", "8", "0.25"), "exponents kept"
    assert "x1" not in hours
    assert [row.entry_id for row in rows if row.is_billable_state] == [
        row.entry_id for row in as_entities if row.is_billable_state
    ]


def test_no_obligation_reads_no_rows(database: Database) -> None:
    with uow(database, read_only=True) as u:
        assert u.billing_reads.time_rows_for([]) == []
        assert u.billing_reads.time_rows_for([ObligationId("nothing-recorded")]) == []
