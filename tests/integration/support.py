"""The application on the SQL unit of work, with read-only views of what the database holds
(the `data` the unit tests read from the in-memory store, loaded fresh on every access)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.context import RequestContext
from application.records import AuditRecord, IntegrationException, OutboxEvent
from domain.ledger import JournalEntry
from domain.time_entry import ExpenseItem, TimeEntry
from tests.unit.application.conftest import App, start_clock, wire

T = TypeVar("T")


def only_on(dialect: str) -> pytest.MarkDecorator:
    """Run a test on one of the two databases only (its behaviour is that database's)."""
    return pytest.mark.parametrize("database_url", [dialect], indirect=True)


_KINDS: dict[str, tuple[str, str]] = {
    "contract": ("contracts", "contract_id"),
    "rate_card": ("rate_cards", "rate_card_id"),
    "engagement": ("engagements", "engagement_id"),
    "milestone": ("milestones", "milestone_id"),
    "invoice": ("invoices", "invoice_id"),
    "credit_memo": ("credit_memos", "credit_memo_id"),
}


class _Aggregates:
    def __init__(self, read: Callable[[Callable[[SqlAlchemyUnitOfWork], Any]], Any]) -> None:
        self._read = read

    def __getitem__(self, kind: str) -> dict[str, Any]:
        repository, id_attr = _KINDS[kind]
        items = self._read(lambda uow: getattr(uow, repository).all())
        return {getattr(item, id_attr): item for item in items}


class SqlData:
    """What the in-memory store's `data` shows, read from the database each time."""

    def __init__(self, database: Database, now: Callable[[], Any]) -> None:
        self._database, self._now = database, now
        self.aggregates = _Aggregates(self._read)

    def _read(self, action: Callable[[SqlAlchemyUnitOfWork], T]) -> T:
        ctx = RequestContext("test-reader", "read")
        with self._database.unit_of_work(ctx, self._now, read_only=True) as uow:
            return action(uow)

    def _rows(self, statement: sa.Select[Any]) -> list[Any]:
        return self._read(lambda uow: list(uow.connection.execute(statement).mappings()))

    @property
    def tax_profiles(self) -> dict[Any, Any]:
        return self._read(lambda uow: uow.master_data.tax_profiles())

    @property
    def audit(self) -> list[AuditRecord]:
        return self._read(lambda uow: uow.audit.all())

    @property
    def exceptions(self) -> dict[str, IntegrationException]:
        items = self._read(lambda uow: uow.exceptions.all())
        return {item.exception_id: item for item in items}

    @property
    def journal(self) -> list[JournalEntry]:
        return self._read(lambda uow: uow.journal.all())

    @property
    def time_entries(self) -> dict[str, TimeEntry]:
        rows = self._rows(sa.select(t.time_entries).order_by(t.time_entries.c.entry_id))
        return {row["entry_id"]: codec.time_entry(row) for row in rows}

    @property
    def expenses(self) -> dict[str, ExpenseItem]:
        rows = self._rows(sa.select(t.expenses).order_by(t.expenses.c.expense_id))
        return {row["expense_id"]: codec.expense(row) for row in rows}

    @property
    def outbox(self) -> list[OutboxEvent]:
        rows = self._rows(sa.select(t.outbox).order_by(t.outbox.c.sequence))
        return [codec.outbox_event(row) for row in rows]


class SqlStore:
    """Stands where the in-memory store stands: `data` to look, `commits` to count."""

    def __init__(self, database: Database, now: Callable[[], Any]) -> None:
        self.database = database
        self.data = SqlData(database, now)
        self.commits = 0
        event.listen(database.engine, "commit", self._count)

    def _count(self, _: Any) -> None:
        self.commits += 1


@attrs.define
class SqlApp(App):
    """The unit tests' `App`, on a real database (store: a read-only view of its tables)."""

    database: Database

    @property
    def data(self) -> SqlData:
        return self.store.data  # type: ignore[no-any-return]


def build_app(database: Database) -> SqlApp:
    """The unit tests' wiring (fake clock, ids and external systems) on the SQL unit of work."""
    clock = start_clock()
    app = wire(
        SqlStore(database, clock.now),
        lambda ctx, read_only=False: database.unit_of_work(ctx, clock.now, read_only=read_only),
        clock,
    )
    return SqlApp(**attrs.asdict(app, recurse=False), database=database)


def billed_quantities(app: SqlApp) -> dict[str, Decimal]:
    """What the ledger holds billed, by source id: the quantities of every entry summed."""
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    with app.database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(t.ledger_entries.c.source_id, t.ledger_entries.c.quantity)
        )
        for source_id, quantity in rows:
            totals[source_id] += quantity
    return dict(totals)
