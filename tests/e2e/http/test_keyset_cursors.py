"""The finance lists page by keyset (ADR 0042): a cursor is a position, not an offset, and the
offset cursors of earlier releases are refused without changing anything."""

from __future__ import annotations

import pytest

from tests.e2e.http.harness import running_api
from tests.e2e.http.test_api_conventions import assert_problem

LISTS = ["/invoices", "/credit-memos", "/customers", "/periods", "/journal-entries"]


@pytest.mark.parametrize("path", LISTS)
def test_an_offset_cursor_from_an_earlier_release_is_a_400(path: str) -> None:
    with running_api() as api:
        answer = api.client.get(path, params={"cursor": "o50"}, headers=api.headers("finance"))
    assert_problem(answer, "validation-error")


@pytest.mark.parametrize("path", LISTS)
def test_a_cursor_of_more_than_a_thousand_characters_is_a_400(path: str) -> None:
    with running_api() as api:
        cursor = "A" * 1001
        answer = api.client.get(path, params={"cursor": cursor}, headers=api.headers("finance"))
    assert answer.status_code == 400
