"""Admission's engagements, contracts and rate cards kept across units of work (ADR 0070), on
SQLite and PostgreSQL: a kept object is used only when the revision stored in the unit of
work's own transaction is the one it was read at. Two `Database`s on one database stand for
two server processes (each has its own engine and its own kept objects): what one commits,
the other's next admission sees."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from adapters.sqlalchemy.database import Database
from application import commands as c
from application.context import RequestContext
from domain.ids import ContractId, EngagementId, RateCardId, Role
from domain.period import Period
from domain.ratecard import RateCardVersion
from tests.integration.support import SqlApp, build_app
from tests.unit.application.conftest import EUR, set_up_tm_contract, time_entry

DAY = date(2026, 3, 2)


@pytest.fixture
def other(database_url: str) -> Iterator[SqlApp]:
    """A second process's application on the same database."""
    database = Database(database_url)
    yield build_app(database)
    database.dispose()


@contextmanager
def statements(app: SqlApp) -> Iterator[list[str]]:
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(app.database.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(app.database.engine, "before_cursor_execute", capture)


def _bodies_read(seen: list[str]) -> list[str]:
    """The statements that read an engagement's, contract's or rate card's body."""
    tables = ("FROM engagements", "FROM contracts", "FROM rate_cards")
    return [s for s in seen if ".body" in s and any(t in s for t in tables)]


def _record(app: SqlApp, entry_id: str, day: date = DAY) -> tuple[str, str | None]:
    report = app.do(c.RecordTimeEntries((time_entry(entry_id, day, "2"),)))
    if report.accepted:
        return "accepted", None
    return "rejected", report.rejected[0].reason_code


def test_kept_references_are_checked_in_one_statement_and_not_read_again(app: SqlApp) -> None:
    set_up_tm_contract(app)
    with statements(app) as first:
        assert _record(app, "T1") == ("accepted", None)
    assert len(_bodies_read(first)) == 3  # engagement, contract, rate card: read and kept
    with statements(app) as second:
        assert _record(app, "T2") == ("accepted", None)
    assert _bodies_read(second) == []
    checks = [s for s in second if "UNION ALL" in s]
    assert len(checks) == 1
    assert all(table in checks[0] for table in ("engagements", "contracts", "rate_cards"))


def test_an_engagement_suspended_by_another_process_refuses_time_at_once(
    app: SqlApp, other: SqlApp
) -> None:
    set_up_tm_contract(app)
    assert _record(app, "T1") == ("accepted", None)  # E1 kept by this process
    other.do(c.SuspendEngagement(EngagementId("E1"), "client on hold"), actor="pm")
    assert _record(app, "T2") == ("rejected", "engagement_not_accepting_time")
    # ...and the engagement read anew is kept again: resumed elsewhere, accepted again.
    other.do(c.ResumeEngagement(EngagementId("E1")), actor="pm")
    assert _record(app, "T3") == ("accepted", None)


def test_a_rate_card_changed_by_another_process_prices_with_its_new_version(
    app: SqlApp, other: SqlApp
) -> None:
    set_up_tm_contract(app)
    assert _record(app, "T1") == ("accepted", None)  # RC kept, and checked along with C1
    version = RateCardVersion(2, date(2026, 3, 1), EUR, {Role("partner"): Decimal("300")})
    other.do(c.PublishRateCardVersion(RateCardId("RC"), version))
    assert _record(app, "T2") == ("rejected", "rate_not_found")
    assert _record(app, "T3", date(2026, 2, 27)) == ("accepted", None)  # version 1 still


def test_a_contract_changed_by_another_process_is_read_again(app: SqlApp, other: SqlApp) -> None:
    set_up_tm_contract(app)
    assert _record(app, "T1") == ("accepted", None)
    # A new version of C1 from March 9 without the T&M obligation.
    other.do(
        c.DraftContractVersion(ContractId("C1"), date(2026, 3, 9), ()),
        actor="clm",
    )
    other.do(c.ApproveContractVersion(ContractId("C1"), 2), actor="legal")
    assert _record(app, "T2", date(2026, 3, 10)) == ("rejected", "unknown_obligation")
    assert _record(app, "T3") == ("accepted", None)


def test_a_period_closed_by_another_process_refuses_time_at_once(
    app: SqlApp, other: SqlApp
) -> None:
    set_up_tm_contract(app)
    with statements(app) as first:
        assert _record(app, "T1") == ("accepted", None)  # no period stored yet: kept as such
    with statements(app) as second:
        assert _record(app, "T2") == ("accepted", None)
    assert any("FROM accounting_periods" in s and ".body" in s for s in first)
    assert not any("FROM accounting_periods" in s and ".body" in s for s in second)
    other.clock.advance(days=31)  # April: March has ended and can be closed
    other.do(c.ClosePeriod(Period.month(2026, 3)), actor="controller")  # its row is new
    assert _record(app, "T3") == ("rejected", "period_closed")
    other.do(c.ReopenPeriod(Period.month(2026, 3), "late time"), actor="controller")
    assert _record(app, "T4") == ("accepted", None)  # the period's new revision


def test_a_revision_of_the_unit_of_works_own_is_never_kept(app: SqlApp, other: SqlApp) -> None:
    set_up_tm_contract(app)
    assert _record(app, "T1") == ("accepted", None)
    ctx = RequestContext("pm", "corr-1")
    with app.database.unit_of_work(ctx, app.clock.now) as uow:
        engagement = uow.engagements.get("E1")
        engagement.suspend("tried, then rolled back", app.clock.now())
        uow.write_out()  # the suspension is in this transaction only
        found, _ = uow.references.engagements_and_contracts({EngagementId("E1")})
        assert found[EngagementId("E1")].state == engagement.state  # its own, read anew
    # Another process commits another change at the revision the rolled-back one had: the
    # engagement closes from March 5, so time of March 2 is still accepted.
    other.do(c.StartClosingEngagement(EngagementId("E1"), date(2026, 3, 5)), actor="pm")
    assert _record(app, "T2") == ("accepted", None)
    assert _record(app, "T3", date(2026, 3, 6)) == ("rejected", "engagement_not_accepting_time")
