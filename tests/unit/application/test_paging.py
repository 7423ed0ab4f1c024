"""Keyset pages: what a client can send and what it gets back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.queries.paging import (
    MAX_PAGE_SIZE,
    InvalidPageRequestError,
    Page,
    PageRequest,
    decode_cursor,
    encode_cursor,
)


@given(st.lists(st.text(max_size=30), min_size=1, max_size=4))
def test_a_cursor_gives_back_the_sort_key_it_was_made_from(key: list[str]) -> None:
    assert decode_cursor(encode_cursor(key)) == tuple(key)


@pytest.mark.parametrize("cursor", ["o50", "!!!", encode_cursor(["a"])[:-1] + "*", "W10", "e30"])
def test_a_cursor_this_system_did_not_hand_out_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidPageRequestError):
        PageRequest.of(10, cursor)


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_a_page_size_out_of_range_is_refused(limit: int) -> None:
    with pytest.raises(InvalidPageRequestError, match="limit must be between 1 and"):
        PageRequest.of(limit, None)


def test_the_extra_row_read_says_another_page_follows_and_is_not_returned() -> None:
    request = PageRequest.of(2, None)
    page = Page.from_rows(["a", "b", "c"], request, lambda row: (row,))
    assert page.items == ("a", "b")
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor) == ("b",)


def test_the_last_page_has_no_cursor() -> None:
    page = Page.from_rows(["a", "b"], PageRequest.of(2, None), lambda row: (row,))
    assert page.items == ("a", "b")
    assert page.next_cursor is None
