"""A record of a declared delivery kind as this system keeps it (docs/adr/0050).

The reporting system (a metering system, a PSA) names each record by its `record_id`, unique
within its kind. The same record reported again with the same values is a duplicate and
changes nothing; with other values it is a correction: the record's values are replaced, its
revision goes up by one, and the earlier revision stays in the store as provenance. A record
stays with the obligation it was first reported against: reporting it against another one is
refused, since the billed ledger knows it under its first obligation.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from domain.accounting_period import PeriodLock
from domain.admission import UnknownObligationError
from domain.contract import Contract
from domain.delivery_kinds import DeliveryRecord, kind_of
from domain.errors import DomainError
from domain.ids import ObligationId
from domain.obligation import billing_model_for


class DeliveryRecordMovedError(DomainError):
    """A reported record cannot move to another obligation."""

    code = "delivery_record_moved"


@attrs.frozen
class ReportedRecordAccepted:
    """A record of a declared delivery kind was reported for the first time."""

    kind: str
    record_id: str
    obligation_id: ObligationId
    occurred_on: date
    revision: int
    at: datetime


@attrs.frozen
class ReportedRecordCorrected:
    """A record was reported again with other values: its new revision replaces the last."""

    kind: str
    record_id: str
    obligation_id: ObligationId
    occurred_on: date
    occurred_on_before: date
    revision: int
    at: datetime


@attrs.define(slots=False, eq=False)
class ReportedRecord:
    """One record of a declared delivery kind, at its current revision."""

    kind: str
    record: DeliveryRecord
    revision: int
    reported_at: datetime
    events: list[object] = attrs.field(factory=list)

    @classmethod
    def report(cls, record: DeliveryRecord, at: datetime) -> ReportedRecord:
        """A record reported for the first time is revision 1 of its kind's record."""
        kind = kind_of(record).name
        reported = cls(kind, record, 1, at)
        reported.events.append(
            ReportedRecordAccepted(
                kind, record.record_id, record.obligation_id, record.occurred_on, 1, at
            )
        )
        return reported

    @property
    def record_id(self) -> str:
        return self.record.record_id

    @property
    def obligation_id(self) -> ObligationId:
        return self.record.obligation_id

    @property
    def occurred_on(self) -> date:
        return self.record.occurred_on

    def says(self, record: DeliveryRecord) -> bool:
        """A record reported again says the same when every value is equal."""
        return type(record) is type(self.record) and record == self.record

    def correct(self, record: DeliveryRecord, at: datetime) -> bool:
        """Other values for the same record replace these as the next revision, on the same
        obligation; the same values change nothing (False)."""
        if self.says(record):
            return False
        if record.obligation_id != self.obligation_id:
            raise DeliveryRecordMovedError(
                f"{self.kind} {self.record_id} was reported against obligation "
                f"{self.obligation_id}; it cannot move to {record.obligation_id}"
            )
        before = self.occurred_on
        self.record, self.revision, self.reported_at = record, self.revision + 1, at
        self.events.append(
            ReportedRecordCorrected(
                self.kind,
                record.record_id,
                record.obligation_id,
                record.occurred_on,
                before,
                self.revision,
                at,
            )
        )
        return True


class DeliveryKindNotBilledError(DomainError):
    """An obligation takes only the delivery kinds its billing model consumes."""

    code = "delivery_kind_not_billed"


def admit_record(record: DeliveryRecord, contract: Contract | None, lock: PeriodLock) -> None:
    """A record is admitted against an obligation of a contract whose terms in force on the
    record's date bill its kind, dated in an open accounting period."""
    kind = kind_of(record).name
    if contract is None:
        raise UnknownObligationError(f"no contract has an obligation {record.obligation_id}")
    version = contract.version_in_force(record.occurred_on)
    terms = next((o for o in version.obligations if o.obligation_id == record.obligation_id), None)
    if terms is None:
        raise UnknownObligationError(
            f"contract {contract.contract_id} has no obligation {record.obligation_id} "
            f"in force on {record.occurred_on}"
        )
    model = billing_model_for(terms)
    if kind not in {k.name for k in model.consumes}:
        raise DeliveryKindNotBilledError(
            f"obligation {record.obligation_id} is not billed from {kind} records"
        )
    if model.admit is not None:
        model.admit(terms, record)
    lock.check(record.occurred_on, f"record {kind} {record.record_id}")
