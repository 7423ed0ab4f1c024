"""Aggregate repositories: key columns + revision + the converter's JSON snapshot.

Each repository keeps an identity map (the same id gives the same object within one unit of
work) and the snapshot and revision each aggregate was loaded with. Nothing is written until
commit: then new aggregates are inserted with one executemany, and changed ones (snapshot
differs) are updated with `WHERE id = :id AND revision = :loaded`; no row updated means
someone else committed a change first, and the unit of work raises `ConflictError`.

Queries read candidate rows by their key columns, hand back the tracked object where one
exists, and re-check the predicate on the objects, so a query sees this unit of work's own
uncommitted changes, as the in-memory adapter does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from adapters.serialization import CONVERTER, structure, unstructure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.bulk import insert_all_or_none
from application.errors import ConflictError, NotFoundError
from application.records import ExceptionState, IntegrationException
from domain.accounting_period import AccountingPeriod
from domain.contract import Contract
from domain.credit_memo import CreditMemo
from domain.engagement import Engagement
from domain.ids import ContractId, ObligationId
from domain.invoice import Invoice, InvoiceFigures, InvoiceState
from domain.milestone import Milestone, MilestoneState
from domain.money import Currency, Money
from domain.period import Period
from domain.ratecard import RateCard

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
        self.seen: list[object] = []
        self._seen_ids: set[int] = set()

    def saw(self, item: object) -> None:
        """Remember an object whose events go to the outbox on commit (once, in order)."""
        if id(item) not in self._seen_ids:
            self._seen_ids.add(id(item))
            self.seen.append(item)

    def among(
        self, column: sa.Column[str], values: Iterable[str]
    ) -> Iterator[sa.ColumnElement[bool]]:
        """Clauses matching `column` to any of the values, one query's worth each: a single
        array parameter on PostgreSQL (one statement text, parsed once), IN lists on SQLite."""
        distinct = sorted(set(values))
        if self.dialect == "postgresql":
            for batch in chunks(distinct, 50_000):
                array = sa.bindparam(None, batch, type_=postgresql.ARRAY(sa.String()))
                yield column == sa.any_(array)
        else:
            for batch in chunks(distinct):
                yield column.in_(batch)

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

    def save(self, item: T) -> None:
        """Changes are found on commit by comparing snapshots; kept for the port."""
        self._session.saw(item)

    # Mechanics ------------------------------------------------------------------------------

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
                inserts.append(self._row(item_id, tracked.revision, tracked.item, body))
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
                raise ConflictError(
                    f"a {self._m.kind} with one of these ids already exists"
                ) from error
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
            raise ConflictError(
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
def _overlapping_periods_statement() -> sa.Select[Any]:
    """Periods with a day from first_ to last_."""
    c = t.accounting_periods.c
    return (
        sa.select(c.id, c.revision, c.body)
        .where(
            c.period_start <= sa.bindparam("last_", type_=sa.Date()),
            c.period_end >= sa.bindparam("first_", type_=sa.Date()),
        )
        .order_by(c.id)
    )


# The aggregates -------------------------------------------------------------------------------

CONTRACTS = AggregateMapping(
    "contract",
    t.contracts,
    Contract,
    lambda c: c.contract_id,
    lambda c: {"customer_id": c.customer_id},
)
RATE_CARDS = AggregateMapping(
    "rate_card", t.rate_cards, RateCard, lambda r: r.rate_card_id, lambda r: {}
)
ENGAGEMENTS = AggregateMapping(
    "engagement",
    t.engagements,
    Engagement,
    lambda e: e.engagement_id,
    lambda e: {"contract_id": e.contract_id, "customer_id": e.customer_id, "state": e.state.value},
)
MILESTONES = AggregateMapping(
    "milestone",
    t.milestones,
    Milestone,
    lambda m: m.milestone_id,
    lambda m: {
        "obligation_id": m.obligation_id,
        "state": m.state.value,
        "passive_acceptance_due_on": m.passive_acceptance_due_on,
    },
)
INVOICES = AggregateMapping(
    "invoice",
    t.invoices,
    Invoice,
    lambda i: i.invoice_id,
    lambda i: {
        "customer_id": i.customer_id,
        "contract_id": i.contract_id,
        "state": i.state.value,
        "number": i.number,
        "issue_date": i.issue_date,
        "payer_id": i.payer,
        "due_date": i.due_date,
    },
)
CREDIT_MEMOS = AggregateMapping(
    "credit_memo",
    t.credit_memos,
    CreditMemo,
    lambda m: m.credit_memo_id,
    lambda m: {"invoice_id": m.invoice_id, "state": m.state.value, "number": m.number},
)
PERIODS = AggregateMapping(
    "accounting_period",
    t.accounting_periods,
    AccountingPeriod,
    lambda p: p.period.key,
    lambda p: {"period_start": p.period.start, "period_end": p.period.end, "state": p.state.value},
)
EXCEPTIONS = AggregateMapping(
    "integration_exception",
    t.integration_exceptions,
    IntegrationException,
    lambda x: x.exception_id,
    lambda x: {"subject": x.subject, "state": x.state.value, "next_attempt_at": x.next_attempt_at},
)


class SqlAlchemyEngagements(SqlAlchemyRepository[Engagement]):
    def for_contracts(self, contracts: Iterable[ContractId]) -> dict[ContractId, Engagement]:
        wanted = set(contracts)
        found: dict[ContractId, Engagement] = {}
        for clause in self._session.among(t.engagements.c.contract_id, wanted):
            for engagement in self._where(clause, lambda e: e.contract_id in wanted):
                found[engagement.contract_id] = engagement
        return found

    def find_by_contract(self, contract_id: ContractId) -> Engagement | None:
        found = self._where(
            t.engagements.c.contract_id == contract_id, lambda e: e.contract_id == contract_id
        )
        return found[0] if found else None


class SqlAlchemyMilestones(SqlAlchemyRepository[Milestone]):
    def for_obligations(self, obligations: Iterable[ObligationId]) -> list[Milestone]:
        wanted = set(obligations)
        found: dict[str, Milestone] = {}
        for clause in self._session.among(t.milestones.c.obligation_id, wanted):
            for m in self._where(clause, lambda m: m.obligation_id in wanted):
                found[m.milestone_id] = m
        return sorted(found.values(), key=lambda m: m.milestone_id)

    def completed_due(self, today: date) -> list[Milestone]:
        c = t.milestones.c
        clause = sa.and_(
            c.state == MilestoneState.COMPLETED.value, c.passive_acceptance_due_on <= today
        )
        return self._where(clause, lambda m: _due(m, today), scan_tracked=True)


def _due(milestone: Milestone, today: date) -> bool:
    due_on = milestone.passive_acceptance_due_on
    return milestone.state is MilestoneState.COMPLETED and due_on is not None and due_on <= today


class SqlAlchemyInvoices(SqlAlchemyRepository[Invoice]):
    def figures(self) -> list[InvoiceFigures]:
        """From the key columns and a few fields of each snapshot, read by the database; the
        invoices this unit of work holds (maybe changed) from the objects."""
        found = {
            row.id: _invoice_figures(row)
            for row in self._session.connection.execute(_invoice_figures_statement())
            if row.id not in self._tracked
        }
        for item_id, tracked in self._tracked.items():
            found[item_id] = tracked.item.figures
        return [found[item_id] for item_id in sorted(found)]


def _invoice_figures(row: Any) -> InvoiceFigures:
    currency = _currency(row.currency)

    def money(amount: str | None, code: str | None) -> Money:
        if amount is None:  # no payment (or credit) yet: the invoice says null
            return Money.zero(currency)
        return Money(Decimal(amount), _currency(code or ""))

    return InvoiceFigures(
        row.id,
        InvoiceState(row.state),
        row.number,
        currency,
        money(row.gross, row.gross_currency),
        money(row.paid, row.paid_currency),
        money(row.credited, row.credited_currency),
    )


@functools.cache
def _currency(code: str) -> Currency:
    return Currency.of(code)


@functools.cache
def _invoice_figures_statement() -> sa.Select[Any]:
    c = t.invoices.c

    def field(*path: str) -> Any:
        return c.body[path].as_string()  # JSON text extraction on both databases

    return sa.select(
        c.id,
        c.state,
        c.number,
        field("currency").label("currency"),
        field("totals", "gross", "amount").label("gross"),
        field("totals", "gross", "currency").label("gross_currency"),
        field("paid", "amount").label("paid"),
        field("paid", "currency").label("paid_currency"),
        field("credited", "amount").label("credited"),
        field("credited", "currency").label("credited_currency"),
    ).order_by(c.id)


class SqlAlchemyContracts(SqlAlchemyRepository[Contract]):
    pass


class SqlAlchemyRateCards(SqlAlchemyRepository[RateCard]):
    pass


class SqlAlchemyPeriods(SqlAlchemyRepository[AccountingPeriod]):
    """Accounting periods, keyed by the period (`2026-03`)."""

    def get(self, period: Period) -> AccountingPeriod | None:  # type: ignore[override]
        return self.find(period.key)

    def overlapping(self, first: date, last: date) -> list[AccountingPeriod]:
        return self._matching(
            _overlapping_periods_statement(),
            {"first_": first, "last_": last},
            lambda p: p.period.start <= last and p.period.end >= first,
        )


class SqlAlchemyExceptions(SqlAlchemyRepository[IntegrationException]):
    """The typed exception queue."""

    def get(self, exception_id: str) -> IntegrationException:
        item = self.find(exception_id)
        if item is None:
            raise NotFoundError(f"no integration exception {exception_id}")
        return item

    def open_for(self, subject: str) -> list[IntegrationException]:
        return self._where(
            t.integration_exceptions.c.subject == subject,
            lambda x: x.subject == subject and x.state is not ExceptionState.RESOLVED,
        )


def new_repositories(
    session: Session,
) -> tuple[
    SqlAlchemyContracts,
    SqlAlchemyRateCards,
    SqlAlchemyEngagements,
    SqlAlchemyMilestones,
    SqlAlchemyInvoices,
    SqlAlchemyRepository[CreditMemo],
    SqlAlchemyPeriods,
    SqlAlchemyExceptions,
]:
    return (
        SqlAlchemyContracts(session, CONTRACTS),
        SqlAlchemyRateCards(session, RATE_CARDS),
        SqlAlchemyEngagements(session, ENGAGEMENTS),
        SqlAlchemyMilestones(session, MILESTONES),
        SqlAlchemyInvoices(session, INVOICES),
        SqlAlchemyRepository(session, CREDIT_MEMOS),
        SqlAlchemyPeriods(session, PERIODS),
        SqlAlchemyExceptions(session, EXCEPTIONS),
    )
