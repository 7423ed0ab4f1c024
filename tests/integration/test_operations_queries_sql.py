"""The operations screens' questions answer the same from the in-memory store and from the
database: the exception queue filtered and paged oldest first, the outbox by delivery state in
commit order, and the audit trail's verification."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from adapters.memory.queries_operations import InMemoryOperationsQueries
from adapters.sqlalchemy.queries.operations import SqlAlchemyOperationsQueries
from application import commands as c
from application.ports import CustomerRecord
from application.queries.operations import ExceptionFilter, OperationsQueries, every_exception
from application.queries.paging import PageRequest
from application.records import DeliveryState
from domain.ids import ContractId, CustomerId, EngagementId
from tests.integration.support import SqlApp
from tests.unit.application.conftest import (
    ENTITY,
    App,
    set_up_tm_contract,
    told_in_memory_too,
)

GLOBEX, INITECH = CustomerId("globex"), CustomerId("initech")


def two_blocked_setups_one_fixed(app: App) -> None:
    """Globex's and Initech's setups block on missing master data; Globex's is fixed and its
    exception replayed (resolved), Initech's stays open."""
    set_up_tm_contract(app)
    for n, customer in ((2, GLOBEX), (3, INITECH)):
        app.do(c.ProposeEngagement(EngagementId(f"E{n}"), customer, ContractId(f"C{n}")))
        app.do(c.RegisterContract(ContractId(f"C{n}"), customer, ENTITY, "EUR", "Audit"))
        app.do(c.DraftContractVersion(ContractId(f"C{n}"), date(2026, 1, 1), ()))
        app.do(c.ApproveContractVersion(ContractId(f"C{n}"), 1), actor="legal")
        app.clock.advance(minutes=5)
    record = CustomerRecord(GLOBEX, ENTITY, "Globex SA", "EUR", "VAT20", False, "2 Rue X")
    app.master.records[(GLOBEX, ENTITY)] = record
    (first, _) = sorted(app.data.exceptions)
    app.do(c.ReplayException(first))


@pytest.fixture
def both(app: SqlApp) -> tuple[OperationsQueries, OperationsQueries]:
    memory = told_in_memory_too(app, two_blocked_setups_one_fixed)
    return InMemoryOperationsQueries(memory.store), SqlAlchemyOperationsQueries(app.database.engine)


def subjects(queries: OperationsQueries, where: ExceptionFilter) -> list[tuple[str, str]]:
    return [(x.subject, x.state.value) for x in every_exception(queries, where)]


def test_the_queue_lists_oldest_first_and_filters_alike_in_both_stores(
    both: tuple[OperationsQueries, OperationsQueries],
) -> None:
    for queries in both:
        assert subjects(queries, ExceptionFilter()) == [
            ("engagement:E2", "resolved"),
            ("engagement:E3", "open"),
        ]
        assert subjects(queries, ExceptionFilter(include_resolved=False)) == [
            ("engagement:E3", "open")
        ]
        assert subjects(queries, ExceptionFilter(state="resolved")) == [
            ("engagement:E2", "resolved")
        ]
        assert subjects(queries, ExceptionFilter(kind="validation")) == []


def test_the_queue_pages_by_when_and_id_and_one_exception_reads_the_same(
    both: tuple[OperationsQueries, OperationsQueries],
) -> None:
    memory, sql = both
    for queries in both:
        first = queries.exceptions(ExceptionFilter(), PageRequest(1))
        assert [x.subject for x in first.items] == ["engagement:E2"]
        rest = queries.exceptions(ExceptionFilter(), PageRequest.of(1, first.next_cursor))
        assert [x.subject for x in rest.items] == ["engagement:E3"]
        assert rest.next_cursor is None
    (one, _) = every_exception(sql, ExceptionFilter())
    in_sql, in_memory = sql.exception(one.exception_id), memory.exception(one.exception_id)
    assert in_sql is not None
    assert in_memory is not None
    assert attrs.asdict(in_sql) == attrs.asdict(in_memory)
    assert sql.exception("EXC-NONE") is None
    assert [x.subject for x in sql.open_exceptions_for("engagement:E3")] == ["engagement:E3"]
    assert sql.open_exceptions_for("engagement:E2") == []


def test_the_outbox_lists_one_state_in_commit_order_in_pages(
    both: tuple[OperationsQueries, OperationsQueries],
) -> None:
    memory, sql = both
    told = []
    for queries in both:
        events, cursor = [], None
        while True:
            page = queries.outbox_events(DeliveryState.PENDING, PageRequest.of(3, cursor))
            events.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        told.append([(e.aggregate_id, e.event_type) for e in events])
        assert queries.outbox_events(DeliveryState.DEAD, PageRequest(3)).items == ()
    assert told[0] == told[1]
    assert len(told[0]) > 3
    first_id = sql.outbox_events(DeliveryState.PENDING, PageRequest(1)).items[0].event_id
    found = sql.outbox_event(first_id)
    assert found is not None
    assert found.event_id == first_id
    assert sql.outbox_event("EVT-NONE") is None
    assert memory.outbox_event("EVT-NONE") is None


def test_the_audit_trail_verifies_intact_over_the_same_records_in_both_stores(
    both: tuple[OperationsQueries, OperationsQueries],
) -> None:
    memory, sql = both
    report = sql.audit_trail()
    assert report.intact
    assert report.records == memory.audit_trail().records > 0
