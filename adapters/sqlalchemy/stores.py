"""The set-based stores of business data: the billed ledger, the journal and master data
(delivery is in `delivery_store.py`, the integration records in `records.py`).

They write straight into the unit of work's transaction (so a later read in the same unit of
work sees the write, and a rollback undoes it), one statement per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import attrs
import sqlalchemy as sa

from adapters.chart_of_accounts import chart_from_json, chart_to_json
from adapters.serialization import structure, unstructure
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import insert_many, insert_values_all_or_none
from adapters.sqlalchemy.driver_values import exact_parameter, exact_text
from adapters.sqlalchemy.repositories import Session
from adapters.sqlalchemy.small_batch import INSERT_FROM_ARRAYS_UP_TO, insert_from_arrays
from application.errors import ConcurrentChangeError
from application.legal_entities import LegalEntityRecord
from application.ports import CustomerRecord
from application.records import PostedEntry
from application.unit_of_work import BilledDocument
from domain.billing import BilledLedger, LedgerEntry
from domain.chart_of_accounts import ChartOfAccounts
from domain.ids import ContractId, CustomerId, LegalEntityId
from domain.ledger import JournalEntry, JournalLine
from domain.tax import TaxProfile, TaxRateTable


class _Version(Protocol):
    @property
    def version(self) -> int: ...


R = TypeVar("R", bound=_Version)


def upsert(session: Session, table: sa.Table, row: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert the row, or overwrite the one with the same key."""
    statement = session.insert(table).values(row)
    changes = {name: statement.excluded[name] for name in row if name not in keys}
    session.connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))


class SqlAlchemyLedger:
    """The billed ledger, one row per allocation."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def load(self, contracts: Iterable[ContractId]) -> BilledLedger:
        entries: list[LedgerEntry] = []
        table = t.ledger_entries
        for clause in self._session.among(table.c.contract_id, contracts):
            # Plain tuples, not row mappings: every billing run reads the whole ledger.
            statement = sa.select(*codec.LEDGER_ENTRY_COLUMNS).where(clause).order_by(table.c.id)
            entries += codec.ledger_entries_from_tuples(self._session.connection.execute(statement))
        return BilledLedger(tuple(entries))

    def add(self, contract_id: ContractId, entries: Sequence[LedgerEntry]) -> None:
        self.add_all({contract_id: entries})

    def add_all(self, entries: Mapping[ContractId, Sequence[LedgerEntry]]) -> None:
        """One bulk write of every entry, converted for the driver as it is built (a billing
        run writes one row per allocation: no dictionary and no type processor per row)."""
        exact = exact_text if self._session.dialect == "sqlite" else exact_parameter
        values = [
            row for cid, items in entries.items() for row in codec.ledger_values(cid, items, exact)
        ]
        self._insert(values)

    def add_billed(self, documents: Mapping[ContractId, Sequence[BilledDocument]]) -> None:
        """`add_all` of what the documents' lines billed, each row made from its allocation
        (a billing run's documents: no ledger entry built only to be turned into a row)."""
        exact = exact_text if self._session.dialect == "sqlite" else exact_parameter
        values = [
            row
            for cid, billed in documents.items()
            for document_id, lines in billed
            for row in codec.billed_values(cid, document_id, lines, exact)
        ]
        self._insert(values)

    def _insert(self, values: list[tuple[Any, ...]]) -> None:
        # A refused row ends the unit of work (no caller goes on after it): a small batch on
        # PostgreSQL needs no savepoint.
        connection, names = self._session.connection, codec.LEDGER_ROW_NAMES
        if self._session.dialect == "postgresql" and len(values) <= INSERT_FROM_ARRAYS_UP_TO:
            insert_from_arrays(connection, t.ledger_entries, names, values)
        else:
            insert_values_all_or_none(connection, t.ledger_entries, names, values)

    def lock(self, contracts: Iterable[ContractId]) -> None:
        """PostgreSQL: lock the contracts' rows (in id order, so two runs cannot deadlock)
        until the transaction ends; a second billing run of the same contracts waits, then
        reads the ledger the first one committed. SQLite: the unit of work already holds the
        database's one write lock (BEGIN IMMEDIATE)."""
        if self._session.dialect != "postgresql":
            return
        column = t.contracts.c.id
        for clause in self._session.among(column, contracts):
            statement = sa.select(column).where(clause).order_by(column)
            self._session.connection.execute(statement.with_for_update()).all()

    def remove_document(self, document_id: str) -> None:
        table = t.ledger_entries
        self._session.connection.execute(table.delete().where(table.c.document_id == document_id))


class SqlAlchemyJournal:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, entry: JournalEntry) -> None:
        header, lines = codec.journal_rows(entry)
        self._session.connection.execute(t.journal_entries.insert(), [header])
        insert_many(self._session.connection, t.journal_lines, lines)

    def all(self) -> list[JournalEntry]:
        connection = self._session.connection
        lines: defaultdict[str, list[JournalLine]] = defaultdict(list)
        statement = sa.select(t.journal_lines).order_by(
            t.journal_lines.c.entry_id, t.journal_lines.c.line_no
        )
        for row in connection.execute(statement).mappings():
            lines[row["entry_id"]].append(codec.journal_line(row))
        headers = connection.execute(
            sa.select(t.journal_entries).order_by(t.journal_entries.c.sequence)
        ).mappings()
        return [codec.journal_entry(h, lines[h["entry_id"]]) for h in headers]

    def find(self, entry_id: str) -> JournalEntry | None:
        connection = self._session.connection
        header = (
            connection.execute(
                sa.select(t.journal_entries).where(t.journal_entries.c.entry_id == entry_id)
            )
            .mappings()
            .first()
        )
        if header is None:
            return None
        rows = connection.execute(
            sa.select(t.journal_lines)
            .where(t.journal_lines.c.entry_id == entry_id)
            .order_by(t.journal_lines.c.line_no)
        ).mappings()
        return codec.journal_entry(header, [codec.journal_line(row) for row in rows])

    def add_posting(self, posting: PostedEntry) -> None:
        self._session.connection.execute(
            t.journal_postings.insert(),
            [
                {
                    "entry_id": posting.entry_id,
                    "legal_entity_id": posting.legal_entity_id,
                    "posted_on": posting.posted_on,
                    "source_document": posting.source_document,
                    "payload": dict(posting.payload),
                    "erp_document": posting.erp_document,
                    "acknowledged_at": posting.acknowledged_at,
                }
            ],
        )

    def acknowledge(self, entry_id: str, erp_document: str, at: datetime) -> None:
        table = t.journal_postings
        self._session.connection.execute(
            table.update()
            .where(table.c.entry_id == entry_id, table.c.erp_document.is_(None))
            .values(erp_document=erp_document, acknowledged_at=at)
        )

    def postings(self) -> list[PostedEntry]:
        table = t.journal_postings
        rows = self._session.connection.execute(
            sa.select(table).order_by(table.c.sequence)
        ).mappings()
        return [
            PostedEntry(
                row["entry_id"],
                row["legal_entity_id"],
                row["posted_on"],
                row["source_document"],
                row["payload"],
                row["erp_document"],
                row["acknowledged_at"],
            )
            for row in rows
        ]

    def chart(self, legal_entity_id: str) -> ChartOfAccounts | None:
        table = t.charts_of_accounts
        row = self._session.connection.execute(
            sa.select(table.c.document).where(table.c.legal_entity_id == legal_entity_id)
        ).first()
        return None if row is None else chart_from_json(row[0])

    def save_chart(self, chart: ChartOfAccounts) -> None:
        table = t.charts_of_accounts
        connection = self._session.connection
        connection.execute(table.delete().where(table.c.legal_entity_id == chart.legal_entity_id))
        connection.execute(
            table.insert(),
            [{"legal_entity_id": chart.legal_entity_id, "document": chart_to_json(chart)}],
        )

    def charts(self) -> list[ChartOfAccounts]:
        table = t.charts_of_accounts
        rows = self._session.connection.execute(
            sa.select(table.c.document).order_by(table.c.legal_entity_id)
        )
        return [chart_from_json(row[0]) for row in rows]


class SqlAlchemyMasterData:
    def __init__(self, session: Session) -> None:
        self._session = session

    def tax_profile(self, customer_id: str, legal_entity_id: str) -> TaxProfile | None:
        c = t.tax_profiles.c
        row = (
            self._session.connection.execute(
                sa.select(t.tax_profiles).where(
                    c.customer_id == customer_id, c.legal_entity_id == legal_entity_id
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else codec.tax_profile(row)

    def save_tax_profile(self, profile: TaxProfile) -> None:
        row = codec.tax_profile_row(profile)
        upsert(self._session, t.tax_profiles, row, ("customer_id", "legal_entity_id"))

    def tax_profiles(self) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]:
        rows = self._session.connection.execute(sa.select(t.tax_profiles)).mappings()
        profiles = (codec.tax_profile(row) for row in rows)
        return {(p.customer_id, p.legal_entity_id): p for p in profiles}

    def tax_profiles_of(
        self, keys: Iterable[tuple[CustomerId, LegalEntityId]]
    ) -> dict[tuple[CustomerId, LegalEntityId], TaxProfile]:
        wanted = set(keys)
        c, found = t.tax_profiles.c, {}
        for clause in self._session.among(c.customer_id, (customer for customer, _ in wanted)):
            for row in self._session.connection.execute(sa.select(t.tax_profiles).where(clause)):
                key = (CustomerId(row.customer_id), LegalEntityId(row.legal_entity_id))
                if key in wanted:
                    found[key] = codec.tax_profile(row._mapping)
        return found

    def customer_record(self, customer_id: str, legal_entity_id: str) -> CustomerRecord | None:
        key = {"customer_id": customer_id, "legal_entity_id": legal_entity_id}
        return _CUSTOMER_RECORDS.latest(self._session, key)

    def customer_records(self, customer_id: str) -> list[CustomerRecord]:
        return _CUSTOMER_RECORDS.history(self._session, {"customer_id": customer_id})

    def current_customer_records(self) -> list[CustomerRecord]:
        return _CUSTOMER_RECORDS.current(self._session)

    def add_customer_record(self, record: CustomerRecord) -> None:
        what = f"customer {record.customer_id} at {record.legal_entity_id}"
        _CUSTOMER_RECORDS.add(self._session, codec.customer_record_row(record), what)

    def legal_entity(self, legal_entity_id: str) -> LegalEntityRecord | None:
        return _LEGAL_ENTITIES.latest(self._session, {"legal_entity_id": legal_entity_id})

    def legal_entity_versions(self, legal_entity_id: str) -> list[LegalEntityRecord]:
        return _LEGAL_ENTITIES.history(self._session, {"legal_entity_id": legal_entity_id})

    def legal_entities(self) -> list[LegalEntityRecord]:
        return _LEGAL_ENTITIES.current(self._session)

    def add_legal_entity(self, record: LegalEntityRecord) -> None:
        what = f"legal entity {record.legal_entity_id}"
        _LEGAL_ENTITIES.add(self._session, codec.legal_entity_row(record), what)

    def tax_rates(self) -> TaxRateTable:
        statement = sa.select(t.tax_rates.c.body).where(t.tax_rates.c.id == 1)
        body = self._session.connection.execute(statement).scalar()
        return TaxRateTable() if body is None else structure(body, TaxRateTable)

    def save_tax_rates(self, rates: TaxRateTable) -> None:
        upsert(self._session, t.tax_rates, {"id": 1, "body": unstructure(rates)}, ("id",))


@attrs.frozen
class _Versioned(Generic[R]):
    """Master data kept in versions (ADR 0035, 0037): a row a version under its key columns,
    the current record being the one with the highest version."""

    table: sa.Table
    keys: tuple[str, ...]
    decode: Callable[[codec.Row], R]

    def latest(self, session: Session, key: Mapping[str, str]) -> R | None:
        c = self.table.c
        statement = (
            sa.select(self.table)
            .where(*(c[name] == value for name, value in key.items()))
            .order_by(c.version.desc())
            .limit(1)
        )
        row = session.connection.execute(statement).mappings().first()
        return None if row is None else self.decode(row)

    def history(self, session: Session, key: Mapping[str, str]) -> list[R]:
        """Every version under (part of) a key, by key, oldest version first."""
        c = self.table.c
        statement = (
            sa.select(self.table)
            .where(*(c[name] == value for name, value in key.items()))
            .order_by(*(c[name] for name in self.keys), c.version)
        )
        return [self.decode(row) for row in session.connection.execute(statement).mappings()]

    def current(self, session: Session) -> list[R]:
        """The current version of every key, by key."""
        c = self.table.c
        keys = [c[name] for name in self.keys]
        latest = (
            sa.select(*keys, sa.func.max(c.version).label("version")).group_by(*keys).subquery()
        )
        statement = (
            sa.select(self.table)
            .join(
                latest,
                sa.and_(
                    *(c[name] == latest.c[name] for name in self.keys),
                    c.version == latest.c.version,
                ),
            )
            .order_by(*keys)
        )
        return [self.decode(row) for row in session.connection.execute(statement).mappings()]

    def add(self, session: Session, row: dict[str, Any], what: str) -> None:
        """A versioned master record is stored only as the next version of the current one;
        a version stored meanwhile by someone else is a conflict (the unique key says so)."""
        current = self.latest(session, {name: row[name] for name in self.keys})
        known = 0 if current is None else current.version
        version = row["version"]
        if version != known + 1:
            raise ConcurrentChangeError(
                f"{what} was changed by someone else since it was read: it is at version "
                f"{known}, so version {version} cannot follow it"
            )
        try:
            session.connection.execute(sa.insert(self.table), [row])
        except sa.exc.IntegrityError as error:
            raise ConcurrentChangeError(
                f"{what} was changed by someone else since it was read: version {version} "
                "is already stored"
            ) from error


_CUSTOMER_RECORDS = _Versioned(
    t.customer_records, ("customer_id", "legal_entity_id"), codec.customer_record
)
_LEGAL_ENTITIES = _Versioned(t.legal_entities, ("legal_entity_id",), codec.legal_entity)
