"""Rows to objects and back: the data mapper's one place for column lists.

Aggregate snapshots and outbox payloads go through the project's one converter
(`adapters.serialization`); relational rows are built field by field here, which is what
makes the bulk paths cheap (no document to parse per time entry).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

import attrs
import sqlalchemy as sa

from adapters.serialization import structure, unstructure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.driver_values import DAY_TEXT, EXACT_TEXT
from application.legal_entities import LegalEntityRecord
from application.ports import CustomerRecord
from application.records import (
    AuditRecord,
    DeliveryState,
    IdempotencyRecord,
    IdempotencyStatus,
    OutboxEvent,
)
from domain.billing import LedgerEntry, SourceKind, SourceRef
from domain.delivery_kinds import delivery_kind
from domain.document import DocumentLine
from domain.ids import (
    ExpenseId,
    ObligationId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.ledger import Account, JournalEntry, JournalLine
from domain.money import Currency, Money
from domain.reported_record import ReportedRecord
from domain.tax import CategoryCode, TaxProfile
from domain.time_entry import ExpenseItem, ItemState, TimeEntry

Row = Mapping[Any, Any]  # a RowMapping: keys are column names (or columns)
Record = TypeVar("Record", bound=attrs.AttrsInstance)
#: How a field is stored when not as itself: (to the column, from the column).
Coded = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _as_stored(value: Any) -> Any:
    return value


def by_value(kind: type[Enum]) -> Coded:
    """An enum field stored as its member's value."""
    return operator.attrgetter("value"), kind


class FieldRows(Generic[Record]):
    """A record stored as one row with a column per field, named alike: its class lists the
    columns once, for the row written and the record read back. `coded` names the fields
    stored as something other than themselves (an enum as its value, a tuple as JSON)."""

    def __init__(self, record_type: type[Record], **coded: Coded) -> None:
        names = tuple(field.name for field in attrs.fields(record_type))
        self._type, self._names = record_type, names
        self._to_columns = [(name, to_column) for name, (to_column, _) in coded.items()]
        self._from_columns = [(names.index(name), read) for name, (_, read) in coded.items()]

    def row(self, record: Record) -> dict[str, Any]:
        row = {name: getattr(record, name) for name in self._names}
        for name, to_column in self._to_columns:
            row[name] = to_column(row[name])
        return row

    def record(self, row: Row) -> Record:
        fields = [row[name] for name in self._names]
        for at, from_column in self._from_columns:
            fields[at] = from_column(fields[at])
        return self._type(*fields)


@functools.cache
def currency(code: str) -> Currency:
    return Currency.of(code)


# Delivered items ------------------------------------------------------------------------------


#: Where a delivered item stands after the decisions taken on it, beside its state.
_DECIDED = ("held", "released", "written_off", "written_off_over_cap", "rejection_reason")


def item_state_columns(item: TimeEntry | ExpenseItem) -> dict[str, Any]:
    """The columns a change to a delivered item can touch."""
    columns = {name: getattr(item, name) for name in _DECIDED}
    columns["state"], columns["revision"] = item.state.value, item.revision
    return columns


def item_state(row: Row) -> dict[str, Any]:
    """`item_state_columns` read back, as the item's keyword arguments."""
    fields = {name: row[name] for name in _DECIDED}
    fields["state"], fields["revision"] = ItemState(row["state"]), row["revision"]
    return fields


def time_entry_row(entry: TimeEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "obligation_id": entry.obligation_id,
        "resource_id": entry.resource_id,
        "role": entry.role,
        "task_id": entry.task_id,
        "work_date": entry.work_date,
        "hours": entry.hours,
        "billable": entry.billable,
        "cost_rate": entry.cost_rate,
        **item_state_columns(entry),
    }


_EXACT_COLUMNS = {"hours", "cost_rate", "held", "released", "written_off", "written_off_over_cap"}

#: The time-entry columns in the order `time_entry_from_tuple` reads them (revision last).
TIME_ENTRY_NAMES = (
    "entry_id", "obligation_id", "resource_id", "role", "work_date", "hours", "task_id",
    "billable", "cost_rate", "state", "held", "released", "written_off",
    "written_off_over_cap", "rejection_reason", "revision",
)  # fmt: skip
#: `TIME_ENTRY_NAMES` as Core columns, the exact ones as the driver returns them
#: (`driver_values.EXACT_TEXT`).
TIME_ENTRY_COLUMNS = tuple(
    sa.type_coerce(t.time_entries.c[name], sa.String()).label(name)
    if name in _EXACT_COLUMNS
    else t.time_entries.c[name]
    for name in TIME_ENTRY_NAMES
)
_ITEM_STATES = {state.value: state for state in ItemState}


def time_entry_from_tuple(row: Sequence[Any]) -> TimeEntry:
    """A time entry from a row of `TIME_ENTRY_NAMES`, read through Core or straight from the
    driver (a day as its ISO text, a flag as 0 or 1: the bulk read paths)."""
    exact = EXACT_TEXT
    return TimeEntry(
        row[0], row[1], row[2], row[3], DAY_TEXT[row[4]], exact[row[5]], row[6], bool(row[7]),
        exact[row[8]], state=_ITEM_STATES[row[9]], held=exact[row[10]], released=exact[row[11]],
        written_off=exact[row[12]], written_off_over_cap=exact[row[13]],
        rejection_reason=row[14], revision=row[15],
    )  # fmt: skip


def time_entry(row: Row) -> TimeEntry:
    return TimeEntry(
        TimeEntryId(row["entry_id"]),
        ObligationId(row["obligation_id"]),
        ResourceId(row["resource_id"]),
        Role(row["role"]),
        row["work_date"],
        row["hours"],
        TaskId(row["task_id"]),
        row["billable"],
        row["cost_rate"],
        **item_state(row),
    )


def expense_row(item: ExpenseItem) -> dict[str, Any]:
    return {
        "expense_id": item.expense_id,
        "obligation_id": item.obligation_id,
        "resource_id": item.resource_id,
        "category": item.category,
        "incurred_on": item.incurred_on,
        "cost": item.cost.amount,
        "currency": item.cost.currency.code,
        "description": item.description,
        **item_state_columns(item),
    }


def expense(row: Row) -> ExpenseItem:
    return ExpenseItem(
        ExpenseId(row["expense_id"]),
        ObligationId(row["obligation_id"]),
        ResourceId(row["resource_id"]),
        row["category"],
        row["incurred_on"],
        Money(row["cost"], currency(row["currency"])),
        row["description"],
        **item_state(row),
    )


# The billed ledger and the journal ------------------------------------------------------------


#: The ledger's columns in table order, as `ledger_values` gives them (the bulk write).
LEDGER_ROW_NAMES = (
    "contract_id", "document_id", "obligation_id", "source_kind", "source_id", "quantity",
    "amount", "currency", "terms", "write_off", "payer", "credit",
)  # fmt: skip


def ledger_values(
    contract_id: str, entries: Iterable[LedgerEntry], exact: Callable[[Decimal], Any]
) -> Iterator[tuple[Any, ...]]:
    """The ledger rows of a contract's entries as the driver takes them (`LEDGER_ROW_NAMES`;
    `exact` converts the exact columns for the dialect), with no per-row dictionary."""
    for entry in entries:
        source, amount = entry.source, entry.amount
        yield (
            contract_id, entry.document_id, entry.obligation_id, source.kind.value,
            source.source_id, exact(entry.quantity), exact(amount.amount), amount.currency.code,
            entry.terms, bool(entry.write_off), entry.payer, bool(entry.credit),
        )  # fmt: skip


def billed_values(
    contract_id: str,
    document_id: str,
    lines: Iterable[DocumentLine],
    exact: Callable[[Decimal], Any],
) -> Iterator[tuple[Any, ...]]:
    """`ledger_values` of `billed_by(document_id, lines)`, straight from the allocations: a
    document's entries bill (no write-off, no credit); a test holds the two to the same rows."""
    for line in lines:
        obligation_id = line.obligation_id
        for allocation in line.allocations:
            source, amount = allocation.source, allocation.amount
            yield (
                contract_id, document_id, obligation_id, source.kind.value, source.source_id,
                exact(allocation.quantity), exact(amount.amount), amount.currency.code,
                allocation.terms, False, allocation.payer, False,
            )  # fmt: skip


#: The ledger columns in the order `ledger_entries_from_tuples` reads them, the exact ones
#: as the driver gives them (`driver_values.EXACT_TEXT`).
LEDGER_ENTRY_COLUMNS = tuple(
    sa.type_coerce(t.ledger_entries.c[name], sa.String()).label(name)
    if name in ("quantity", "amount")
    else t.ledger_entries.c[name]
    for name in (
        "document_id", "obligation_id", "source_kind", "source_id", "quantity", "amount",
        "currency", "terms", "write_off", "payer", "credit",
    )
)  # fmt: skip
#: Live: a kind a model registers after this import is found too.
_SOURCE_KINDS = SourceKind.by_value()


def ledger_entries_from_tuples(rows: Iterable[Sequence[Any]]) -> list[LedgerEntry]:
    """Ledger entries from rows of `LEDGER_ENTRY_COLUMNS` (the bulk read every billing run
    makes): each currency is looked up once, not once a row."""
    currencies: dict[str, Currency] = {}
    exact = EXACT_TEXT
    found = []
    for row in rows:
        code = row[6]
        money = currencies.get(code) or currencies.setdefault(code, currency(code))
        found.append(
            LedgerEntry(
                row[0], row[1], SourceRef(_SOURCE_KINDS[row[2]], row[3]), exact[row[4]],
                Money(exact[row[5]], money), row[7], row[8], payer=row[9], credit=row[10],
            )
        )  # fmt: skip
    return found


def journal_rows(entry: JournalEntry) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    header = {
        "entry_id": entry.entry_id,
        "posted_on": entry.posted_on,
        "description": entry.description,
        "source_document": entry.source_document,
    }
    lines = [
        {
            "entry_id": entry.entry_id,
            "line_no": number,
            "account": line.account.value,
            "obligation_id": line.obligation_id,
            "debit": line.debit.amount,
            "credit": line.credit.amount,
            "currency": line.debit.currency.code,
            "memo": line.memo,
            "tax_code": line.tax_code,
        }
        for number, line in enumerate(entry.lines, start=1)
    ]
    return header, lines


def journal_line(row: Row) -> JournalLine:
    code = currency(row["currency"])
    obligation = row["obligation_id"]
    return JournalLine(
        Account(row["account"]),
        Money(row["debit"], code),
        Money(row["credit"], code),
        ObligationId(obligation) if obligation is not None else None,
        row["memo"],
        row["tax_code"],
    )


def journal_entry(header: Row, lines: list[JournalLine]) -> JournalEntry:
    """Rebuilt as stored: it was balanced when it was posted."""
    return JournalEntry(
        header["entry_id"],
        header["posted_on"],
        header["description"],
        tuple(lines),
        header["source_document"],
    )


# Integration records --------------------------------------------------------------------------

_AUDIT = FieldRows(AuditRecord)
audit_row, audit_record = _AUDIT.row, _AUDIT.record

_IDEMPOTENCY = FieldRows(IdempotencyRecord, status=by_value(IdempotencyStatus))
idempotency_row, idempotency_record = _IDEMPOTENCY.row, _IDEMPOTENCY.record


def outbox_delivery_columns(event: OutboxEvent) -> dict[str, Any]:
    """The columns the relay changes; the event itself (id, payload, ...) never changes."""
    return {
        "state": event.state.value,
        "attempts": event.attempts,
        "claimed_by": event.claimed_by,
        "claimed_at": event.claimed_at,
        "last_error": event.last_error,
        "next_attempt_at": event.next_attempt_at,
    }


#: The payload is copied as it is written: the event's own mapping may be read-only.
_OUTBOX = FieldRows(OutboxEvent, state=by_value(DeliveryState), payload=(dict, _as_stored))
outbox_row, outbox_event = _OUTBOX.row, _OUTBOX.record

_TAX_PROFILE = FieldRows(
    TaxProfile,
    #: NULL for a profile stored before tax categories (ADR 0030).
    categories=(unstructure, lambda v: structure(v or [], tuple[CategoryCode, ...])),
)
tax_profile_row, tax_profile = _TAX_PROFILE.row, _TAX_PROFILE.record


class DocumentRows(Generic[Record]):
    """A record stored whole as one JSON document in `body`, its key fields beside it as
    columns (the versioned master data: a version is added, never updated)."""

    def __init__(self, record_type: type[Record], *keys: str) -> None:
        self._type, self._keys = record_type, keys

    def row(self, record: Record) -> dict[str, Any]:
        row = {name: getattr(record, name) for name in self._keys}
        row["body"] = unstructure(record)
        return row

    def record(self, row: Row) -> Record:
        return structure(row["body"], self._type)


# One pushed version of a customer record (ADR 0035); of a legal entity's master data (ADR 0037).
_CUSTOMER_RECORDS = DocumentRows(CustomerRecord, "customer_id", "legal_entity_id", "version")
customer_record_row, customer_record = _CUSTOMER_RECORDS.row, _CUSTOMER_RECORDS.record
_LEGAL_ENTITIES = DocumentRows(LegalEntityRecord, "legal_entity_id", "version")
legal_entity_row, legal_entity = _LEGAL_ENTITIES.row, _LEGAL_ENTITIES.record


# Records of declared delivery kinds (ADR 0050) ------------------------------------------------


def delivery_record_row(reported: ReportedRecord) -> dict[str, Any]:
    """The row of a record's current revision (also the row of that revision's provenance)."""
    return {
        "kind": reported.kind,
        "record_id": reported.record_id,
        "obligation_id": str(reported.obligation_id),
        "occurred_on": reported.occurred_on,
        "revision": reported.revision,
        "payload": unstructure(reported.record),
        "reported_at": reported.reported_at,
    }


def reported_record(row: Row) -> ReportedRecord:
    """A record as stored, built strictly as its kind's record class."""
    record = structure(row["payload"], delivery_kind(row["kind"]).record_type)
    return ReportedRecord(row["kind"], record, row["revision"], row["reported_at"])
