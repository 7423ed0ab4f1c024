"""The audit chain as each database appends to it: on PostgreSQL the records of a commit are
numbered and hashed by the INSERT under the chain's lock (audit_chain.py), and the COMMIT is
sent behind it; on SQLite in Python; either way `verify_chain` finds the chain intact,
whatever text the records hold, and a commit refused at its end keeps nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import psycopg
import pytest
import sqlalchemy as sa
from psycopg import pq
from sqlalchemy import event

from adapters.sqlalchemy.audit_chain import wait_until_durable
from adapters.sqlalchemy.database import Database
from application import commands as c
from application.audit import verify_chain
from application.audit_trail import AuditEntry
from domain.ids import ContractId, CustomerId, EngagementId
from tests.integration.conftest import empty_database_url
from tests.integration.support import SqlApp, build_app
from tests.unit.application.conftest import set_up_tm_contract


@attrs.frozen
class _Stated:
    entry: AuditEntry

    def audit_entry(self) -> AuditEntry:
        return self.entry


_AWKWARD = (
    AuditEntry('invoice:"INV-1"', "approve", "draft", "approved", "checked by fran"),
    AuditEntry("engagement:É-7", "suspend", "active", None, 'client said "pause", \\ wait'),
    AuditEntry("period:2026-03", "close", None, "closed", "ünïcødé ✓ and a\nnewline"),
)


def test_several_records_of_one_commit_chain_verifiably_whatever_text_they_hold(
    app: SqlApp,
) -> None:
    before = len(app.data.audit)
    for _ in range(2):  # the second commit chains onto the first one's last record
        with app.bus.deps.uow(app.as_("fran")) as uow:
            for entry in _AWKWARD:
                uow.record(_Stated(entry))
            uow.commit()
    records = app.data.audit
    assert len(records) == before + 2 * len(_AWKWARD)
    assert [r.sequence for r in records] == list(range(1, len(records) + 1))
    written = records[before:]
    assert [(r.subject, r.after, r.reason) for r in written[: len(_AWKWARD)]] == [
        (e.subject, e.after, e.reason) for e in _AWKWARD
    ]
    assert {r.actor for r in written} == {"fran"}
    assert verify_chain(records).intact


# -- the commit in the append's round trip (PostgreSQL, ADR 0065) ------------------------------


@pytest.fixture
def postgresql_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlApp]:
    database = Database(empty_database_url(request, "postgresql", tmp_path))
    yield build_app(database)
    database.dispose()


def test_an_audited_commit_on_postgresql_is_queued_behind_the_chains_append(
    postgresql_app: SqlApp,
) -> None:
    app = postgresql_app
    pipelined: list[bool] = []

    def at_commit(connection: Any) -> None:
        driver = connection.connection.driver_connection
        pipelined.append(driver.pgconn.pipeline_status != pq.PipelineStatus.OFF)

    event.listen(app.database.engine, "commit", at_commit)
    try:
        with app.bus.deps.uow(app.as_("fran")) as uow:
            uow.record(_Stated(_AWKWARD[0]))
            uow.commit()
    finally:
        event.remove(app.database.engine, "commit", at_commit)
    # the lock, the INSERT and the COMMIT go out together: no reply between grant and commit
    assert pipelined == [True]
    assert verify_chain(app.data.audit).intact


_REFUSE_AT_COMMIT = """
CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON audit_log
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
"""


def test_a_commit_postgresql_refuses_at_its_end_keeps_no_record_row_or_event_of_it(
    postgresql_app: SqlApp,
) -> None:
    app = postgresql_app
    set_up_tm_contract(app)
    audit, outbox = len(app.data.audit), len(app.data.outbox)
    proposal = c.ProposeEngagement(EngagementId("E2"), CustomerId("acme"), ContractId("C2"))
    with app.database.engine.begin() as connection:
        connection.exec_driver_sql(_REFUSE_AT_COMMIT)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="refused at commit"):
            app.do(proposal)
    finally:
        with app.database.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER refuse_at_commit ON audit_log")
            connection.exec_driver_sql("DROP FUNCTION refuse_at_commit()")
    assert (len(app.data.audit), len(app.data.outbox)) == (audit, outbox)
    assert "E2" not in app.data.aggregates["engagement"]
    # the pooled connection is sound again, and the next commit chains onto the last record kept
    app.do(proposal)
    assert "E2" in app.data.aggregates["engagement"]
    assert len(app.data.outbox) == outbox + 1
    assert verify_chain(app.data.audit).intact


# -- the commit waits for its flush outside the lock (PostgreSQL, ADR 0068) ---------------------


def test_the_flush_an_unlocked_wait_makes_covers_an_asynchronous_commit_before_it(
    postgresql_app: SqlApp,
) -> None:
    engine = postgresql_app.database.engine
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.execute("SELECT set_config('synchronous_commit', 'off', true)")
        driver.execute("CREATE TEMPORARY TABLE written (n int)")  # some WAL to commit
        driver.commit()  # visible now, not waited for
        committed = driver.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
        driver.rollback()
        assert committed is not None
        position = wait_until_durable(driver)
        flushed = driver.execute(
            "SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn, %s::pg_lsn > %s::pg_lsn",
            (committed[0], position, committed[0]),
        ).fetchone()
        driver.rollback()
    # everything written up to the asynchronous commit is on disk once the wait returns
    assert flushed == (True, True)


def test_the_wait_leaves_a_transaction_still_open_alone(postgresql_app: SqlApp) -> None:
    with postgresql_app.database.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        driver.execute("SELECT 1")
        assert wait_until_durable(driver) is None
        assert driver.info.transaction_status is pq.TransactionStatus.INTRANS
        driver.rollback()


def test_an_audited_commit_hands_its_connection_back_committing_synchronously(
    postgresql_app: SqlApp,
) -> None:
    app = postgresql_app
    with app.bus.deps.uow(app.as_("fran")) as uow:
        uow.record(_Stated(_AWKWARD[0]))
        uow.commit()
    with app.database.engine.connect() as connection:
        setting = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        driver = connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        autocommit = driver.autocommit
    # the asynchronous commit was the audited transaction's own: nothing of it stays behind
    assert (setting, autocommit) == ("on", False)
    assert verify_chain(app.data.audit).intact
