"""Every lifecycle table answers exactly what its `transitions` machine answers, for every state
and trigger (ADR 0004): the dictionary the entities read is the machine's rows, no more, no
fewer."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest

from domain.accounting_period import ACCOUNTING_PERIOD_LIFECYCLE
from domain.contract import CONTRACT_VERSION_LIFECYCLE
from domain.credit_memo import CREDIT_MEMO_LIFECYCLE
from domain.engagement import ENGAGEMENT_LIFECYCLE
from domain.errors import IllegalTransitionError
from domain.invoice import INVOICE_LIFECYCLE
from domain.lifecycle import LifecycleTable
from domain.milestone import MILESTONE_LIFECYCLE
from domain.time_entry import ITEM_LIFECYCLE

TABLES: list[LifecycleTable[Any, Any]] = [
    ACCOUNTING_PERIOD_LIFECYCLE,
    CONTRACT_VERSION_LIFECYCLE,
    CREDIT_MEMO_LIFECYCLE,
    ENGAGEMENT_LIFECYCLE,
    INVOICE_LIFECYCLE,
    MILESTONE_LIFECYCLE,
    ITEM_LIFECYCLE,
]


def _moves(table: LifecycleTable[Any, Any], state: Enum, trigger: Enum) -> bool:
    try:
        table.next_state(state, trigger)
    except IllegalTransitionError:
        return False
    return True


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_the_table_and_its_machine_agree_on_every_state_and_trigger(
    table: LifecycleTable[Any, Any],
) -> None:
    pairs = [(s, t) for s in table.states for t in table.triggers]
    assert pairs
    disagreements = [
        (s.value, t.value)
        for s, t in pairs
        if table.machine_allows(s, t) is not _moves(table, s, t)
    ]
    assert disagreements == []
    assert any(_moves(table, s, t) for s, t in pairs)
