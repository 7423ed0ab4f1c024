"""Every lifecycle table against the one drawn by hand from the domain guide (section 4) in its
own tests: each state by each trigger moves where the guide says and is refused anywhere else,
the table draws no other edge, and a final state allows nothing. Where an aggregate's methods
fire the triggers one to one (engagement, milestone, accounting period), each method moves it
only along a legal transition, with one revision and one event; the items' and credit memos'
methods, which take more than the aggregate, are checked next to their other rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import attrs
import pytest

from domain.accounting_period import ACCOUNTING_PERIOD_LIFECYCLE
from domain.contract import CONTRACT_VERSION_LIFECYCLE
from domain.credit_memo import CREDIT_MEMO_LIFECYCLE
from domain.engagement import ENGAGEMENT_LIFECYCLE
from domain.invoice import INVOICE_LIFECYCLE
from domain.milestone import MILESTONE_LIFECYCLE
from domain.time_entry import ITEM_LIFECYCLE
from tests.support.lifecycles import check_edges, check_move, check_table
from tests.unit import test_accounting_period as periods
from tests.unit import test_engagement_lifecycle as engagements
from tests.unit import test_invoice_lifecycle as invoices
from tests.unit import test_item_and_contract_lifecycles as items
from tests.unit import test_milestone_lifecycle as milestones


@attrs.frozen
class Drawn:
    """A lifecycle table, the transitions the guide draws for it, and its final states."""

    table: Any
    expected: Mapping[Any, Any]
    final: tuple[Any, ...] = ()
    #: The aggregate in a state, and the method that fires each trigger, where they are one to
    #: one with the table.
    subject_in: Callable[[Any], Any] | None = None
    calls: Mapping[Any, Callable[[Any], object]] = attrs.field(factory=dict)

    @classmethod
    def with_methods(cls, table: Any, tests: ModuleType, subject_in: Callable[[Any], Any]) -> Drawn:
        """A table whose aggregate has one method a trigger: `tests` holds the guide's
        `EXPECTED` transitions and the `CALLS` that fire each trigger."""
        return cls(table, tests.EXPECTED, (), subject_in, tests.CALLS)

    def pairs(self) -> list[tuple[Any, Any]]:
        """Every state with every trigger."""
        state, trigger = next(iter(self.expected))
        return [(s, t) for s in type(state) for t in type(trigger)]


LIFECYCLES = {
    "accounting period": Drawn.with_methods(ACCOUNTING_PERIOD_LIFECYCLE, periods, periods.march_in),
    "engagement": Drawn.with_methods(ENGAGEMENT_LIFECYCLE, engagements, engagements.engagement_in),
    "invoice": Drawn(INVOICE_LIFECYCLE, invoices.EXPECTED),
    "milestone": Drawn.with_methods(MILESTONE_LIFECYCLE, milestones, milestones.milestone_in),
    "item": Drawn(ITEM_LIFECYCLE, items.ITEM_EXPECTED, items.ITEM_FINAL),
    "contract version": Drawn(
        CONTRACT_VERSION_LIFECYCLE, items.VERSION_EXPECTED, items.VERSION_FINAL
    ),
    "credit memo": Drawn(CREDIT_MEMO_LIFECYCLE, items.MEMO_EXPECTED, items.MEMO_FINAL),
}
EVERY_MOVE = [
    pytest.param(drawn, state, trigger, id=f"{name}-{state.value}-{trigger.value}")
    for name, drawn in LIFECYCLES.items()
    for state, trigger in drawn.pairs()
]
EVERY_METHOD = [move for move in EVERY_MOVE if move.values[0].subject_in is not None]


@pytest.mark.parametrize(("drawn", "state", "trigger"), EVERY_MOVE)
def test_each_table_allows_exactly_the_transitions_of_the_domain_guide(
    drawn: Drawn, state: Any, trigger: Any
) -> None:
    check_table(drawn.table, drawn.expected, state, trigger)


@pytest.mark.parametrize("drawn", list(LIFECYCLES.values()), ids=list(LIFECYCLES))
def test_each_table_draws_no_other_edge_and_allows_nothing_in_a_final_state(
    drawn: Drawn,
) -> None:
    check_edges(drawn.table, drawn.expected, *drawn.final)


@pytest.mark.parametrize(("drawn", "state", "trigger"), EVERY_METHOD)
def test_each_method_moves_its_aggregate_only_along_a_legal_transition(
    drawn: Drawn, state: Any, trigger: Any
) -> None:
    assert drawn.subject_in is not None
    check_move(drawn.subject_in(state), drawn.calls[trigger], drawn.expected, state, trigger)
