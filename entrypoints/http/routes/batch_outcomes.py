"""Each item's outcome in a batch's answer, when every item was accepted.

Most batches are accepted whole. The report then lists every id accepted, once each, in the
order sent (`IngestionReport`), so each item's outcome is `accepted` and nothing needs to be
looked up per item (`_statuses` in delivery.py answers every other batch).
"""

from __future__ import annotations

from collections.abc import Sequence

from application.handlers.delivery import IngestionReport


def accepted_whole(ids: Sequence[str], report: IngestionReport) -> bool:
    """Whether the batch of these ids, in this order, was accepted whole: nothing rejected,
    no duplicate, and the accepted ids are the ids sent, in the order sent."""
    return not report.rejected and not report.duplicates and report.accepted == tuple(ids)
