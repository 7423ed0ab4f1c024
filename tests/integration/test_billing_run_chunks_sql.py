"""A billing run in chunks (ADR 0060) on real SQLite and PostgreSQL: the same behaviour as in
memory (the tests of `tests/unit/application/test_billing_run_chunks.py`, on the SQL `app`),
and the committed run's answer read back from the drafts stored in the database
(`tests/unit/application/test_billing_run_answer.py`), and a run paged and chunked across
contracts, payers and skipped engagements (`test_billing_run_pages.py`)."""

from tests.unit.application.test_billing_run_answer import (
    test_a_committed_run_names_its_drafts_and_shows_them_as_its_preview_proposed,
    test_a_committed_run_shows_its_drafts_as_they_are_stored,
)
from tests.unit.application.test_billing_run_chunks import (
    test_a_chunked_commit_whose_proposal_changed_since_its_preview_stores_nothing,
    test_a_closed_period_refuses_a_chunked_commit_and_nothing_is_stored,
    test_a_run_in_chunks_stores_what_a_run_in_one_piece_proposes,
)
from tests.unit.application.test_billing_run_pages import (
    test_a_run_paged_and_chunked_anywhere_proposes_what_a_run_in_one_piece_does,
)

__all__ = [
    "test_a_chunked_commit_whose_proposal_changed_since_its_preview_stores_nothing",
    "test_a_closed_period_refuses_a_chunked_commit_and_nothing_is_stored",
    "test_a_committed_run_names_its_drafts_and_shows_them_as_its_preview_proposed",
    "test_a_committed_run_shows_its_drafts_as_they_are_stored",
    "test_a_run_in_chunks_stores_what_a_run_in_one_piece_proposes",
    "test_a_run_paged_and_chunked_anywhere_proposes_what_a_run_in_one_piece_does",
]
