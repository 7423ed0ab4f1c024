"""Aggregates read by id in batches (`find_many`, `read_many`), on SQLite and PostgreSQL: the
statement is built once per table and takes the ids as its one parameter, an IN list of at
most `CHUNK` ids on SQLite and one array on PostgreSQL, so however many ids a batch names,
the aggregates found are the ones a lookup by id finds, each once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from adapters.serialization import CONVERTER
from adapters.sqlalchemy.repository_base import CHUNK
from application.context import RequestContext
from domain.contract import Contract
from tests.integration.support import SqlApp
from tests.unit.application.conftest import set_up_tm_contract

#: Ids that sort before "C1", so "C1" falls in a second SQLite batch.
MISSING = [f"C0-{n:05d}" for n in range(CHUNK + 100)]


@contextmanager
def _contract_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements reading contracts that run on `engine` inside the block."""
    reads: list[str] = []

    def note(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        if text.lstrip().upper().startswith("SELECT") and "contracts" in text:
            reads.append(text)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield reads
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_ids_past_one_batch_find_what_a_lookup_finds_in_a_statement_per_batch(
    app: SqlApp,
) -> None:
    set_up_tm_contract(app)
    ctx = RequestContext("reader", "corr-1")
    with app.database.unit_of_work(ctx, app.clock.now, read_only=True) as uow:
        with _contract_reads(app.database.engine) as reads:
            read = uow.contracts.read_many([*MISSING, "C1", "C1"])
        held = uow.contracts.get("C1")
        assert list(read) == ["C1"]
        assert CONVERTER.unstructure(read["C1"], Contract) == CONVERTER.unstructure(held, Contract)
        found = uow.contracts.find_many(["C1", *MISSING[:3]])
        assert found == {"C1": held}
    assert len(reads) == (1 if app.database.dialect == "postgresql" else 2)


def test_the_same_statement_serves_every_batch_size(app: SqlApp) -> None:
    set_up_tm_contract(app)
    ctx = RequestContext("reader", "corr-1")
    with app.database.unit_of_work(ctx, app.clock.now, read_only=True) as uow:
        assert uow.contracts.read_many([]) == {}
        assert list(uow.contracts.read_many(["C1"])) == ["C1"]
        assert list(uow.contracts.read_many(["C1", *MISSING[:1]])) == ["C1"]
        assert list(uow.engagements.read_many(["E1", "E-unknown"])) == ["E1"]
