"""The settled marks of ADR 0048 on real SQLite and PostgreSQL: the same behaviour as in
memory (the tests of `tests/unit/application/test_billing_marks.py`, on the SQL `app`)."""

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
