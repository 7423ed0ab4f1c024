"""The two checks every lifecycle table gets, state by trigger: the table itself, and the
typed method that fires each trigger (house style, rule 5)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from domain.errors import IllegalTransitionError


def check_table(table: Any, expected: Mapping[Any, Any], state: Any, trigger: Any) -> None:
    """The table moves `state` on `trigger` exactly where `expected` lists the pair, and
    refuses any other pair naming the state."""
    if (state, trigger) in expected:
        assert table.next_state(state, trigger) is expected[(state, trigger)]
    else:
        with pytest.raises(IllegalTransitionError, match=f"'{state.value}' cannot"):
            table.next_state(state, trigger)


def check_move(
    subject: Any,
    move: Callable[[Any], object],
    expected: Mapping[Any, Any],
    state: Any,
    trigger: Any,
    *,
    refused: type[Exception] = IllegalTransitionError,
    snapshot: Callable[[Any], object] | None = None,
) -> None:
    """`move` (the method that fires `trigger`) takes `subject`, in `state`, where `expected`
    says, with one revision and one event; anywhere else it is refused and changes nothing
    (nothing `snapshot` sees either)."""
    revision, event_count = subject.revision, len(subject.events)
    before = None if snapshot is None else snapshot(subject)
    if (state, trigger) in expected:
        move(subject)
        assert subject.state is expected[(state, trigger)]
        assert subject.revision == revision + 1
        assert len(subject.events) == event_count + 1
    else:
        with pytest.raises(refused):
            move(subject)
        assert subject.state is state
        assert subject.revision == revision
        assert len(subject.events) == event_count
        if snapshot is not None:
            assert snapshot(subject) == before, "a refused call changed something"


def walked(subject: Any, path: Iterable[Any], calls: Mapping[Any, Callable[[Any], object]]) -> Any:
    """`subject` after the methods `calls` names for each trigger of `path`, in order."""
    for trigger in path:
        calls[trigger](subject)
    return subject


def check_edges(table: Any, expected: Mapping[Any, Any], *final: Any) -> None:
    """The table draws exactly the edges `expected` lists, and allows nothing in a final state."""
    assert {(s, t): d for s, t, d in table.edges()} == expected
    for state in final:
        assert table.allowed(state) == []


def named(value: object) -> str:
    """A parameter's id: a state or trigger by its name in the table, anything else as text."""
    return str(getattr(value, "value", value))
