"""Running totals of an obligation's recorded time by role, work date and billable (ADR 0059).

Admission bounds a batch against a blocking cap from the obligation's recorded time grouped by
(role, work date, billable): how many entries and their hours (ADR 0041). Grouping the entries
visits every one of them; the totals here answer the same question from one row per group.

Totals are kept only for the obligations that are asked for them (admission asks only when a
blocking cap may refuse time), from the first time they are asked: that read seeds them from
the entries and marks the obligation in `cap_total_obligations`. From then on every write of a
marked obligation's entries keeps them equal to the grouped read, in the same transaction:

- new entries (`added`), the one insert path of the delivery store;
- a changed entry (`changing`), around the delivery store's one update; the update may change
  the hours and billable (a correction), never the obligation, role or work date.

No path deletes a time entry. Whatever adds one must go through `added`.

Concurrency. SQLite: a writing unit of work holds the database's one write lock from its first
statement, so a mark read once holds for the transaction. PostgreSQL (READ COMMITTED): the
seeder and every writer of an obligation share an advisory transaction lock, the writer's
shared, the seeder's exclusive. A writer takes it after its insert (before its update) and
before it reads the mark, and holds it to its commit. The seeder only tries the lock, and
seeds only when no writer holds it: a writer then either has committed, and the seed's read
of the entries sees its rows, or reads the mark after the seed commits (it waits for the
lock), and counts its rows into the totals. When a writer holds the lock, the answer is the
grouped read and the seed waits for a later batch (so a seeder never waits while it holds a
lock).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.driver import driver_rows
from adapters.sqlalchemy.repository_base import Session
from domain.cap_reach import RecordedTime
from domain.ids import ObligationId, Role
from domain.money import EXACT, dsum
from domain.time_entry import TimeEntry

#: The advisory-lock namespace of kept totals on PostgreSQL (the first key of the pair): one
#: per schema, as advisory locks are the database's and two schemas' obligations are unrelated.
CAP_TOTAL_LOCKS = "hashtext(current_schema() || '.cap_totals')"

#: A group's key: obligation, role, work date, billable.
Group = tuple[str, str, date, bool]


@functools.cache
def _grouped_read(sqlite: bool) -> sa.Select[Any]:
    """An obligation's entries grouped by role, work date and billable: count and hours (on
    SQLite the hours as one space-separated string)."""
    c = t.time_entries.c
    hours = sa.func.group_concat(c.hours, " ") if sqlite else sa.func.sum(c.hours)
    keys = (c.role, c.work_date, c.billable)
    return (
        sa.select(*keys, sa.func.count(), hours)
        .where(c.obligation_id == sa.bindparam("obligation"))
        .group_by(*keys)
    )


def _exact_sum(hours: str) -> Decimal:
    """The exact sum of space-separated decimals (each distinct value parsed once: a group's
    hours repeat)."""
    counted = Counter(hours.split(" "))
    return dsum(EXACT.multiply(Decimal(h), Decimal(n)) for h, n in counted.items())


def grouped(session: Session, obligation: ObligationId) -> list[RecordedTime]:
    """The obligation's entries grouped by the database, through the obligation_id index.
    PostgreSQL sums NUMERIC exactly; SQLite keeps hours as text (its SUM would be a float), so
    it hands each group's hours over as one string, summed here exactly."""
    sqlite = session.dialect == "sqlite"
    rows = session.connection.execute(_grouped_read(sqlite), {"obligation": obligation})
    return [
        RecordedTime(Role(role), day, bool(billable), count, _exact_sum(hours) if sqlite else hours)
        for role, day, billable, count, hours in rows
    ]


@functools.cache
def _totals_read() -> sa.Select[Any]:
    c = t.cap_totals.c
    return sa.select(c.role, c.work_date, c.billable, c.entries, c.hours).where(
        c.obligation_id == sa.bindparam("obligation"), c.entries > 0
    )


@functools.cache
def _stored_hours() -> sa.Select[Any]:
    c = t.time_entries.c
    return sa.select(c.hours, c.billable).where(
        c.entry_id == sa.bindparam("entry_id_"), c.revision == sa.bindparam("revision_")
    )


#: The obligations' locks, shared, then which of them keep totals (PostgreSQL, pipelined).
_LOCK_SHARED = (
    f"SELECT pg_advisory_xact_lock_shared({CAP_TOTAL_LOCKS}, k) FROM unnest(%s::integer[]) AS k"
)
_MARKED = "SELECT obligation_id FROM cap_total_obligations WHERE obligation_id = ANY(%s)"
#: Which of these obligations keep totals (SQLite): the ids as one JSON array, one statement
#: text whatever their number, run by the driver (a batch asks it once; building and keying an
#: IN list through SQLAlchemy cost more than SQLite takes to answer).
_MARKED_SQLITE = (
    "SELECT obligation_id FROM cap_total_obligations"
    " WHERE obligation_id IN (SELECT value FROM json_each(?))"
)


@functools.cache
def _try_lock() -> sa.TextClause:
    return sa.text(f"SELECT pg_try_advisory_xact_lock({CAP_TOTAL_LOCKS}, :key)")


@functools.lru_cache(maxsize=1 << 12)
def _lock_key(obligation: str) -> int:
    """An obligation's advisory lock: a stable signed 32-bit key (two obligations may share
    one; they then only wait for each other)."""
    digest = hashlib.blake2b(obligation.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class CapTotals:
    """The running totals of one unit of work's transaction, and which obligations keep them
    (learned once per obligation and transaction: the mark cannot change under a writer)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._kept: dict[str, bool] = {}

    def recorded_time(self, obligation: ObligationId) -> list[RecordedTime]:
        """The obligation's recorded time by role, work date and billable: from its totals,
        seeded from its entries the first time (under the obligation's lock)."""
        if self._kept.get(obligation) or self._marked([obligation]):
            return self._totals(obligation)
        if self._read_only() or not self._lock_alone(obligation):
            # A reader that writes nothing, or a writer at work: seed another time.
            return grouped(self._session, obligation)
        if self._marked([obligation]):  # seeded by another transaction meanwhile
            self._kept[obligation] = True
            return self._totals(obligation)
        found = grouped(self._session, obligation)
        connection = self._session.connection
        connection.execute(t.cap_total_obligations.insert(), {"obligation_id": obligation})
        if found:
            connection.execute(
                t.cap_totals.insert(),
                [
                    {"obligation_id": obligation, "role": r.role, "work_date": r.work_date,
                     "billable": r.billable, "entries": r.entries, "hours": r.hours}
                    for r in found
                ],
            )  # fmt: skip
        self._kept[obligation] = True
        return found

    def added(self, entries: Sequence[TimeEntry]) -> None:
        """New entries counted into the totals of the obligations that keep them."""
        kept = self._keeping({e.obligation_id for e in entries})
        if not kept:
            return
        deltas: dict[Group, tuple[int, Decimal]] = {}
        for e in entries:
            if e.obligation_id in kept:
                key = (e.obligation_id, e.role, e.work_date, e.billable)
                count, hours = deltas.get(key, (0, Decimal(0)))
                deltas[key] = (count + 1, EXACT.add(hours, e.hours))
        self._apply(deltas)

    @contextmanager
    def changing(self, entry: TimeEntry, revision: int) -> Iterator[None]:
        """Around the update of a stored entry (read at `revision`): its old hours and
        billable leave the totals and its new ones join them, once the update is done."""
        if not self._keeping({entry.obligation_id}):
            yield
            return
        row = self._session.connection.execute(
            _stored_hours(), {"entry_id_": entry.entry_id, "revision_": revision}
        ).first()
        yield
        if row is None:
            return  # the update refused it: nothing changed
        hours, billable = Decimal(row[0]), bool(row[1])
        if hours == entry.hours and billable == entry.billable:
            return
        old = (entry.obligation_id, entry.role, entry.work_date, billable)
        new = (entry.obligation_id, entry.role, entry.work_date, entry.billable)
        deltas = {old: (-1, -hours)}
        count, more = deltas.get(new, (0, Decimal(0)))
        deltas[new] = (count + 1, EXACT.add(more, entry.hours))
        self._apply(deltas)

    def _keeping(self, obligations: Iterable[str]) -> set[str]:
        """Which of these obligations keep totals; on PostgreSQL each is first locked
        (shared) until the transaction ends."""
        kept = self._kept
        unknown = [o for o in obligations if o not in kept]
        if unknown:
            if self._session.dialect == "postgresql":
                marked = self._locked_marks(unknown)
            else:
                marked = self._marked(unknown)
            kept.update((o, o in marked) for o in unknown)
        return {o for o in obligations if kept[o]}

    def _locked_marks(self, obligations: list[str]) -> set[str]:
        """PostgreSQL: the obligations' locks (shared, in key order), then their marks, in one
        round trip: psycopg's pipeline sends both, and the server runs the read after the
        locks are granted, with a snapshot of its own (READ COMMITTED), so it sees a seed that
        committed while this writer waited."""
        keys = sorted({_lock_key(o) for o in obligations})
        driver = self._session.connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection), "the PostgreSQL driver is psycopg 3"
        try:
            with driver.pipeline():
                driver.execute(_LOCK_SHARED, (keys,))
                marks = driver.execute(_MARKED, (obligations,))
            return {row[0] for row in marks.fetchall()}
        except psycopg.Error as error:
            wrapped = sa.exc.DBAPIError.instance(_MARKED, None, error, psycopg.Error)
            raise wrapped from error

    def _marked(self, obligations: list[str]) -> set[str]:
        if self._session.dialect == "sqlite":
            rows = driver_rows(self._session.connection, _MARKED_SQLITE, [json.dumps(obligations)])
            return {row[0] for row in rows}
        column = t.cap_total_obligations.c.obligation_id
        found: set[str] = set()
        for clause in self._session.among(column, obligations):
            found.update(
                row[0] for row in self._session.connection.execute(sa.select(column).where(clause))
            )
        return found

    def _read_only(self) -> bool:
        from adapters.sqlalchemy.unit_of_work import READ_ONLY  # it builds this store

        return bool(self._session.connection.get_execution_options().get(READ_ONLY, False))

    def _lock_alone(self, obligation: str) -> bool:
        """The obligation's lock, exclusive, if no other transaction holds it (SQLite: the
        unit of work's write lock is enough)."""
        if self._session.dialect != "postgresql":
            return True
        key = _lock_key(obligation)
        return bool(self._session.connection.execute(_try_lock(), {"key": key}).scalar_one())

    def _totals(self, obligation: ObligationId) -> list[RecordedTime]:
        rows = self._session.connection.execute(_totals_read(), {"obligation": obligation})
        return [
            RecordedTime(Role(role), day, bool(billable), entries, hours)
            for role, day, billable, entries, hours in rows
        ]

    def _apply(self, deltas: dict[Group, tuple[int, Decimal]]) -> None:
        """Add the deltas to their groups, in key order (two writers meet their rows in the
        same order). PostgreSQL adds in the statement (NUMERIC is exact); SQLite, which would
        add text as floats, reads the groups' totals and writes the exact sums back."""
        if self._session.dialect == "sqlite":
            deltas = self._summed_sqlite(deltas)
        rows = [
            {"obligation_id": o, "role": r, "work_date": d, "billable": b,
             "entries": n, "hours": h}
            for (o, r, d, b), (n, h) in sorted(deltas.items())
        ]  # fmt: skip
        statement = self._session.insert(t.cap_totals)
        c, new = t.cap_totals.c, statement.excluded
        add = self._session.dialect == "postgresql"
        statement = statement.on_conflict_do_update(
            index_elements=[c.obligation_id, c.role, c.work_date, c.billable],
            set_={
                "entries": c.entries + new.entries if add else new.entries,
                "hours": c.hours + new.hours if add else new.hours,
            },
        )
        self._session.connection.execute(statement, rows)

    def _summed_sqlite(
        self, deltas: dict[Group, tuple[int, Decimal]]
    ) -> dict[Group, tuple[int, Decimal]]:
        """The new totals of the groups the deltas touch: what is stored plus the delta."""
        c = t.cap_totals.c
        summed = dict(deltas)
        for obligation in sorted({key[0] for key in deltas}):
            days = [key[2] for key in deltas if key[0] == obligation]
            stored = self._session.connection.execute(
                sa.select(c.role, c.work_date, c.billable, c.entries, c.hours).where(
                    c.obligation_id == obligation, c.work_date.between(min(days), max(days))
                )
            )
            for role, day, billable, entries, hours in stored:
                key = (obligation, role, day, bool(billable))
                if key in summed:
                    count, more = summed[key]
                    summed[key] = (entries + count, EXACT.add(hours, more))
        return summed
