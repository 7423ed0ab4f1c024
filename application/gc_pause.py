"""The cyclic garbage collector paused over a burst of allocations (ADR 0048).

A billing run builds hundreds of thousands of small, acyclic, long-lived objects (entries,
allocations, amounts) and frees them together at the end. Each generation-2 pass of the
cyclic collector walks every live object, and a burst that size triggers many: the run grew
faster than its size. Reference counting frees all of these objects anyway; the collector is
paused for the burst and runs once after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collection() -> Iterator[None]:
    """Pause the cyclic collector for the block (if it was on), then collect once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(1)
