"""Records of declared delivery kinds on real SQLite and PostgreSQL (ADR 0050): the same
behaviour as in memory (the tests of `tests/unit/application/test_delivery_records.py`, on the
SQL `app`)."""

from tests.unit.application.test_delivery_records import (
    test_a_kind_is_listed_by_record_id_in_keyset_pages_and_by_obligation,
    test_a_list_for_one_customer_shows_only_its_obligations_and_not_another_customers,
    test_a_record_cannot_move_to_another_obligation_or_be_corrected_in_a_closed_period,
    test_a_run_bills_each_record_and_a_correction_after_billing_bills_only_the_difference,
    test_an_unknown_kind_is_refused_and_names_itself,
    test_new_records_are_accepted_and_the_same_values_again_are_duplicates,
    test_other_values_for_a_known_record_are_a_correction_that_keeps_the_earlier_revision,
    test_records_are_refused_with_the_rule_that_refuses_them,
    test_revenue_recognised_reads_the_contracts_records,
)

__all__ = [
    "test_a_kind_is_listed_by_record_id_in_keyset_pages_and_by_obligation",
    "test_a_list_for_one_customer_shows_only_its_obligations_and_not_another_customers",
    "test_a_record_cannot_move_to_another_obligation_or_be_corrected_in_a_closed_period",
    "test_a_run_bills_each_record_and_a_correction_after_billing_bills_only_the_difference",
    "test_an_unknown_kind_is_refused_and_names_itself",
    "test_new_records_are_accepted_and_the_same_values_again_are_duplicates",
    "test_other_values_for_a_known_record_are_a_correction_that_keeps_the_earlier_revision",
    "test_records_are_refused_with_the_rule_that_refuses_them",
    "test_revenue_recognised_reads_the_contracts_records",
]
