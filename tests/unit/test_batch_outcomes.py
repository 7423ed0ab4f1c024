"""A batch is answered as accepted whole only when the report says every item sent was
accepted, and then each item's outcome is the one the item-by-item answer gives."""

from __future__ import annotations

import pytest

from application.handlers.delivery import IngestionReport, Rejection
from entrypoints.http.routes.batch_outcomes import accepted_whole
from entrypoints.http.routes.delivery import _statuses


def test_a_batch_whose_every_id_was_accepted_in_order_is_accepted_whole() -> None:
    ids = ["A", "B", "C"]
    report = IngestionReport(("A", "B", "C"), (), ())

    assert accepted_whole(ids, report)
    assert _statuses(ids, report) == [(i, "accepted", None, None) for i in ids]


@pytest.mark.parametrize(
    ("ids", "report"),
    [
        (["A", "B"], IngestionReport(("A",), ("B",), ())),
        (["A", "B"], IngestionReport(("A",), (), (Rejection("B", "entry_conflict", "x"),))),
        (["A", "A"], IngestionReport(("A",), (), ())),
        (["A", "A"], IngestionReport(("A",), (), (Rejection("A", "entry_conflict", "x", 1),))),
        (["B", "A"], IngestionReport(("A", "B"), (), ())),
    ],
    ids=["a duplicate", "a rejection", "an id sent twice", "a repeat refused", "another order"],
)
def test_any_other_report_is_not_read_as_a_batch_accepted_whole(
    ids: list[str], report: IngestionReport
) -> None:
    assert not accepted_whole(ids, report)
