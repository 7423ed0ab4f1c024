"""The Idempotency-Key claimed in the command's own transaction, and the answer stored in it
(ADR 0018), on real SQLite and PostgreSQL: the same behaviour as in memory (the tests of
`tests/unit/application/test_idempotency_claim.py`, on the SQL `app`)."""

from tests.unit.application.test_idempotency_claim import (
    test_a_key_another_request_holds_is_in_progress,
    test_a_refused_command_leaves_no_claim_so_a_corrected_retry_works,
    test_a_request_that_ends_without_an_answer_keeps_the_committed_work_and_its_claim,
    test_more_work_for_the_same_request_first_commits_the_work_waiting_for_the_answer,
    test_the_answer_is_stored_with_the_entry_and_its_key_in_one_commit,
)

__all__ = [
    "test_a_key_another_request_holds_is_in_progress",
    "test_a_refused_command_leaves_no_claim_so_a_corrected_retry_works",
    "test_a_request_that_ends_without_an_answer_keeps_the_committed_work_and_its_claim",
    "test_more_work_for_the_same_request_first_commits_the_work_waiting_for_the_answer",
    "test_the_answer_is_stored_with_the_entry_and_its_key_in_one_commit",
]
