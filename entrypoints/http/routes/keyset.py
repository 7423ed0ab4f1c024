"""Keyset pages at the HTTP edge: the `cursor` query parameter of the lists that page in the
store (application/queries/paging.py), and the page a route answers.

The cursor is opaque: a client passes back the `next_cursor` of the page before, nothing else.
A size out of range or a cursor this API did not hand out is a 400 that names the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from application.queries.paging import InvalidPageRequestError, Page, PageRequest
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import query_param
from entrypoints.http.runtime import Page as PageOut

T = TypeVar("T")
U = TypeVar("U")

#: The cursor of a keyset-paged list (ADR 0042): opaque, the position after the last row seen.
KeysetCursor = Annotated[
    str | None,
    query_param(
        "cursor",
        "the second page",
        "WyJFLUFDTUUtMSJd",
        required=False,
        max_length=1000,
        description="The `next_cursor` of the previous page (opaque).",
    ),
]


def page_request(limit: int | None, cursor: str | None) -> PageRequest:
    """The page a client asked for; a bad size or a foreign cursor is a 400."""
    try:
        return PageRequest.of(limit, cursor)
    except InvalidPageRequestError as error:
        field = "limit" if str(error).startswith("limit") else "cursor"
        detail = str(error)
        raise Problem(
            "validation-error", detail, errors=[FieldError(f"/query/{field}", detail)]
        ) from None


def page_out(page: Page[T], shape: Callable[[T], U]) -> PageOut[U]:
    """The page as the response body: the rows shaped for the wire, the cursor as it is."""
    return PageOut([shape(item) for item in page.items], page.next_cursor)
