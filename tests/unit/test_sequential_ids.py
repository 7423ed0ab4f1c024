"""The demo's and the tests' ids, `INV-000001` onwards: never one id twice, even when threads
ask for a prefix's first id at the same moment (the tests race two billing runs)."""

from __future__ import annotations

import sys
import threading

from adapters.memory import SequentialIds

THREADS, PREFIXES = 8, 300


def test_ids_count_up_per_prefix() -> None:
    ids = SequentialIds()
    taken = [ids.next_id("INV"), ids.next_id("CM"), ids.next_id("INV")]
    assert taken == ["INV-000001", "CM-000001", "INV-000002"]


def test_threads_asking_for_new_prefixes_at_once_get_distinct_ids() -> None:
    ids = SequentialIds()
    prefixes = [f"P{n}" for n in range(PREFIXES)]
    taken: list[str] = []
    start = threading.Barrier(THREADS)

    def take() -> None:
        start.wait()
        taken.extend([ids.next_id(prefix) for prefix in prefixes])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=take) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(set(taken)) == len(taken) == THREADS * PREFIXES
    assert {ids.next_id(prefix) for prefix in prefixes} == {f"{p}-000009" for p in prefixes}
