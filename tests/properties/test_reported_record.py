"""A record reported again and again (ADR 0050): whatever the sequence of values, the current
revision holds the last values reported, the revision counts the changes, and a repeat of the
same values never adds one."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from domain.ids import ObligationId
from domain.reported_record import ReportedRecord, ReportedRecordCorrected
from tests.support.metered import UnitRecord

AT = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=20))
def test_the_revision_counts_the_changes_and_the_current_values_are_the_last(
    reported: list[int],
) -> None:
    def unit(count: int) -> UnitRecord:
        return UnitRecord("m1", ObligationId("metered"), date(2026, 3, 2), count)

    record = ReportedRecord.report(unit(reported[0]), AT)
    changes = [record.correct(unit(count), AT) for count in reported[1:]]
    distinct_steps = sum(1 for a, b in itertools.pairwise(reported) if a != b)
    assert record.record.units == reported[-1]
    assert record.revision == 1 + distinct_steps == 1 + sum(changes)
    corrected = [e for e in record.events if isinstance(e, ReportedRecordCorrected)]
    assert [e.revision for e in corrected] == list(range(2, record.revision + 1))
