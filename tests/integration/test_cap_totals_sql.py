"""The running totals behind the blocking cap's read (ADR 0059), on SQLite and PostgreSQL: after
any sequence of batches, corrections, decisions and refused or abandoned batches, with the
totals seeded at any point, an obligation's recorded time read from its totals is exactly its
entries grouped by role, work date and billable; the in-memory store answers the same."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.cap_totals import grouped
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.repository_base import Session
from application.context import RequestContext
from application.errors import ConflictError
from application.unit_of_work import UnitOfWork
from domain.cap_reach import RecordedTime
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.time_entry import NO_TASK, ItemState, TimeEntry
from tests.integration.support import only_on

CTX = RequestContext("ops", "corr-cap-totals")
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
DAYS = (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 9))
ROLES = (Role("consultant"), Role("architect"))
#: Every example's obligations and entries are its own (the database outlives the example).
_examples = itertools.count()


@attrs.frozen
class Add:
    """A batch of new entries, committed."""

    entries: tuple[tuple[int, int, int, bool, Decimal], ...]  # obligation, role, day, billable, h


@attrs.frozen
class Abandon:
    """A batch whose unit of work ends without a commit."""

    entries: tuple[tuple[int, int, int, bool, Decimal], ...]


@attrs.frozen
class Correct:
    """A stored entry's hours and billable corrected."""

    pick: int
    hours: Decimal
    billable: bool


@attrs.frozen
class Decide:
    """A stored entry held or written off (its state, not what was worked)."""

    pick: int
    write_off: bool


@attrs.frozen
class Read:
    """The obligation's recorded time asked for: the first time, its totals are seeded."""

    obligation: int


Step = Add | Abandon | Correct | Decide | Read

_hundredths = st.decimals(Decimal("0.01"), Decimal("12"), places=2)
_hours = st.one_of(
    _hundredths,
    st.decimals(Decimal("0.0001"), Decimal("1"), places=4),  # older data: finer than 0.01 h
)
_entry = st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 2), st.booleans(), _hours)
_steps = st.lists(
    st.one_of(
        st.builds(Add, st.lists(_entry, min_size=1, max_size=6).map(tuple)),
        st.builds(Abandon, st.lists(_entry, min_size=1, max_size=3).map(tuple)),
        st.builds(Correct, st.integers(0, 50), _hundredths, st.booleans()),
        st.builds(Decide, st.integers(0, 50), st.booleans()),
        st.builds(Read, st.integers(0, 1)),
    ),
    min_size=1,
    max_size=12,
)


class Story:
    """One example's steps on one store, its ids its own."""

    def __init__(self, open_uow: Callable[[], Any], tag: str) -> None:
        self._open, self._tag = open_uow, tag
        self.stored: list[str] = []
        self._next = 0

    def obligation(self, n: int) -> ObligationId:
        return ObligationId(f"{self._tag}-ob{n}")

    def _entries(self, spec: tuple[tuple[int, int, int, bool, Decimal], ...]) -> list[TimeEntry]:
        made = []
        for ob, role, day, billable, hours in spec:
            self._next += 1
            made.append(
                TimeEntry.received_approved(
                    TimeEntryId(f"{self._tag}-e{self._next}"), self.obligation(ob),
                    ResourceId(f"r{self._next}"), ROLES[role], DAYS[day], hours,
                    billable=billable,
                )
            )  # fmt: skip
        return made

    def play(self, step: Step) -> None:
        if isinstance(step, Add):
            entries = self._entries(step.entries)
            with self._open() as uow:
                uow.delivery.add_time_entries(entries)
                uow.commit()
            self.stored += [e.entry_id for e in entries]
        elif isinstance(step, Abandon):
            with self._open() as uow:
                uow.delivery.add_time_entries(self._entries(step.entries))
        elif isinstance(step, Read):
            with self._open() as uow:
                uow.delivery.recorded_time_by_role_and_day(self.obligation(step.obligation))
                uow.commit()
        elif self.stored:
            self._change(step, self.stored[step.pick % len(self.stored)])

    def _change(self, step: Correct | Decide, entry_id: str) -> None:
        with self._open() as uow:
            entry = uow.delivery.time_entry(entry_id)
            if entry.state is not ItemState.APPROVED or entry.written_off:
                return  # decided on: neither corrected nor decided again
            if isinstance(step, Correct):
                if not entry.correct(
                    step.hours, NO_TASK, step.billable,
                    billed=Decimal(0), reason="typo", by="ops", at=NOW,
                ):  # fmt: skip
                    return
            elif step.write_off:
                entry.write_off(entry.hours, "never billed", NOW, settled=Decimal(0))
            else:
                entry.hold(entry.hours, "over the cap", NOW)
            uow.delivery.save(entry)
            uow.commit()

    def recorded(self, n: int) -> list[RecordedTime]:
        with self._open() as uow:
            return _sorted(uow.delivery.recorded_time_by_role_and_day(self.obligation(n)))


def _sorted(found: list[RecordedTime]) -> list[RecordedTime]:
    return sorted(found, key=lambda r: (r.role, r.work_date, r.billable))


def _grouped(database: Database, obligation: ObligationId) -> list[RecordedTime]:
    """The obligation's entries grouped by the database, whether or not it keeps totals."""
    with database.engine.connect() as connection:
        return _sorted(grouped(Session(connection), obligation))


def _memory() -> Callable[[], UnitOfWork]:
    store = InMemoryStore()
    return lambda: InMemoryUnitOfWork(store, CTX, lambda: NOW)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps)
def test_an_obligations_totals_always_equal_its_entries_grouped_by_role_day_and_billable(
    database: Database, steps: list[Step]
) -> None:
    tag = f"x{next(_examples)}"
    sql = Story(lambda: database.unit_of_work(CTX, lambda: NOW), tag)
    memory = Story(_memory(), tag)
    for step in steps:
        sql.play(step)
        memory.play(step)
    for n in (0, 1):
        expected = _grouped(database, sql.obligation(n))
        assert sql.recorded(n) == expected
        assert memory.recorded(n) == expected


def test_a_batch_refused_as_a_whole_leaves_the_totals_as_they_were(database: Database) -> None:
    story = Story(lambda: database.unit_of_work(CTX, lambda: NOW), "refused")
    story.play(Add(((0, 0, 0, True, Decimal("2")),)))
    story.play(Read(0))
    before = story.recorded(0)
    resent = TimeEntry.received_approved(
        TimeEntryId(story.stored[0]), story.obligation(0), ResourceId("r9"), ROLES[0], DAYS[0],
        Decimal("3"),
    )  # fmt: skip
    fresh = TimeEntry.received_approved(
        TimeEntryId("refused-new"), story.obligation(0), ResourceId("r8"), ROLES[0], DAYS[0],
        Decimal("5"),
    )  # fmt: skip
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        with pytest.raises(ConflictError):
            uow.delivery.add_time_entries([fresh, resent])
        uow.commit()
    assert before == [RecordedTime(ROLES[0], DAYS[0], True, 1, Decimal("2"))]
    assert story.recorded(0) == before == _grouped(database, story.obligation(0))


def test_totals_are_kept_only_for_obligations_whose_recorded_time_was_asked_for(
    database: Database,
) -> None:
    story = Story(lambda: database.unit_of_work(CTX, lambda: NOW), "kept")
    story.play(Add(((0, 0, 0, True, Decimal("1")), (1, 0, 0, True, Decimal("1")))))
    story.play(Read(0))
    story.play(Add(((0, 1, 1, False, Decimal("4")), (1, 1, 1, False, Decimal("4")))))
    with database.engine.connect() as connection:
        kept = connection.execute(sa.select(t.cap_total_obligations.c.obligation_id)).scalars()
        groups = connection.execute(
            sa.select(t.cap_totals.c.obligation_id, sa.func.count()).group_by(
                t.cap_totals.c.obligation_id
            )
        ).all()
    assert list(kept) == ["kept-ob0"]
    assert groups == [("kept-ob0", 2)]
    assert story.recorded(0) == _grouped(database, story.obligation(0))
    assert story.recorded(1) == _grouped(database, story.obligation(1))


@contextmanager
def _no_statement_groups_entries(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def capture(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(database.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", capture)


def test_once_seeded_the_recorded_time_is_read_from_the_totals_not_the_entries(
    database: Database,
) -> None:
    story = Story(lambda: database.unit_of_work(CTX, lambda: NOW), "seeded")
    story.play(Add(tuple((0, n % 2, n % 3, n % 4 != 0, Decimal("1.5")) for n in range(24))))
    story.play(Read(0))
    with _no_statement_groups_entries(database) as seen:
        found = story.recorded(0)
    assert not [s for s in seen if "FROM time_entries" in s]
    assert sum(r.entries for r in found) == 24
    assert found == _grouped(database, story.obligation(0))


# -- PostgreSQL: the seeder and a writer of the same obligation at the same time ---------------


def _entry(tag: str, n: int, obligation: ObligationId) -> TimeEntry:
    return TimeEntry.received_approved(
        TimeEntryId(f"{tag}-{n}"), obligation, ResourceId(f"r{n}"), ROLES[0], DAYS[0],
        Decimal("2.5"),
    )  # fmt: skip


def _kept(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        column = t.cap_total_obligations.c.obligation_id
        return list(connection.execute(sa.select(column)).scalars())


@only_on("postgresql")
def test_postgresql_a_read_while_a_writer_is_at_work_answers_from_the_entries_and_seeds_nothing(
    database: Database,
) -> None:
    obligation = ObligationId("busy")
    writer = database.unit_of_work(CTX, lambda: NOW)
    reader = database.unit_of_work(CTX, lambda: NOW)
    with writer:
        writer.delivery.add_time_entries([_entry("w", n, obligation) for n in range(3)])
        with reader:
            assert reader.delivery.recorded_time_by_role_and_day(obligation) == []
            reader.commit()
        writer.commit()
    assert _kept(database) == []
    with database.unit_of_work(CTX, lambda: NOW) as uow:  # now alone: it seeds
        found = uow.delivery.recorded_time_by_role_and_day(obligation)
        uow.commit()
    assert found == [RecordedTime(ROLES[0], DAYS[0], True, 3, Decimal("7.5"))]
    assert _kept(database) == ["busy"]


@only_on("postgresql")
def test_postgresql_a_writer_waits_for_the_seed_to_commit_and_then_keeps_the_totals(
    database: Database,
) -> None:
    obligation = ObligationId("seeding")
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        uow.delivery.add_time_entries([_entry("before", n, obligation) for n in range(2)])
        uow.commit()

    def write() -> None:
        with database.unit_of_work(CTX, lambda: NOW) as uow:
            uow.delivery.add_time_entries([_entry("during", n, obligation) for n in range(4)])
            uow.commit()

    seeder = database.unit_of_work(CTX, lambda: NOW)
    with seeder:
        seeder.delivery.recorded_time_by_role_and_day(obligation)  # seeds, holds the lock
        writer = threading.Thread(target=write)
        writer.start()
        _until_an_advisory_lock_is_awaited(database)
        seeder.commit()
    writer.join(timeout=30)
    assert not writer.is_alive()
    with database.unit_of_work(CTX, lambda: NOW) as uow:
        found = uow.delivery.recorded_time_by_role_and_day(obligation)
    assert found == _grouped(database, obligation)
    assert found == [RecordedTime(ROLES[0], DAYS[0], True, 6, Decimal("15.0"))]


def _until_an_advisory_lock_is_awaited(database: Database) -> None:
    """Poll pg_locks (at most 30 s) until some session waits for an advisory lock."""
    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    with database.engine.connect() as connection:
        for _ in range(600):
            if connection.execute(waiting).scalar_one():
                return
            connection.rollback()
            time.sleep(0.05)
    raise AssertionError("the writer never waited for the obligation's lock")


def test_a_read_only_unit_of_work_answers_from_the_entries_and_seeds_nothing(
    database: Database,
) -> None:
    story = Story(lambda: database.unit_of_work(CTX, lambda: NOW), "reading")
    story.play(Add(((0, 0, 0, True, Decimal("2")), (0, 0, 0, True, Decimal("0.5")))))
    with database.unit_of_work(CTX, lambda: NOW, read_only=True) as uow:
        found = uow.delivery.recorded_time_by_role_and_day(story.obligation(0))
    assert found == [RecordedTime(ROLES[0], DAYS[0], True, 2, Decimal("2.5"))]
    assert _kept(database) == []
