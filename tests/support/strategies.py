"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import strategies as st


@st.composite
def splits(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """`parts` positive integers summing to `total` (a random composition)."""
    if parts == 1:
        return [total]
    cuts = sorted(draw(st.sets(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, total]
    return [b - a for a, b in pairwise(bounds)]
