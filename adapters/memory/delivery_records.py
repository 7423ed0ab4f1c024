"""Records of declared delivery kinds in memory (ADR 0050): every revision of each record, by
(kind, record id), the last being the current one; the same answers as the SQL store."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from adapters.memory.queries_paging import page_of
from application.queries.paging import Page, PageRequest
from domain.delivery_kinds import DeliveryRecords
from domain.ids import ObligationId
from domain.reported_record import ReportedRecord

if TYPE_CHECKING:
    from adapters.memory.store import _Data


class InMemoryDeliveryRecords:
    def __init__(self, data: _Data, seen: list[object]) -> None:
        self._data = data
        self._seen = seen

    def with_ids(self, kind: str, record_ids: Iterable[str]) -> dict[str, ReportedRecord]:
        found = {}
        for record_id in set(record_ids):
            revisions = self._data.delivery_records.get((kind, record_id))
            if revisions:
                found[record_id] = _current(kind, revisions)
        return found

    def add(self, records: Sequence[ReportedRecord]) -> None:
        for reported in records:
            self._data.delivery_records[(reported.kind, reported.record_id)] = [_row(reported)]
            self._seen.append(reported)

    def save(self, records: Sequence[ReportedRecord]) -> None:
        for reported in records:
            self._data.delivery_records[(reported.kind, reported.record_id)].append(_row(reported))
            self._seen.append(reported)

    def for_obligations(self, obligations: Iterable[ObligationId]) -> DeliveryRecords:
        wanted = set(obligations)
        return DeliveryRecords.of(
            revisions[-1][0]
            for revisions in self._data.delivery_records.values()
            if revisions[-1][0].obligation_id in wanted
        )

    def page(
        self, kind: str, obligations: Collection[ObligationId] | None, request: PageRequest
    ) -> Page[ReportedRecord]:
        rows = [
            _current(k, revisions)
            for (k, _), revisions in self._data.delivery_records.items()
            if k == kind and (obligations is None or revisions[-1][0].obligation_id in obligations)
        ]
        return page_of(rows, lambda r: (r.record_id,), request)

    def revisions(self, kind: str, record_id: str) -> list[ReportedRecord]:
        return [
            ReportedRecord(kind, record, revision, at)
            for record, revision, at in self._data.delivery_records.get((kind, record_id), [])
        ]


def _row(reported: ReportedRecord) -> tuple[object, int, object]:
    return (reported.record, reported.revision, reported.reported_at)


def _current(kind: str, revisions: list[tuple[object, int, object]]) -> ReportedRecord:
    record, revision, at = revisions[-1]
    return ReportedRecord(kind, record, revision, at)  # type: ignore[arg-type]
