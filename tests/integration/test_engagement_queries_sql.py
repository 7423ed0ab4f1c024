"""The engagement screens' questions answer the same from the in-memory store and from the
database (SQLite here, PostgreSQL in CI), and answer what the business did: the list filtered,
scoped and paged by key, one engagement with the states it went through and what blocks it."""

from __future__ import annotations

import pytest

from adapters.memory.queries_engagements import InMemoryEngagementQueries
from adapters.sqlalchemy.queries.engagements import SqlAlchemyEngagementQueries
from application import commands as c
from application.queries.engagements import EngagementFilter, EngagementQueries, EngagementView
from application.queries.paging import PageRequest
from domain.ids import ContractId, CustomerId, EngagementId
from tests.integration.support import SqlApp
from tests.unit.application.conftest import (
    App,
    set_up_tm_contract,
    sign_contract,
    told_in_memory_too,
)

GLOBEX = CustomerId("globex")


def a_suspended_and_resumed_engagement_and_a_blocked_one(app: App) -> None:
    """E1 (acme) set up, suspended and resumed; E2 (globex, no master record) blocked; E3
    (globex) only proposed."""
    set_up_tm_contract(app)
    app.do(c.SuspendEngagement(EngagementId("E1"), "client budget freeze"))
    app.do(c.ResumeEngagement(EngagementId("E1")))
    sign_contract(app, "E2", "C2", "Audit", [], GLOBEX)
    app.do(c.ProposeEngagement(EngagementId("E3"), GLOBEX, ContractId("C3")), actor="crm")


@pytest.fixture
def both(app: SqlApp) -> tuple[EngagementQueries, EngagementQueries]:
    """The same story told to the in-memory store and to the database; their query ports."""
    memory = told_in_memory_too(app, a_suspended_and_resumed_engagement_and_a_blocked_one)
    return InMemoryEngagementQueries(memory.store), SqlAlchemyEngagementQueries(app.database.engine)


def seen_alike(
    both: tuple[EngagementQueries, EngagementQueries], engagement_id: str
) -> EngagementView:
    """The engagement as the database answers it, after checking the in-memory store answers
    the same."""
    memory, sql = both
    view = sql.engagement(engagement_id)
    assert view is not None
    assert view == memory.engagement(engagement_id)
    return view


def ids(queries: EngagementQueries, where: EngagementFilter, limit: int = 50) -> list[str]:
    return [e.engagement_id for e in queries.engagements(where, PageRequest(limit)).items]


def test_the_list_is_filtered_by_state_and_customer_and_scoped_alike_in_both_stores(
    both: tuple[EngagementQueries, EngagementQueries],
) -> None:
    for queries in both:
        assert ids(queries, EngagementFilter()) == ["E1", "E2", "E3"]
        assert ids(queries, EngagementFilter(state="setup_blocked")) == ["E2"]
        assert ids(queries, EngagementFilter(customer_id="globex")) == ["E2", "E3"]
        assert ids(queries, EngagementFilter(visible_to="acme")) == ["E1"]
        assert ids(queries, EngagementFilter(customer_id="globex", visible_to="acme")) == []


def test_the_list_pages_by_key_and_the_last_page_has_no_cursor(
    both: tuple[EngagementQueries, EngagementQueries],
) -> None:
    for queries in both:
        first = queries.engagements(EngagementFilter(), PageRequest(2))
        assert [e.engagement_id for e in first.items] == ["E1", "E2"]
        assert first.next_cursor is not None
        second = queries.engagements(EngagementFilter(), PageRequest.of(2, first.next_cursor))
        assert [e.engagement_id for e in second.items] == ["E3"]
        assert second.next_cursor is None


def test_one_engagement_tells_the_states_it_went_through_from_its_audit_records(
    both: tuple[EngagementQueries, EngagementQueries],
) -> None:
    view = seen_alike(both, "E1")
    assert view.state == "active"
    assert view.path[-3:] == ("active", "suspended", "active")
    assert view.path[0] == "proposed"
    assert all(queries.lifecycle_path("E1") == view.path for queries in both)


def test_a_blocked_setup_shows_its_open_exception_and_its_reason_in_both_stores(
    both: tuple[EngagementQueries, EngagementQueries],
) -> None:
    view = seen_alike(both, "E2")
    assert view.state == "setup_blocked"
    assert view.blocked_reason is not None
    assert [x.kind for x in view.open_exceptions] == ["master_data"]


def test_an_engagement_nobody_proposed_is_not_found_in_either_store(
    both: tuple[EngagementQueries, EngagementQueries],
) -> None:
    for queries in both:
        assert queries.engagement("E-NOBODY") is None
        assert queries.lifecycle_path("E-NOBODY") == ()
