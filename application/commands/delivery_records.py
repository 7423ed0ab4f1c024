"""Commands of the delivery kinds billing models declare (docs/adr/0050): one command for
every kind, its records already built as the kind's record class."""

from __future__ import annotations

import attrs

from application.commands.base import Returning
from application.queries.paging import Page, PageRequest
from domain.delivery_kinds import DeliveryRecord
from domain.ids import CustomerId, ObligationId
from domain.reported_record import ReportedRecord
from domain.resent import Rejection


@attrs.frozen
class DeliveryRecordsReport:
    """What happened to each record of a batch: accepted (new), duplicate (the same values
    again), corrected (other values: a new revision) or rejected with the rule's code."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    corrected: tuple[str, ...]
    rejected: tuple[Rejection, ...]


@attrs.frozen
class RecordDeliveryRecords(Returning[DeliveryRecordsReport]):
    """A batch of records of one declared delivery kind, as the reporting system sends them.

    `refused` holds the records the edge could not build because their class refused them
    (its own validation, with its error code), each with its place in the batch as sent; they
    are reported rejected with the rest, and `records` fill the other places in order."""

    kind: str
    records: tuple[DeliveryRecord, ...]
    refused: tuple[Rejection, ...] = ()
    reported_by: str = "api"


@attrs.frozen
class ListDeliveryRecords(Returning[Page[ReportedRecord]]):
    """A page of one kind's records, by record id, of one obligation when named; only the
    customer's obligations when a customer is named (a client viewer's scope)."""

    kind: str
    page: PageRequest
    obligation_id: ObligationId | None = None
    customer_id: CustomerId | None = None
