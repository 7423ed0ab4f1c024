"""The machinery every aggregate repository shares: the session a unit of work hands them, the
identity map, snapshots and revisions, and optimistic writes at commit (see
`adapters.sqlalchemy.repositories` for the aggregates and the rules they follow)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from adapters.serialization import CONVERTER, structure, unstructure
from adapters.sqlalchemy.bulk import encoded_json, insert_all_or_none
from application.errors import ConcurrentChangeError, ConflictError, NotFoundError
from application.unit_of_work_base import SeenAggregates

T = TypeVar("T")

#: Ids per `IN (...)` list: well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 900


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Session:
    """What the stores of one unit of work share: the connection and the objects it saw."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.seen: list[object] = SeenAggregates()
        self._seen_ids: set[int] = set()

    def saw(self, item: object) -> None:
        """Remember an object whose events go to the outbox on commit (once, in order)."""
        if id(item) not in self._seen_ids:
            self._seen_ids.add(id(item))
            self.seen.append(item)

    def let_go(self) -> None:
        """Forget the objects seen so far (their events are drained and their rows written)."""
        self.seen = SeenAggregates()
        self._seen_ids = set()

    def among(
        self, column: sa.Column[str], values: Iterable[str]
    ) -> Iterator[sa.ColumnElement[bool]]:
        """Clauses matching `column` to any of the values, one query's worth each: a single
        array parameter on PostgreSQL (one statement text, parsed once), IN lists on SQLite."""
        postgres = self.dialect == "postgresql"
        for batch in self.batches(values):
            if postgres:
                array = sa.bindparam(None, batch, type_=postgresql.ARRAY(sa.String()))
                yield column == sa.any_(array)
            else:
                yield column.in_(batch)

    def batches(self, values: Iterable[str]) -> Iterator[list[str]]:
        """The distinct values in order, in the batches `among` matches one query each."""
        size = 50_000 if self.dialect == "postgresql" else CHUNK
        return chunks(sorted(set(values)), size)

    def insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which offers ON CONFLICT on both databases."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return dialect_insert(table)


@attrs.frozen
class AggregateMapping(Generic[T]):
    """How one aggregate type maps to its table."""

    kind: str
    table: sa.Table
    cls: type[T]
    identity: Callable[[T], str]
    keys: Callable[[T], dict[str, Any]]


@attrs.define
class _Tracked(Generic[T]):
    item: T
    body: dict[str, Any] | None  # as loaded or last written; None: not in the database yet
    revision: int


def _next_revision(item: object, loaded: int) -> int:
    """The domain owns `revision` and bumps it on every recorded change; a change it did not
    count still gets a new revision, so a concurrent writer cannot slip past the check."""
    current = getattr(item, "revision", None)
    if isinstance(current, int) and current > loaded:
        return current
    return loaded + 1


class SqlAlchemyRepository(Generic[T]):
    """Aggregates of one kind in one unit of work."""

    def __init__(self, session: Session, mapping: AggregateMapping[T]) -> None:
        self._session, self._m = session, mapping
        self._table = mapping.table
        self._tracked: dict[str, _Tracked[T]] = {}
        self._new: dict[str, None] = {}  # ids added and not yet written, in order

    # The repository port --------------------------------------------------------------------

    def add(self, item: T) -> None:
        item_id = self._m.identity(item)
        # An id already in the database is caught by the primary key when the unit of work
        # flushes (one query per added aggregate would cost more than the insert itself).
        if item_id in self._tracked:
            raise ConflictError(f"{self._m.kind} {item_id} already exists")
        self._tracked[item_id] = _Tracked(item, None, getattr(item, "revision", 0))
        self._new[item_id] = None
        self._session.saw(item)

    def find(self, item_id: str) -> T | None:
        tracked = self._tracked.get(item_id)
        if tracked is not None:
            return tracked.item
        statement = _find_statement(self._table)
        row = self._session.connection.execute(statement, {"id_": item_id}).first()
        return None if row is None else self._track(row.id, row.revision, row.body)

    def get(self, item_id: str) -> T:
        item = self.find(item_id)
        if item is None:
            raise NotFoundError(f"{self._m.kind} {item_id} does not exist")
        return item

    def all(self) -> list[T]:
        return self._matching(_all_statement(self._table), {}, lambda _: True)

    def find_many(self, item_ids: Iterable[str]) -> dict[str, T]:
        """The aggregates of these ids that exist, by id: the ones not yet tracked read in
        one statement (a batch names a few dozen; one lookup each was a round trip each)."""
        wanted = set(item_ids)
        for row in self._untracked_rows(wanted):
            self._track(row.id, row.revision, row.body)
        return {i: self._tracked[i].item for i in wanted if i in self._tracked}

    def read_many(self, item_ids: Iterable[str]) -> dict[str, T]:
        """`find_many` for reference only: the tracked ones as tracked, the others built from
        their rows and not tracked, so the commit neither compares nor writes them."""
        wanted = set(item_ids)
        tracked = self._tracked
        found = {i: tracked[i].item for i in wanted if i in tracked}
        cls = self._m.cls
        for row in self._untracked_rows(wanted):
            found[row.id] = structure(row.body, cls)
        return found

    def save(self, item: T) -> None:
        """Changes are found on commit by comparing snapshots; kept for the port."""
        self._session.saw(item)

    # Mechanics ------------------------------------------------------------------------------

    def _untracked_rows(self, item_ids: set[str]) -> Iterator[Any]:
        """The (id, revision, body) rows of those of these ids not tracked yet: one statement
        per table and dialect, built once, the ids its one parameter (what `Session.among`
        would write, without building and keying a statement per call)."""
        session = self._session
        statement = _many_statement(self._table, session.dialect)
        for batch in session.batches(item_ids - self._tracked.keys()):
            yield from session.connection.execute(statement, {"ids_": batch})

    def _exists(self, item_id: str) -> bool:
        statement = sa.select(sa.literal(1)).where(self._table.c.id == item_id)
        return self._session.connection.execute(statement).first() is not None

    def _track(self, item_id: str, revision: int, body: dict[str, Any]) -> T:
        tracked = self._tracked.get(item_id)
        if tracked is None:
            tracked = _Tracked(structure(body, self._m.cls), body, revision)
            self._tracked[item_id] = tracked
            self._session.saw(tracked.item)
        return tracked.item

    def _where(
        self,
        clause: sa.ColumnElement[bool] | None,
        predicate: Callable[[T], bool],
        *,
        scan_tracked: bool = False,
    ) -> list[T]:
        """Rows matching `clause` (ordered by id), seen through the identity map, plus the new
        aggregates not in the database yet (or, with `scan_tracked`, every tracked one: for
        predicates on fields that change), filtered by the predicate on the objects."""
        statement = sa.select(self._table.c.id, self._table.c.revision, self._table.c.body)
        if clause is not None:
            statement = statement.where(clause)
        statement = statement.order_by(self._table.c.id)
        return self._matching(statement, {}, predicate, scan_tracked=scan_tracked)

    def _among(self, column: str, values: Iterable[str]) -> list[T]:
        """The aggregates whose key `column` (an attribute of the same name) is one of the
        values, by its index, a batch of values a query; in id order."""
        wanted = set(values)
        found: dict[str, T] = {}
        for clause in self._session.among(self._table.c[column], wanted):
            for item in self._where(clause, lambda x: getattr(x, column) in wanted):
                found[self._m.identity(item)] = item
        return [found[key] for key in sorted(found)]

    def _matching(
        self,
        statement: sa.Select[Any],
        parameters: dict[str, Any],
        predicate: Callable[[T], bool],
        *,
        scan_tracked: bool = False,
    ) -> list[T]:
        """`_where` for a statement selecting (id, revision, body) ordered by id."""
        found: dict[str, T] = {}
        for row in self._session.connection.execute(statement, parameters):
            found[row.id] = self._track(row.id, row.revision, row.body)
        extra = self._tracked if scan_tracked else self._new
        for item_id in extra:
            found.setdefault(item_id, self._tracked[item_id].item)
        return [item for item in found.values() if predicate(item)]

    def flush(self) -> None:
        """Insert what is new, update what changed (checking the revision), skip the rest."""
        inserts: list[dict[str, Any]] = []
        for item_id, tracked in self._tracked.items():
            if tracked.body is not None and self._snapshot(tracked.item) == tracked.body:
                continue  # unchanged: the common case for what a unit of work only read
            body = unstructure(tracked.item, self._m.cls)  # checked: plain JSON, no float
            if tracked.body is None:
                document = encoded_json(body) if self._session.dialect == "sqlite" else body
                inserts.append(self._row(item_id, tracked.revision, tracked.item, document))
            else:
                revision = _next_revision(tracked.item, tracked.revision)
                if getattr(tracked.item, "revision", revision) != revision:
                    tracked.item.revision = revision  # type: ignore[attr-defined]
                    body = unstructure(tracked.item, self._m.cls)
                self._update(item_id, tracked.revision, revision, tracked.item, body)
                tracked.revision = revision
            tracked.body = body
        if inserts:
            try:
                insert_all_or_none(self._session.connection, self._table, inserts)
            except sa.exc.IntegrityError as error:
                raise ConcurrentChangeError(
                    f"a {self._m.kind} with one of these ids already exists"
                ) from error
        self._new.clear()

    def let_go(self) -> None:
        """Forget every aggregate handed out, once `flush` has written them (ADR 0060): a
        later read reads the row again."""
        self._tracked.clear()
        self._new.clear()

    def _snapshot(self, item: T) -> Any:
        """The converter's view of the aggregate, for comparing (what was read was checked)."""
        return CONVERTER.unstructure(item, self._m.cls)

    def _row(self, item_id: str, revision: int, item: T, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": item_id, "revision": revision, "body": body, **self._m.keys(item)}

    def _update(
        self, item_id: str, loaded: int, revision: int, item: T, body: dict[str, Any]
    ) -> None:
        table = self._table
        result = self._session.connection.execute(
            table.update()
            .where(table.c.id == item_id, table.c.revision == loaded)
            .values(self._row(item_id, revision, item, body))
        )
        if result.rowcount != 1:
            raise ConcurrentChangeError(
                f"{self._m.kind} {item_id} was changed by someone else since it was read "
                f"(revision {loaded}); reload it and try again"
            )


# Statements of the hot paths, built once per table (building and keying a statement costs
# more than SQLite takes to run it).


@functools.cache
def _find_statement(table: sa.Table) -> sa.Select[Any]:
    """One aggregate's row by id (parameter: id_)."""
    columns = (table.c.id, table.c.revision, table.c.body)
    return sa.select(*columns).where(table.c.id == sa.bindparam("id_", type_=sa.String()))


@functools.cache
def _all_statement(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table.c.id, table.c.revision, table.c.body).order_by(table.c.id)


@functools.cache
def _many_statement(table: sa.Table, dialect: str) -> sa.Select[Any]:
    """Aggregates' rows by id (parameter: ids_, one batch of `Session.batches`): an array
    compared with ANY on PostgreSQL, an expanding IN list on SQLite."""
    id_ = table.c.id
    if dialect == "postgresql":
        match = id_ == sa.any_(sa.bindparam("ids_", type_=postgresql.ARRAY(sa.String())))
    else:
        match = id_.in_(sa.bindparam("ids_", expanding=True, type_=sa.String()))
    return sa.select(id_, table.c.revision, table.c.body).where(match)
