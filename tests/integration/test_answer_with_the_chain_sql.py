"""On PostgreSQL a request's answer, stored with the key its transaction claimed, is written by
the audit chain's lock statement when the commit appends to the chain, and on its own before
the commit otherwise (ADR 0068, amendment "fewer statements on PostgreSQL"): every answer is
stored with its work, concurrent requests keep one unforked chain, and a commit whose answer
finds no key commits nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from application import commands as c
from application import idempotency
from application.audit import verify_chain
from application.changes import RecordMoved
from application.context import RequestContext
from application.records import IdempotencyRecord, IdempotencyStatus
from application.unit_of_work import UnitOfWork
from tests.integration.conftest import empty_database_url
from tests.integration.support import SqlApp, only_on
from tests.integration.test_concurrency import in_threads
from tests.unit.application.conftest import set_up_tm_contract, time_entry

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CTX = RequestContext("psa", "answers")


def _now() -> datetime:
    return AT


@only_on("postgresql")
def test_concurrent_answered_requests_keep_one_chain_and_every_answer(app: SqlApp) -> None:
    set_up_tm_contract(app)
    rounds = 5

    def writer(prefix: str) -> Iterator[None]:
        for n in range(rounds):
            key = f"{prefix}-key-{n}"
            claim = idempotency.Claim(prefix, key, "f" * 64, AT, answer_in_transaction=True)
            ctx = attrs.evolve(app.as_(prefix), idempotency=claim)
            entry = time_entry(f"{prefix}{n}", date(2026, 3, 2 + n), "1")
            app.bus.handle(c.RecordTimeEntries((entry,)), ctx)
            assert claim.answer(200, f'{{"entry": "{prefix}{n}"}}')
            yield

    before = len(app.data.audit)
    work = [lambda p=p: list(writer(p)) for p in ("x", "y", "z")]
    assert in_threads(*work) == [None, None, None]
    records = app.data.audit
    assert len(records) == before + 3 * rounds
    assert [r.sequence for r in records] == list(range(1, len(records) + 1))
    assert verify_chain(records).intact
    with app.bus.deps.uow(app.as_("x"), read_only=True) as uow:
        for prefix in ("x", "y", "z"):
            for n in range(rounds):
                found = uow.idempotency.find(prefix, f"{prefix}-key-{n}")
                assert found is not None
                assert (found.status, found.response_status, found.response_body) == (
                    IdempotencyStatus.COMPLETED, 200, f'{{"entry": "{prefix}{n}"}}',
                )  # fmt: skip
    assert {f"{p}{n}" for p in "xyz" for n in range(rounds)} <= set(app.data.time_entries)


@pytest.fixture
def pg_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    db = Database(empty_database_url(request, "postgresql", tmp_path))
    yield db
    db.dispose()


def _claimed_and_answered(uow: UnitOfWork, key: str, status: int = 200, body: str = "{}") -> None:
    """The key claimed by this transaction's insert, then its answer (left to the commit)."""
    record = IdempotencyRecord("psa", key, "f" * 64, IdempotencyStatus.IN_PROGRESS, AT)
    assert uow.idempotency.add_new(record)
    idempotency.complete(uow, "psa", key, status, body)


def _audited(database: Database) -> int:
    with database.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(t.audit_log)).scalar_one()


def test_an_answer_without_an_audit_record_is_written_before_the_commit(
    pg_database: Database,
) -> None:
    with pg_database.unit_of_work(CTX, _now) as uow:
        _claimed_and_answered(uow, "plain", 201, '{"ok": true}')
        uow.commit()
    with pg_database.unit_of_work(CTX, _now, read_only=True) as uow:
        found = uow.idempotency.find("psa", "plain")
    assert found is not None
    assert (found.status, found.response_status) == (IdempotencyStatus.COMPLETED, 201)
    assert _audited(pg_database) == 0


def test_the_answer_is_read_back_in_its_own_transaction_before_the_commit(
    pg_database: Database,
) -> None:
    with pg_database.unit_of_work(CTX, _now) as uow:
        _claimed_and_answered(uow, "seen")
        found = uow.idempotency.find("psa", "seen")  # the answer left to the commit, written
        assert found is not None
        assert found.status is IdempotencyStatus.COMPLETED
        uow.commit()


def test_a_commit_whose_answer_finds_no_key_commits_nothing(pg_database: Database) -> None:
    with pg_database.unit_of_work(CTX, _now) as uow:
        uow.record(RecordMoved("inbox:m1", "receive", None, "received"))
        _claimed_and_answered(uow, "gone")
        # the key's row disappears behind the store's back (nothing does this but a test)
        uow.connection.exec_driver_sql("DELETE FROM idempotency_keys WHERE key = 'gone'")
        with pytest.raises(sa.exc.DBAPIError, match="division by zero"):
            uow.commit()
    assert _audited(pg_database) == 0
    with pg_database.unit_of_work(CTX, _now, read_only=True) as uow:
        assert uow.idempotency.find("psa", "gone") is None
