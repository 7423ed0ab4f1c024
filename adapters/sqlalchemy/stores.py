"""The set-based stores of business data: delivery, the billed ledger, the journal and
master data (the integration records are in `records.py`).

They write straight into the unit of work's transaction (so a later read in the same unit of
work sees the write, and a rollback undoes it), one statement per batch.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from adapters.serialization import structure, unstructure
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import insert_all_or_none, insert_many
from adapters.sqlalchemy.repositories import Session
from application.errors import ConflictError
from domain.billing import BilledLedger, LedgerEntry
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId
from domain.ledger import JournalEntry, JournalLine
from domain.period import Period
from domain.tax import TaxProfile, TaxRateTable
from domain.time_entry import ExpenseItem, TimeEntry


def upsert(session: Session, table: sa.Table, row: dict[str, Any], keys: Sequence[str]) -> None:
    """Insert the row, or overwrite the one with the same key."""
    statement = session.insert(table).values(row)
    changes = {name: statement.excluded[name] for name in row if name not in keys}
    session.connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))


@functools.cache
def _time_entry_exists() -> sa.Select[Any]:
    column = t.time_entries.c.entry_id
    return sa.select(column).where(column == sa.bindparam("entry_id_", type_=sa.String()))


class SqlAlchemyDelivery:
    """Time entries and expenses: executemany in, one query per obligation batch out, with an
    identity map so the entry a handler changes is the one it read."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._entries: dict[str, tuple[TimeEntry, int]] = {}
        self._expenses: dict[str, tuple[ExpenseItem, int]] = {}

    def add_time_entries(self, entries: Sequence[TimeEntry]) -> None:
        if not entries:
            return
        self._insert(t.time_entries, [codec.time_entry_row(e) for e in entries], "time entry")
        for entry in entries:
            self._entries[entry.entry_id] = (entry, entry.revision)
            self._session.saw(entry)

    def add_expenses(self, items: Sequence[ExpenseItem]) -> None:
        if not items:
            return
        self._insert(t.expenses, [codec.expense_row(x) for x in items], "expense")
        for item in items:
            self._expenses[item.expense_id] = (item, item.revision)
            self._session.saw(item)

    def _insert(self, table: sa.Table, rows: list[dict[str, Any]], what: str) -> None:
        try:
            insert_all_or_none(self._session.connection, table, rows)
        except sa.exc.IntegrityError as error:
            raise ConflictError(f"a {what} of this batch is already recorded") from error

    def time_entry(self, entry_id: str) -> TimeEntry | None:
        found = self._time_entries(t.time_entries.c.entry_id == entry_id)
        return found[0] if found else None

    def expense(self, expense_id: str) -> ExpenseItem | None:
        found = self._expense_items(t.expenses.c.expense_id == expense_id)
        return found[0] if found else None

    def existing_time_entry_ids(self, entry_ids: Iterable[str]) -> set[str]:
        wanted = list(entry_ids)
        if len(wanted) == 1:  # one entry per request (the HTTP API): a statement built once
            statement = _time_entry_exists()
            rows = self._session.connection.execute(statement, {"entry_id_": wanted[0]})
            return {row[0] for row in rows}
        existing: set[str] = set()
        column = t.time_entries.c.entry_id
        for clause in self._session.among(column, wanted):
            rows = self._session.connection.execute(sa.select(column).where(clause))
            existing.update(row[0] for row in rows)
        return existing

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        found: list[TimeEntry] = []
        for clause in self._session.among(t.time_entries.c.obligation_id, obligations):
            found += self._time_entries(clause)
        return found

    def time_entries_in(self, period: Period) -> list[TimeEntry]:
        return self._time_entries(t.time_entries.c.work_date.between(period.start, period.end))

    def expenses_for(self, obligations: Iterable[ObligationId]) -> list[ExpenseItem]:
        found: list[ExpenseItem] = []
        for clause in self._session.among(t.expenses.c.obligation_id, obligations):
            found += self._expense_items(clause)
        return found

    def save(self, item: TimeEntry | ExpenseItem) -> None:
        """Write the changed state now, if nobody changed the item since it was read."""
        if isinstance(item, TimeEntry):
            loaded = self._loaded_revision(self._entries.get(item.entry_id), item)
            self._write(t.time_entries, t.time_entries.c.entry_id, item, loaded)
            self._entries[item.entry_id] = (item, item.revision)
        else:
            loaded = self._loaded_revision(self._expenses.get(item.expense_id), item)
            self._write(t.expenses, t.expenses.c.expense_id, item, loaded)
            self._expenses[item.expense_id] = (item, item.revision)
        self._session.saw(item)

    @staticmethod
    def _loaded_revision(tracked: tuple[object, int] | None, item: TimeEntry | ExpenseItem) -> int:
        # An item this unit of work never read: assume it was read one change ago.
        return tracked[1] if tracked is not None else item.revision - 1

    def _write(
        self,
        table: sa.Table,
        key: sa.Column[str],
        item: TimeEntry | ExpenseItem,
        loaded: int,
    ) -> None:
        if item.revision <= loaded:
            item.revision = loaded + 1  # a change the domain did not count still counts
        result = self._session.connection.execute(
            table.update()
            .where(key == item.item_id, table.c.revision == loaded)
            .values(codec.item_state_columns(item))
        )
        if result.rowcount != 1:
            raise ConflictError(f"{item.item_id} was changed by someone else since it was read")

    def _time_entries(self, clause: sa.ColumnElement[bool]) -> list[TimeEntry]:
        # Plain tuples, not row mappings: this read feeds every billing run, row by row.
        statement = sa.select(*codec.TIME_ENTRY_COLUMNS).where(clause)
        statement = statement.order_by(t.time_entries.c.entry_id)
        found = []
        for row in self._session.connection.execute(statement):
            known = self._entries.get(row[0])
            if known is None:
                known = (codec.time_entry_from_tuple(row), row[-1])
                self._entries[row[0]] = known
            found.append(known[0])
        return found

    def _expense_items(self, clause: sa.ColumnElement[bool]) -> list[ExpenseItem]:
        statement = sa.select(t.expenses).where(clause).order_by(t.expenses.c.expense_id)
        found = []
        for row in self._session.connection.execute(statement).mappings():
            known = self._expenses.get(row["expense_id"])
            if known is None:
                known = (codec.expense(row), row["revision"])
                self._expenses[row["expense_id"]] = known
            found.append(known[0])
        return found


class SqlAlchemyLedger:
    """The billed ledger, one row per allocation."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def load(self, contracts: Iterable[ContractId]) -> BilledLedger:
        entries: list[LedgerEntry] = []
        table = t.ledger_entries
        for clause in self._session.among(table.c.contract_id, contracts):
            statement = sa.select(table).where(clause).order_by(table.c.id)
            rows = self._session.connection.execute(statement).mappings()
            entries += [codec.ledger_entry(row) for row in rows]
        return BilledLedger(tuple(entries))

    def add(self, contract_id: ContractId, entries: Sequence[LedgerEntry]) -> None:
        self.add_all({contract_id: entries})

    def add_all(self, entries: Mapping[ContractId, Sequence[LedgerEntry]]) -> None:
        rows = [codec.ledger_row(cid, entry) for cid, items in entries.items() for entry in items]
        if rows:
            insert_many(self._session.connection, t.ledger_entries, rows)

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

    def tax_rates(self) -> TaxRateTable:
        statement = sa.select(t.tax_rates.c.body).where(t.tax_rates.c.id == 1)
        body = self._session.connection.execute(statement).scalar()
        return TaxRateTable() if body is None else structure(body, TaxRateTable)

    def save_tax_rates(self, rates: TaxRateTable) -> None:
        upsert(self._session, t.tax_rates, {"id": 1, "body": unstructure(rates)}, ("id",))
