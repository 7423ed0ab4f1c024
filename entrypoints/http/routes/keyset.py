"""Keyset pages at the HTTP edge: the `cursor` query parameter of the lists that page in the
store (application/queries/paging.py), and the page a route answers.

The cursor is opaque: a client passes back the `next_cursor` of the page before, nothing else.
A size out of range or a cursor this API did not hand out is a 400 that names the parameter.

A list route is declared by the function that reads one page: `paged` gives it the `limit`
and `cursor` every list takes (where the function has its `page`) and shapes the rows for the
wire:

    @_INVOICES.get("/invoices", "List invoices ...")
    @paged(InvoiceSummary, invoice_summary)
    def list_invoices(request: Request[Any, Any, Any], page: PageRequest,
                      state_filter: StateFilter = None) -> Rows:
        return finance_of(request).invoices.page(InvoiceFilter(state_filter), page)
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from inspect import Parameter, signature
from typing import Annotated, Any, TypeVar

from application.queries.paging import InvalidPageRequestError, Page, PageRequest
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import Limit, query_param
from entrypoints.http.routes.declare import handler_like
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


#: What the read of a `paged` list returns: one page of rows as the application reads them.
Rows = Page[Any]


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


def paged(row: type, shape: Callable[[Any], Any]) -> Callable[[Callable[..., Rows]], Any]:
    """Make a list route's handler from `read(..., page, ...)`, which reads one page of the
    list: the handler takes `read`'s parameters (the request, the filters) as `read` declares
    them, with `limit` and `cursor` where `read` has `page`; it asks for the page (a 400 for a
    foreign cursor) and answers its rows as `shape` makes them (`row` in the OpenAPI
    document). It is named after `read`."""

    def declare(read: Callable[..., Rows]) -> Any:
        hints = typing.get_type_hints(read, include_extras=True)
        taken = [p.replace(annotation=hints[p.name]) for p in signature(read).parameters.values()]
        at = [p.name for p in taken].index("page")
        paging = [_query("limit", Limit), _query("cursor", KeysetCursor)]

        def handle(limit: int | None, cursor: str | None, **values: Any) -> PageOut[Any]:
            return page_out(read(page=page_request(limit, cursor), **values), shape)

        parameters = [*taken[:at], *paging, *taken[at + 1 :]]
        return handler_like(read, parameters, PageOut[row], handle)  # type: ignore[valid-type]

    return declare


def _query(name: str, annotation: Any) -> Parameter:
    return Parameter(name, Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation, default=None)
