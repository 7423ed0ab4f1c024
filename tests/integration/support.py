"""The application on the SQL unit of work, with read-only views of what the database holds
(the `data` the unit tests read from the in-memory store, loaded fresh on every access)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from adapters.memory import (
    FakeClock,
    FakeCrm,
    FakeCustomerMaster,
    FakeErpReceivables,
    FakeGeneralLedger,
    FakeHandover,
    FakeProjects,
    FakePsaTimeExport,
    SequentialIds,
)
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.context import RequestContext
from application.handlers import create_bus
from application.messagebus import Dependencies, MessageBus
from application.records import AuditRecord, IntegrationException, OutboxEvent
from domain.ledger import JournalEntry
from domain.time_entry import ExpenseItem, TimeEntry
from tests.unit.application.conftest import complete_record

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
class SqlApp:
    """The unit tests' `App`, on a real database."""

    bus: MessageBus
    store: SqlStore
    clock: FakeClock
    master: FakeCustomerMaster
    projects: FakeProjects
    handover: FakeHandover
    crm: FakeCrm
    psa: FakePsaTimeExport
    erp: FakeErpReceivables
    database: Database

    def as_(self, actor: str, correlation_id: str = "corr-1") -> RequestContext:
        return RequestContext(actor, correlation_id)

    def do(self, command: object, actor: str = "ops") -> Any:
        return self.bus.handle(command, self.as_(actor))

    @property
    def data(self) -> SqlData:
        return self.store.data


def build_app(database: Database) -> SqlApp:
    """The unit tests' wiring: fake clock, ids and external systems; the SQL unit of work."""
    clock = FakeClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    master = FakeCustomerMaster([complete_record()])
    projects, handover, crm = FakeProjects(), FakeHandover(), FakeCrm()
    psa, erp = FakePsaTimeExport(), FakeErpReceivables()
    deps = Dependencies(
        uow=lambda ctx, read_only=False: database.unit_of_work(ctx, clock.now, read_only=read_only),
        clock=clock,
        ids=SequentialIds(),
        customer_master=master,
        projects=projects,
        handover=handover,
        general_ledger=FakeGeneralLedger(),
        crm=crm,
        psa_time=psa,
        erp_receivables=erp,
    )
    store = SqlStore(database, clock.now)
    return SqlApp(
        create_bus(deps), store, clock, master, projects, handover, crm, psa, erp, database
    )
