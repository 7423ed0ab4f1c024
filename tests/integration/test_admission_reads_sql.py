"""What a batch of time reads before it is admitted, on SQLite and PostgreSQL: the engagements
it names and their contracts in one statement each, whatever their number, and the aggregates
found that way are the ones a single lookup finds. Admission reads them for reference only
(`read_many`): the same content, not held by the unit of work, so its commit never writes them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.serialization import CONVERTER
from application import commands as c
from application.context import RequestContext
from domain.contract import Contract
from domain.ids import EngagementId
from tests.integration.support import SqlApp
from tests.unit.application.conftest import set_up_tm_contract, start_clock, time_entry, wire

DAY = date(2026, 3, 2)


def _reads_of(table: str, statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and table in s]


def test_a_batch_reads_its_engagements_and_their_contracts_in_one_statement_each(
    app: SqlApp,
) -> None:
    set_up_tm_contract(app)
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(app.database.engine, "before_cursor_execute", capture)
    try:
        report = app.do(
            c.RecordTimeEntries(
                (
                    time_entry("T1", DAY, "4"),
                    time_entry("T2", DAY, "2", engagement_id=EngagementId("E-unknown")),
                    time_entry("T3", date(2026, 3, 3), "3"),
                )
            )
        )
    finally:
        event.remove(app.database.engine, "before_cursor_execute", capture)
    assert report.accepted == ("T1", "T3")
    assert [(r.item_id, r.reason_code) for r in report.rejected] == [("T2", "unknown_engagement")]
    assert len(_reads_of("FROM engagements", seen)) == 1
    assert len(_reads_of("FROM contracts", seen)) == 1


def test_aggregates_found_together_are_the_ones_found_one_by_one(app: SqlApp) -> None:
    set_up_tm_contract(app)
    ctx = RequestContext("reader", "corr-1")
    with app.database.unit_of_work(ctx, app.clock.now) as uow:
        found = uow.engagements.find_many(["E1", "E-unknown", "E1"])
        assert list(found) == ["E1"]
        assert found["E1"] is uow.engagements.find("E1")  # the unit of work's own object
        assert uow.contracts.find_many([]) == {}
        assert uow.contracts.find_many(["C1"])["C1"] is uow.contracts.get("C1")


def _in_memory_reader() -> InMemoryUnitOfWork:
    """A unit of work on an in-memory store holding engagement E1 and its T&M contract C1."""
    store, clock = InMemoryStore(), start_clock()
    memory = wire(
        store, lambda ctx, read_only=False: InMemoryUnitOfWork(store, ctx, clock.now), clock
    )
    set_up_tm_contract(memory)
    return InMemoryUnitOfWork(store, RequestContext("reader", "corr-1"), clock.now)


def test_the_in_memory_store_finds_together_what_it_finds_one_by_one() -> None:
    with _in_memory_reader() as uow:
        found = uow.engagements.find_many(["E1", "E-unknown", "E1"])
        assert list(found) == ["E1"]
        assert found["E1"] is uow.engagements.find("E1")
        assert uow.contracts.find_many(["C1"])["C1"] is uow.contracts.get("C1")


def test_aggregates_read_for_reference_have_the_content_a_lookup_finds(app: SqlApp) -> None:
    set_up_tm_contract(app)
    with app.database.unit_of_work(RequestContext("reader", "corr-1"), app.clock.now) as uow:
        read = uow.contracts.read_many(["C1", "C-unknown", "C1"])
        assert list(read) == ["C1"]
        held = uow.contracts.get("C1")
        assert read["C1"] is not held  # built from its row, not the unit of work's own
        assert CONVERTER.unstructure(read["C1"], Contract) == CONVERTER.unstructure(held, Contract)
        # What the unit of work already holds is handed out as held (its changes show).
        assert uow.contracts.read_many(["C1"])["C1"] is held
        assert uow.engagements.read_many([]) == {}


def test_a_change_to_an_aggregate_read_for_reference_is_never_written(app: SqlApp) -> None:
    set_up_tm_contract(app)
    ctx = RequestContext("reader", "corr-1")
    with app.database.unit_of_work(ctx, app.clock.now) as uow:
        engagement = uow.engagements.read_many(["E1"])["E1"]
        engagement.project_code = "changed in memory only"
        uow.commit()
    with app.database.unit_of_work(ctx, app.clock.now) as uow:
        stored = uow.engagements.get("E1")
        assert stored.project_code != "changed in memory only"
        assert stored.revision == engagement.revision


def test_the_in_memory_store_reads_for_reference_what_it_finds() -> None:
    with _in_memory_reader() as uow:
        read = uow.engagements.read_many(["E1", "E-unknown", "E1"])
        assert list(read) == ["E1"]
        assert read["E1"] is uow.engagements.find("E1")
