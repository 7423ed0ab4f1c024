"""The settled marks of ADR 0048 on real SQLite and PostgreSQL: the same behaviour as in
memory (the tests of `tests/unit/application/test_billing_marks.py`, on the SQL `app`)."""

from pathlib import Path

from sqlalchemy.dialects import sqlite

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.billing_marks import counted
from adapters.sqlalchemy.database import Database
from tests.unit.application.test_billing_marks import (
    test_a_commit_marks_the_obligation_it_billed_in_full_as_settled,
    test_a_discarded_draft_releases_its_hours_to_the_next_run,
    test_a_rerun_proposes_exactly_what_billing_everything_again_proposes,
    test_a_run_that_held_hours_over_a_cap_leaves_that_obligation_unmarked,
    test_hours_recorded_after_the_commit_are_billed_by_the_next_run,
)

__all__ = [
    "test_a_commit_marks_the_obligation_it_billed_in_full_as_settled",
    "test_a_discarded_draft_releases_its_hours_to_the_next_run",
    "test_a_rerun_proposes_exactly_what_billing_everything_again_proposes",
    "test_a_run_that_held_hours_over_a_cap_leaves_that_obligation_unmarked",
    "test_hours_recorded_after_the_commit_are_billed_by_the_next_run",
]


def test_a_stamp_counts_time_entries_from_the_obligation_index(tmp_path: Path) -> None:
    """The stamp's aggregate over time entries reads no entry's row (migration 0022): SQLite
    plans it on the (obligation, revision) index alone. (PostgreSQL's index-only scan depends
    on its visibility map, so the plan is checked where it is deterministic.)"""
    database = Database(f"sqlite:///{tmp_path / 'plan.db'}")
    try:
        database.upgrade()
        among = t.time_entries.c.obligation_id.in_(["OB-1", "OB-2"])
        statement = counted(t.time_entries, among).compile(
            dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
        )
        with database.engine.connect() as connection:
            plan = [
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")
            ]
    finally:
        database.dispose()
    assert any("COVERING INDEX ix_time_entries_obligation_id_revision" in x for x in plan), plan
