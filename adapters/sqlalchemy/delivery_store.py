"""The delivery store: time entries and expenses, written with one driver-level statement per
batch and read set-wise (the ids a batch names, the person-days it touches, an obligation's
time summed by role and day), so admission never reads more than the batch needs.

It writes straight into the unit of work's transaction (a later read in the same unit of work
sees the write, and a rollback undoes it).
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import Processor, insert_all_or_none, insert_values_all_or_none
from adapters.sqlalchemy.cap_totals import CapTotals
from adapters.sqlalchemy.driver import DriverStatement, driver_rows
from adapters.sqlalchemy.repositories import Session
from adapters.sqlalchemy.small_batch import INSERT_FROM_ARRAYS_UP_TO, insert_from_arrays
from adapters.sqlalchemy.time_entry_rows import TIME_ENTRY_NAMES, time_entry_values
from application.errors import ConcurrentChangeError, ConflictError
from domain.cap_reach import RecordedTime
from domain.ids import ObligationId, ResourceId
from domain.money import EXACT
from domain.period import Period
from domain.time_entry import ExpenseItem, ItemState, TimeEntry


@functools.cache
def _time_entry_exists() -> sa.Select[Any]:
    column = t.time_entries.c.entry_id
    return sa.select(column).where(column == sa.bindparam("entry_id_", type_=sa.String()))


#: The recorded ids among those of a JSON array (SQLite): each found by the primary key.
_RECORDED_IDS_SQLITE = (
    "SELECT entry_id FROM time_entries WHERE entry_id IN (SELECT value FROM json_each(?))"
)

#: At most so many recorded ids from one id to another (SQLite), read along the primary key.
_RECORDED_IDS_BETWEEN_SQLITE = (
    "SELECT entry_id FROM time_entries WHERE entry_id BETWEEN ? AND ? ORDER BY entry_id LIMIT ?"
)


@functools.cache
def _time_entry_by_id() -> DriverStatement:
    column = t.time_entries.c.entry_id
    statement = sa.select(*codec.TIME_ENTRY_COLUMNS)
    return DriverStatement(statement.where(column == sa.bindparam("entry_id_", type_=sa.String())))


#: Person-days per statement: on SQLite a power of two, two parameters each (well under its
#: limit); on PostgreSQL two arrays, so a batch's days are one statement.
PERSON_DAYS_PER_QUERY = {"sqlite": 256, "postgresql": 10_000}
#: The advisory-lock namespace of person-days on PostgreSQL (the first key of the pair): one
#: per schema, as advisory locks are the database's.
PERSON_DAY_LOCKS = "hashtext(current_schema() || '.person_days')"
#: Person-days share this many advisory locks: a batch of thousands of days holds at most
#: this many (PostgreSQL's lock table is shared and bounded); two writers whose days share a
#: lock only wait for each other.
PERSON_DAY_LOCK_BUCKETS = 256
#: A SQLite connection that ingests a batch of at least this many person-days is set up for
#: bulk ingest from then on (ADR 0058): a page cache of `INGEST_CACHE_KIB` (such a batch
#: touches thousands of index pages, more than SQLite's default 2,000 KiB holds) and a WAL
#: checkpointed by its commits every `INGEST_CHECKPOINT_PAGES` pages rather than every 1,000
#: (each checkpoint copies the pages and syncs twice; at 1,000 a batch of 5,000 entries
#: checkpointed at nearly every commit). Smaller batches (the HTTP API's, at most 1,000
#: entries) leave its cache as it is.
INGEST_SETUP_FROM_DAYS = 2_000
INGEST_CACHE_KIB = 65_536
INGEST_CHECKPOINT_PAGES = 10_000
_INGEST_SETUP = "throughline_bulk_ingest"
#: A SQLite connection that writes a batch of at least this many entries (the HTTP API's
#: largest among them) checkpoints every `INGEST_CHECKPOINT_PAGES` pages from then on, its
#: cache left as it is: a stream of such batches (about 130 WAL pages per 1,000 entries) passes
#: SQLite's default 1,000 pages between two turns of the server's checkpoint thread, and the
#: commit that passed them copied the pages back and synced on its request's path (ADR 0058,
#: amendment of 2026-12-08).
INGEST_CHECKPOINTS_FROM_ENTRIES = 500
_INGEST_CHECKPOINTS = "throughline_bulk_checkpoints"


def _recorded_hours() -> tuple[sa.Column[Any], ...]:
    c = t.time_entries.c
    return (c.resource_id, c.work_date, c.hours)


@functools.cache
def _person_days_postgresql() -> sa.TextClause:
    """The hours of the person-days given as one JSON array of [resource, day] pairs: one
    statement text, each day found through the (resource_id, work_date) index (the lateral
    read, kept apart by OFFSET 0, is searched once per pair: the planner cannot see how many
    pairs a JSON array holds). A text array parameter would cost the driver a quoting check
    per element, more than the read itself."""
    return sa.text(
        "SELECT day.resource_id, day.work_date, day.hours "
        "FROM json_array_elements(CAST(:days AS json)) AS wanted(pair) "
        "CROSS JOIN LATERAL (SELECT t.resource_id, t.work_date, t.hours FROM time_entries AS t "
        "WHERE t.resource_id = wanted.pair ->> 0 "
        "AND t.work_date = CAST(wanted.pair ->> 1 AS date) "
        f"AND t.state != '{ItemState.REJECTED.value}' OFFSET 0) AS day"
    )


@functools.cache
def _recorded_ids_postgresql() -> sa.TextClause:
    """The recorded ids among those of a JSON array (PostgreSQL), each found by the primary
    key."""
    return sa.text(
        "SELECT t.entry_id FROM json_array_elements_text(CAST(:ids AS json)) AS wanted(id) "
        "JOIN time_entries AS t ON t.entry_id = wanted.id"
    )


@functools.cache
def _person_days_sqlite(size: int) -> str:
    """The hours of `size` person-days, a driver-level statement (it runs for every batch, and
    SQLAlchemy's per-parameter processing would cost more than SQLite does): the pairs are
    joined from a VALUES list, so SQLite searches the (resource_id, work_date) index once per
    pair (a row-value IN would scan the table). Built once per size; batches use a few sizes
    (powers of two), the rest filled with NULL pairs, which match nothing."""
    pairs = ", ".join(["(?, ?)"] * size)
    return (
        f"SELECT t.resource_id, t.work_date, t.hours FROM (VALUES {pairs}) AS wanted "
        "JOIN time_entries AS t ON t.resource_id = wanted.column1 "
        "AND t.work_date = wanted.column2 "
        f"WHERE t.state != '{ItemState.REJECTED.value}'"
    )


@functools.cache
def _sqlite_day_and_hours(dialect: Dialect) -> tuple[Processor, Processor]:
    """The work_date and hours columns' own conversions on SQLite (a date in, hours out), so
    the driver-level read binds and gives what a Core read would."""
    c = t.time_entries.c
    day = c.work_date.type.dialect_impl(dialect)
    hours = c.hours.type.dialect_impl(dialect)  # ExactDecimal over SQLite's text
    return day.bind_processor(dialect), hours.result_processor(dialect, None)


def _sqlite_size(count: int) -> int:
    size = 1
    while size < count:
        size *= 2
    return size


@functools.cache
def _lock_person_days_postgresql() -> sa.TextClause:
    return sa.text(
        f"SELECT pg_advisory_xact_lock({PERSON_DAY_LOCKS}, k)"
        " FROM unnest(CAST(:keys AS integer[])) AS k"
    ).bindparams(sa.bindparam("keys", type_=postgresql.ARRAY(sa.Integer())))


#: The person of a (person, day) pair.
_person = operator.itemgetter(0)


@functools.lru_cache(maxsize=1 << 14)  # a batch's person-days, hashed once each
def _lock_key(resource_id: str, day: date) -> int:
    """A person-day's advisory lock: a stable bucket of `PERSON_DAY_LOCK_BUCKETS`."""
    digest = hashlib.blake2b(f"{resource_id}|{day.isoformat()}".encode(), digest_size=4)
    return int.from_bytes(digest.digest(), "big") % PERSON_DAY_LOCK_BUCKETS


def _bulk_ingest_setup(connection: sa.Connection) -> None:
    """This SQLite connection's cache and checkpoint interval for bulk ingest, set once for its
    life in the pool."""
    info = connection.connection.info
    if not info.get(_INGEST_SETUP):
        connection.exec_driver_sql(f"PRAGMA cache_size = -{INGEST_CACHE_KIB}")
        _bulk_checkpoints(connection)
        info[_INGEST_SETUP] = True


def _bulk_checkpoints(connection: sa.Connection) -> None:
    """This SQLite connection's WAL checkpointed by its commits every `INGEST_CHECKPOINT_PAGES`
    pages, set once for its life in the pool."""
    info = connection.connection.info
    if not info.get(_INGEST_CHECKPOINTS):
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {INGEST_CHECKPOINT_PAGES}")
        info[_INGEST_CHECKPOINTS] = True


class SqlAlchemyDelivery:
    """Time entries and expenses: executemany in, one query per obligation batch out, with an
    identity map so the entry a handler changes is the one it read."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._entries: dict[str, tuple[TimeEntry, int]] = {}
        self._expenses: dict[str, tuple[ExpenseItem, int]] = {}
        self._cap_totals = CapTotals(session)  # ADR 0059

    def add_time_entries(self, entries: Sequence[TimeEntry]) -> None:
        if not entries:
            return
        connection = self._session.connection
        sqlite = self._session.dialect == "sqlite"
        values = time_entry_values(entries, sqlite)
        if sqlite and len(values) >= INGEST_CHECKPOINTS_FROM_ENTRIES:
            _bulk_checkpoints(connection)
        # A refused entry ends the unit of work (its one caller, the batch command, does not
        # go on after a conflict): a small batch on PostgreSQL needs no savepoint.
        try:
            if self._session.dialect == "postgresql" and len(values) <= INSERT_FROM_ARRAYS_UP_TO:
                insert_from_arrays(connection, t.time_entries, TIME_ENTRY_NAMES, values)
            else:
                insert_values_all_or_none(connection, t.time_entries, TIME_ENTRY_NAMES, values)
        except sa.exc.IntegrityError as error:
            raise ConflictError("a time entry of this batch is already recorded") from error
        self._cap_totals.added(entries)
        tracked = self._entries
        for entry in entries:
            tracked[entry.entry_id] = (entry, entry.revision)
            if entry.events:  # an entry without events has nothing for the outbox or audit
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

    def time_entries_with_ids(self, entry_ids: Iterable[str]) -> dict[str, TimeEntry]:
        wanted = list(entry_ids)
        if len(wanted) == 1:  # one entry per request (the HTTP API): a statement built once
            rows = _time_entry_by_id().rows(self._session.connection, {"entry_id_": wanted[0]})
            return {e.entry_id: e for e in self._tracked_entries(rows)}
        # A batch of new entries finds none: one statement asks for all its ids, and only
        # the ids found (resent entries) are read whole.
        wanted = self._recorded_ids(wanted)
        found: dict[str, TimeEntry] = {}
        for clause in self._session.among(t.time_entries.c.entry_id, wanted):
            found.update((e.entry_id, e) for e in self._time_entries(clause))
        return found

    def _recorded_ids(self, entry_ids: list[str]) -> list[str]:
        """Which of these ids are recorded: one statement, the ids handed over as one JSON
        array and each looked up by the primary key."""
        if not entry_ids:
            return []
        connection = self._session.connection
        if self._session.dialect == "postgresql":
            rows = connection.execute(_recorded_ids_postgresql(), {"ids": json.dumps(entry_ids)})
            return [entry_id for (entry_id,) in rows.fetchall()]
        # A batch's ids are usually new and close together (a PSA numbers its entries): the
        # recorded ids between its least and greatest, read along the key, are few, and the
        # batch's are found among them. Where more are recorded there than the batch holds,
        # each id is looked up by the key instead.
        between = connection.exec_driver_sql(
            _RECORDED_IDS_BETWEEN_SQLITE, (min(entry_ids), max(entry_ids), len(entry_ids) + 1)
        ).fetchall()
        if len(between) <= len(entry_ids):
            asked = set(entry_ids)
            return [entry_id for (entry_id,) in between if entry_id in asked]
        rows = connection.exec_driver_sql(_RECORDED_IDS_SQLITE, (json.dumps(entry_ids),))
        return [entry_id for (entry_id,) in rows.fetchall()]

    def expenses_with_ids(self, expense_ids: Iterable[str]) -> dict[str, ExpenseItem]:
        found: dict[str, ExpenseItem] = {}
        for clause in self._session.among(t.expenses.c.expense_id, expense_ids):
            found.update((x.expense_id, x) for x in self._expense_items(clause))
        return found

    def hours_by_person_day(
        self, days: Iterable[tuple[ResourceId, date]]
    ) -> dict[tuple[ResourceId, date], Decimal]:
        """Only the rows of these person-days, by the (resource_id, work_date) index; summed
        here, exactly (SQLite keeps hours as text, where SUM would be a float).

        PostgreSQL: the person-days are first locked until the transaction ends (advisory
        locks, in key order), so a concurrent batch for the same person and day waits, then
        reads what this one committed. SQLite: the unit of work already holds the database's
        one write lock."""
        # By person only: SQLite then searches the index in its own order, which saves more
        # than the sort costs (a sort on the whole pair, person then date, cost about as much
        # as it saved). The locks are taken in key order whatever this order is.
        wanted = sorted(set(days), key=_person)
        totals: dict[tuple[ResourceId, date], Decimal] = {}
        if not wanted:
            return totals
        connection = self._session.connection
        postgres = self._session.dialect == "postgresql"
        if postgres:
            keys = sorted({_lock_key(resource, day) for resource, day in wanted})
            connection.execute(_lock_person_days_postgresql(), {"keys": keys})
        elif len(wanted) >= INGEST_SETUP_FROM_DAYS:
            _bulk_ingest_setup(connection)
        size, add = PERSON_DAYS_PER_QUERY[self._session.dialect], EXACT.add
        if not postgres:
            self._add_sqlite_days(wanted, size, totals)
            return totals
        for start in range(0, len(wanted), size):
            for key, hours in self._postgresql_days(wanted[start : start + size]):
                found = totals.get(key)
                totals[key] = hours if found is None else add(found, hours)
        return totals

    def _postgresql_days(
        self, batch: list[tuple[ResourceId, date]]
    ) -> Iterable[tuple[tuple[ResourceId, date], Decimal]]:
        # A batch spans few dates: each is written once.
        texts = {d: d.isoformat() for d in {d for _, d in batch}}
        days = json.dumps([(r, texts[d]) for r, d in batch])
        rows = self._session.connection.execute(_person_days_postgresql(), {"days": days})
        return (((ResourceId(r), d), h) for r, d, h in rows)

    def _add_sqlite_days(
        self,
        wanted: list[tuple[ResourceId, date]],
        size: int,
        totals: dict[tuple[ResourceId, date], Decimal],
    ) -> None:
        """The recorded hours of these person-days added into `totals`, exactly, `size`
        person-days per statement."""
        connection = self._session.connection
        day_in, hours_out = _sqlite_day_and_hours(connection.dialect)
        # A batch spans few dates, and its hours repeat: each is converted once, for the
        # whole batch. A row's day comes back as the text it was matched with: its date is
        # looked up by it.
        texts = {d: day_in(d) if day_in else d for d in {d for _, d in wanted}}
        dates = {text: d for d, text in texts.items()}
        persons = [r for r, _ in wanted]
        days = [texts[d] for _, d in wanted]
        converted: dict[str, Decimal] = {}
        add = EXACT.add
        for start in range(0, len(wanted), size):
            count = min(size, len(wanted) - start)
            places = _sqlite_size(count)
            # The persons and days go into their places of the parameters by slices (the rest
            # stay NULL pairs, which match nothing).
            parameters: list[Any] = [None] * (2 * places)
            parameters[0 : 2 * count : 2] = persons[start : start + count]
            parameters[1 : 2 * count : 2] = days[start : start + count]
            rows = driver_rows(connection, _person_days_sqlite(places), parameters)
            for resource, day, text in rows:
                hours = converted.get(text)
                if hours is None:
                    hours = converted[text] = hours_out(text) if hours_out else text
                key = (resource, dates[day])
                found = totals.get(key)
                totals[key] = hours if found is None else add(found, hours)

    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        found: list[TimeEntry] = []
        for clause in self._session.among(t.time_entries.c.obligation_id, obligations):
            found += self._time_entries(clause)
        return found

    def recorded_time_by_role_and_day(self, obligation: ObligationId) -> list[RecordedTime]:
        """From the obligation's running totals, kept from the first time they are asked for
        (ADR 0059): one row per group, however many entries the obligation holds."""
        return self._cap_totals.recorded_time(obligation)

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
            with self._cap_totals.changing(item, loaded):
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
        values = codec.item_state_columns(item)
        if isinstance(item, TimeEntry):
            # A correction (ADR 0025) changes what was worked, not only the decisions on it.
            values |= {"hours": item.hours, "task_id": item.task_id, "billable": item.billable}
        result = self._session.connection.execute(
            table.update().where(key == item.item_id, table.c.revision == loaded).values(values)
        )
        if result.rowcount != 1:
            raise ConcurrentChangeError(
                f"{item.item_id} was changed by someone else since it was read"
            )

    def _time_entries(self, clause: sa.ColumnElement[bool]) -> list[TimeEntry]:
        # Plain tuples, not row mappings: this read feeds every billing run, row by row.
        statement = sa.select(*codec.TIME_ENTRY_COLUMNS).where(clause)
        statement = statement.order_by(t.time_entries.c.entry_id)
        return self._tracked_entries(self._session.connection.execute(statement))

    def _tracked_entries(self, rows: Iterable[Sequence[Any]]) -> list[TimeEntry]:
        found = []
        for row in rows:
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
