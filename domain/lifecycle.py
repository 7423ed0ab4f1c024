"""Lifecycle tables: one `transitions.Machine` per lifecycle, used as a legality table.

An entity keeps its own `state` attribute and asks its module-level table for the next state
when a typed method fires a trigger. The machine never owns the entity (`model=None`): no
dynamic methods, no callbacks with side effects, one small table shared by every instance.
The same table draws the diagram in the docs and drives the exhaustive state x trigger tests.
An aggregate moves along its table through `Lifecycled`'s steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, Generic, TypeVar

from transitions import Machine

from domain.errors import IllegalTransitionError

S = TypeVar("S", bound=Enum)
T = TypeVar("T", bound=Enum)
E = TypeVar("E")


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


class LifecycleTable(Generic[S, T]):
    """The legal transitions of one lifecycle: (trigger, sources, destination) rows."""

    def __init__(
        self,
        name: str,
        states: type[S],
        triggers: type[T],
        rows: Iterable[tuple[T, S | Sequence[S], S]],
    ) -> None:
        self.name = name
        self.states = states
        self.triggers = triggers
        self._machine = Machine(
            model=None,
            states=[s.value for s in states],
            initial=next(iter(states)).value,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        self._edges: dict[tuple[S, T], S] = {}
        for trigger, sources, dest in rows:
            source_list = [sources] if isinstance(sources, Enum) else list(sources)
            self._machine.add_transition(trigger.value, [s.value for s in source_list], dest.value)
            for source in source_list:
                self._edges[(source, trigger)] = dest

    def next_state(self, state: S, trigger: T) -> S:
        """The state `trigger` leads to from `state`, or a clear refusal."""
        # The edges were registered with the machine above, which validated them; the lookup
        # itself is a dictionary read (this runs once per item in bulk ingestion).
        dest = self._edges.get((state, trigger))
        if dest is None:
            raise IllegalTransitionError(
                f"{_article(self.name)} {self.name} in state '{state.value}' "
                f"cannot '{trigger.value}'"
            )
        return dest

    def machine_allows(self, state: S, trigger: T) -> bool:
        """The transitions machine's own answer (tests check it agrees with `next_state`)."""
        return bool(self._machine.get_transitions(trigger=trigger.value, source=state.value))

    def allowed(self, state: S) -> list[T]:
        """Triggers that are legal from a state, in declaration order."""
        return [t for t in self.triggers if (state, t) in self._edges]

    def edges(self) -> list[tuple[S, T, S]]:
        """Every legal transition as (source, trigger, destination)."""
        return [(s, t, d) for (s, t), d in self._edges.items()]

    def mermaid(self) -> str:
        """A Mermaid state diagram of the table, for the docs."""
        lines = ["stateDiagram-v2", f"    [*] --> {next(iter(self.states)).value}"]
        lines += [f"    {s.value} --> {d.value}: {t.value}" for s, t, d in self.edges()]
        return "\n".join(lines)


class Lifecycled(Generic[S, T, E]):
    """An aggregate that moves along one lifecycle table and records an event per move.

    The entity names its table as a class attribute (`_lifecycle = ENGAGEMENT_LIFECYCLE`)
    and declares `state`, `revision` and `events` among its own fields; a typed method asks
    `_next` first (so a refused call explains the lifecycle before any business guard), then
    checks its guards and `_move`s, or `_fire`s when it has no guard. Every move counts one
    revision and appends its one event.
    """

    _lifecycle: LifecycleTable[Any, Any]
    state: S
    revision: int
    events: list[object]

    def _next(self, trigger: T) -> S:
        """The state `trigger` leads to, or the lifecycle's refusal."""
        dest: S = self._lifecycle.next_state(self.state, trigger)
        return dest

    def _fire(self, trigger: T, event: E) -> None:
        self._move(self._next(trigger), event)

    def _move(self, dest: S, event: E) -> None:
        self.state = dest
        self._record(event)

    def _record(self, event: E) -> None:
        self.revision += 1
        self.events.append(event)
