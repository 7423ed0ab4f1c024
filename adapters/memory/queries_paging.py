"""Keyset pages over in-memory rows, as the SQL stores page: sorted by the key, after the
cursor's position, at most `limit` rows plus one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from application.queries.paging import Page, PageRequest

T = TypeVar("T")


def page_of(rows: Iterable[T], key: Callable[[T], Sequence[str]], request: PageRequest) -> Page[T]:
    """The page of `rows` (in any order) that `request` asks for."""
    ordered = sorted(rows, key=lambda row: tuple(key(row)))
    if request.after is not None:
        position = tuple(request.after)
        ordered = [row for row in ordered if tuple(key(row)) > position]
    return Page.from_rows(ordered[: request.limit + 1], request, key)
