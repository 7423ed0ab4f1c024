"""Reading a keyset-paged list to its end, as a client follows the cursors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from application.queries.paging import Page, PageRequest

T = TypeVar("T")


def every_row(read: Callable[[PageRequest], Page[T] | None], size: int = 1) -> list[T]:
    """Every row a paged read answers, `size` rows a page, following each page's cursor."""
    rows: list[T] = []
    request = PageRequest.of(size, None)
    while True:
        page = read(request)
        assert page is not None, "the list answered no page"
        rows += page.items
        if page.next_cursor is None:
            return rows
        request = PageRequest.of(size, page.next_cursor)
