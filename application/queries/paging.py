"""Keyset pages: a list is read after the sort key of the last row a caller saw.

The cursor is opaque to the client: the URL-safe base64 of the JSON array of that row's sort
key (strings only). A store reads `after` and answers at most `limit` rows plus one, so it
knows whether another page follows without counting.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

import attrs

from application.errors import ApplicationError
from application.queries.viewer import Viewer

T = TypeVar("T")
F_contra = TypeVar("F_contra", contravariant=True)

#: The most rows one page may hold, and the page size when the caller names none.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


class InvalidPageRequestError(ApplicationError):
    """The page size is out of range or the cursor is not one this system handed out."""

    code = "invalid_page_request"


@attrs.frozen
class PageRequest:
    """At most `limit` rows after the row whose sort key is `after` (from the start if None)."""

    limit: int = DEFAULT_PAGE_SIZE
    after: tuple[str, ...] | None = None

    @classmethod
    def of(cls, limit: int | None, cursor: str | None) -> PageRequest:
        """A page request from what a client sent; an out-of-range size or a foreign cursor is
        refused."""
        size = DEFAULT_PAGE_SIZE if limit is None else limit
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidPageRequestError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        return cls(size, None if cursor is None else decode_cursor(cursor))


@attrs.frozen
class Page(Generic[T]):
    """One page of rows; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None = None

    @classmethod
    def from_rows(
        cls, rows: Sequence[T], request: PageRequest, key: Callable[[T], Sequence[str]]
    ) -> Page[T]:
        """The page from up to `limit + 1` rows read in order: the extra row only says that
        another page follows, and the cursor is the sort key of the last row kept."""
        kept = tuple(rows[: request.limit])
        more = len(rows) > request.limit
        return cls(kept, encode_cursor(key(kept[-1])) if more and kept else None)


class KeysetList(Protocol[F_contra, T]):
    """A list screen's query port: the rows a viewer may see that match the screen's filter,
    in the order of their sort key, one keyset page at a time. A port for a screen that also
    opens one object derives from it and adds that object's method."""

    def page(self, wanted: F_contra, viewer: Viewer, request: PageRequest) -> Page[T]:
        """The rows `viewer` may see that match `wanted`, one keyset page."""
        ...


def encode_cursor(key: Sequence[str]) -> str:
    """The opaque cursor for a sort key."""
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, ...]:
    """The sort key inside a cursor this system handed out; anything else is refused."""
    if len(cursor) > 1000:
        raise InvalidPageRequestError("the cursor is not one this API returned")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise InvalidPageRequestError("the cursor is not one this API returned") from error
    if not isinstance(key, list) or not key or not all(isinstance(part, str) for part in key):
        raise InvalidPageRequestError("the cursor is not one this API returned")
    return tuple(key)
