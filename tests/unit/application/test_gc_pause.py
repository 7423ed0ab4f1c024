"""The billing run pauses the cyclic collector over its burst of allocations (ADR 0048) and
leaves it as it found it, whatever happens in the run."""

from __future__ import annotations

import gc
import weakref

import pytest

from application.gc_pause import collect_young, paused_collection


def test_the_collector_is_paused_during_the_run_and_on_again_after_it() -> None:
    assert gc.isenabled()
    with paused_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_run_that_fails_still_turns_the_collector_back_on() -> None:
    with pytest.raises(ZeroDivisionError), paused_collection():
        _ = 1 / 0
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_survives_the_run_joins_the_oldest_generation_without_a_collection() -> None:
    collections: list[str] = []

    def seen(phase: str, _: dict[str, int]) -> None:
        collections.append(phase)

    with paused_collection():
        survivor: list[object] = [object()]
        gc.callbacks.append(seen)
    gc.callbacks.remove(seen)
    assert collections == []
    assert gc.get_freeze_count() == 0
    assert any(item is survivor for item in gc.get_objects(generation=2))


class _Node:
    """A cycle's member, weakly referenceable so the test sees when it is freed."""

    def __init__(self) -> None:
        self.other: object = self


def test_a_part_of_a_paused_run_frees_its_cyclic_garbage_and_keeps_what_lives() -> None:
    with paused_collection():
        kept = [_Node()]
        cycle = _Node()
        gone = weakref.ref(cycle)
        del cycle
        assert gone() is not None  # paused: reference counting cannot free a cycle
        collect_young()
        assert gone() is None
        assert not gc.isenabled()
        assert kept[0].other is kept[0]
