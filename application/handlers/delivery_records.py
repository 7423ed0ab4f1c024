"""Records of declared delivery kinds arrive in batches, any kind alike (docs/adr/0050).

Each record of a batch is accepted (reported for the first time), a duplicate (the same
values again: no effect), corrected (other values: a new revision, the earlier one kept) or
rejected with the rule's code: an unknown obligation, an obligation whose model does not bill
the kind, a date in a closed period (for a correction, the earlier date too), the record's own
class refusing it, or the same id twice in one batch with other values (a correction is a
later batch). Reads are set-based: the ids the batch names, the periods its dates touch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from application import commands as c
from application.changes import RecordMoved, RunCompleted
from application.context import RequestContext
from application.errors import NotFoundError
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock
from application.queries.paging import Page
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.admission import reason_code
from domain.contract import Contract
from domain.delivery_kinds import DeliveryRecord, delivery_kind
from domain.errors import DomainError
from domain.ids import ObligationId
from domain.reported_record import ReportedRecord, admit_record
from domain.resent import Rejection

#: The reason code of an id sent twice in one batch with other values.
RECORD_CONFLICT = "delivery_record_conflict"


def record_delivery_records(
    cmd: c.RecordDeliveryRecords,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> c.DeliveryRecordsReport:
    """Admit and store a batch of one kind's records in one transaction, in batch order."""
    kind = delivery_kind(cmd.kind).name
    now = clock.now()
    with unit_of_work(ctx) as uow:
        stored = uow.delivery_records.with_ids(kind, (r.record_id for r in cmd.records))
        lock = _lock(uow, cmd.records, stored)
        contracts = _contracts_of(uow)
        batch = _Batch(stored, list(cmd.refused), contracts, lock)
        for position, record in zip(_positions(cmd), cmd.records, strict=True):
            batch.take(position, record, now)
        uow.delivery_records.add(batch.added)
        uow.delivery_records.save(batch.changed)
        for reported in batch.changed:
            uow.record(
                RecordMoved(
                    f"delivery_record:{kind}:{reported.record_id}",
                    "correct",
                    f"revision {reported.revision - 1}",
                    f"revision {reported.revision}",
                    f"reported again by {cmd.reported_by} with other values",
                )
            )
        report = batch.report()
        if report.accepted or report.corrected or report.rejected:
            summary = _summary(report, cmd.reported_by)
            uow.record(RunCompleted(f"delivery_records:{kind}", "ingest", None, summary))
        uow.commit()
    return report


def list_delivery_records(
    cmd: c.ListDeliveryRecords, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> Page[ReportedRecord]:
    """A page of one registered kind's records, by record id."""
    kind = delivery_kind(cmd.kind).name
    with unit_of_work(ctx, read_only=True) as uow:
        return uow.delivery_records.page(kind, _visible(uow, cmd), cmd.page)


class _Batch:
    """The outcome of each record of a batch, taken in order."""

    def __init__(
        self,
        stored: dict[str, ReportedRecord],
        refused: list[Rejection],
        contracts: dict[ObligationId, Contract],
        lock: PeriodLock,
    ) -> None:
        self._contracts, self._lock = contracts, lock
        self._known = dict(stored)
        self._new: dict[str, ReportedRecord] = {}
        self._changed: dict[str, ReportedRecord] = {}
        self.duplicates: list[str] = []
        self.rejected = refused

    @property
    def added(self) -> list[ReportedRecord]:
        return list(self._new.values())

    @property
    def changed(self) -> list[ReportedRecord]:
        return list(self._changed.values())

    def take(self, position: int, record: DeliveryRecord, now: datetime) -> None:
        known = self._known.get(record.record_id)
        if known is not None and known.says(record):
            self.duplicates.append(record.record_id)
            return
        if record.record_id in self._new or record.record_id in self._changed:
            self._refuse(
                position,
                record.record_id,
                RECORD_CONFLICT,
                f"{record.record_id} appears earlier in this batch with other values; a "
                "correction is reported in a later batch",
            )
            return
        try:
            admit_record(record, self._contracts.get(record.obligation_id), self._lock)
            if known is None:
                reported = ReportedRecord.report(record, now)
                self._known[record.record_id] = self._new[record.record_id] = reported
            else:
                # What was reported in a closed period is what its books say.
                self._lock.check(known.occurred_on, f"correct {known.kind} {known.record_id}")
                known.correct(record, now)
                self._changed[record.record_id] = known
        except DomainError as error:
            self._refuse(position, record.record_id, reason_code(error), str(error))

    def _refuse(self, position: int, record_id: str, code: str, detail: str) -> None:
        self.rejected.append(Rejection(record_id, code, detail, position))

    def report(self) -> c.DeliveryRecordsReport:
        rejected = sorted(self.rejected, key=lambda r: r.position or 0)
        return c.DeliveryRecordsReport(
            tuple(self._new), tuple(self.duplicates), tuple(self._changed), tuple(rejected)
        )


def _visible(uow: UnitOfWork, cmd: c.ListDeliveryRecords) -> set[ObligationId] | None:
    """The obligations a list may show: the one named, within the customer's when one is
    named (another customer's obligation is not found); None for every obligation."""
    if cmd.customer_id is None:
        return None if cmd.obligation_id is None else {cmd.obligation_id}
    mine = {
        oid
        for k in uow.contracts.all()
        if k.customer_id == cmd.customer_id
        for oid in k.obligation_ids()
    }
    if cmd.obligation_id is None:
        return mine
    if cmd.obligation_id not in mine:
        raise NotFoundError(f"there is no obligation {cmd.obligation_id}")
    return {cmd.obligation_id}


def _positions(cmd: c.RecordDeliveryRecords) -> list[int]:
    """Each record's place in the batch as sent: the places the edge's refusals do not hold."""
    refused = {r.position for r in cmd.refused}
    sent = len(cmd.records) + len(cmd.refused)
    return [p for p in range(sent) if p not in refused]


def _lock(
    uow: UnitOfWork, records: Sequence[DeliveryRecord], stored: dict[str, ReportedRecord]
) -> PeriodLock:
    """The closed periods among those the batch's dates (and its corrections' earlier dates)
    touch."""
    days = sorted({r.occurred_on for r in records} | {r.occurred_on for r in stored.values()})
    return PeriodLock.of(uow.periods.overlapping(days[0], days[-1]) if days else [])


def _contracts_of(uow: UnitOfWork) -> dict[ObligationId, Contract]:
    return {oid: k for k in uow.contracts.all() for oid in k.obligation_ids()}


def _summary(report: c.DeliveryRecordsReport, reported_by: str) -> str:
    return (
        f"{len(report.accepted)} accepted, {len(report.duplicates)} duplicates, "
        f"{len(report.corrected)} corrected, {len(report.rejected)} rejected "
        f"(reported by {reported_by})"
    )
