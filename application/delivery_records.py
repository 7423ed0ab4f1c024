"""The store of records of declared delivery kinds (docs/adr/0050), and how billing and revenue
read them.

Every registered kind is kept alike: a record's current revision by (kind, record id), and
every revision it ever had (provenance). A new kind needs no new port, table or migration.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from application.changes import RecordMoved
from application.queries.paging import Page, PageRequest
from domain.billing import Exclusion
from domain.delivery_kinds import DeliveryRecords
from domain.ids import ObligationId
from domain.reported_record import ReportedRecord

if TYPE_CHECKING:
    from application.unit_of_work import UnitOfWork
    from domain.contract import Contract


class DeliveryRecordStore(Protocol):
    """Records of declared delivery kinds: their current revision and every earlier one."""

    def with_ids(self, kind: str, record_ids: Iterable[str]) -> dict[str, ReportedRecord]:
        """The stored records of the kind among these ids, at their current revision."""

    def add(self, records: Sequence[ReportedRecord]) -> None:
        """Store records reported for the first time (revision 1)."""

    def save(self, records: Sequence[ReportedRecord]) -> None:
        """Store the new revision of corrected records; the revisions before it stay."""

    def for_obligations(self, obligations: Iterable[ObligationId]) -> DeliveryRecords:
        """The current revision of every record of every kind reported against these
        obligations."""

    def page(
        self, kind: str, obligations: Collection[ObligationId] | None, request: PageRequest
    ) -> Page[ReportedRecord]:
        """The kind's records (of these obligations, when named) by record id, in keyset
        pages."""

    def revisions(self, kind: str, record_id: str) -> list[ReportedRecord]:
        """Every revision the record had, the first first (none when it was never reported)."""


def delivery_of(uow: UnitOfWork, contracts: Iterable[Contract]) -> DeliveryRecords:
    """The current records of every declared kind reported against the contracts' obligations:
    what a billing or revenue run hands its models."""
    return uow.delivery_records.for_obligations(
        oid for contract in contracts for oid in contract.obligation_ids()
    )


def excluded_source(exclusion: Exclusion) -> RecordMoved:
    """The audit record of a quantity a billing run did not bill from a source that keeps no
    held or written-off state of its own (a record of a declared kind, a schedule item)."""
    disposition = exclusion.disposition.value
    return RecordMoved(
        f"source:{exclusion.source}",
        disposition,
        None,
        disposition,
        f"{exclusion.quantity} of obligation {exclusion.obligation_id} not billed "
        f"({exclusion.value.amount} {exclusion.value.currency.code}): {exclusion.reason}",
    )
