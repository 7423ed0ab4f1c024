"""The inbox's never-acknowledge-unfinished suite (tests/unit/application) on real SQLite and
PostgreSQL, and what differs between them: PostgreSQL refuses a NUL in text outright, so a
mapping that let one past the text rules would fail in the database; the message still lands
on the exception queue, never left `received` nor lost."""

from __future__ import annotations

from typing import Any

from application import commands as c
from application.records import ExceptionKind, InboxState
from domain.ids import ContractId, CustomerId, EngagementId
from tests.integration.support import SqlApp, only_on
from tests.unit.application.test_inbox import claimed, stored
from tests.unit.application.test_inbox_unfinished import *  # noqa: F403
from tests.unit.application.test_inbox_unfinished import _a_won_deal_failing_in


def _nul_past_the_mapping(data: Any) -> list[object]:
    """A mapping bug: it writes a NUL into an id that no text rule saw."""
    data.finish()
    return [c.ProposeEngagement(EngagementId("OPP-\x00"), CustomerId("acme"), ContractId("C-1"))]


@only_on("postgresql")
def test_a_nul_that_reaches_postgresql_lands_on_the_exception_queue(app: SqlApp) -> None:
    _bus, item = _a_won_deal_failing_in(app, _nul_past_the_mapping, "crm-9")
    assert (item.kind, item.reason_code) == (
        ExceptionKind.DOWNSTREAM_UNAVAILABLE,
        "unexpected_error",
    )
    assert "DataError" in item.detail
    assert "\x00" not in item.detail
    message = stored(app, "crm", "crm-9")
    assert message is not None
    assert message.state is InboxState.FAILED
    assert not claimed(app, "crm", "crm-9")
    assert app.data.aggregates["engagement"] == {}
