"""One read's encoded answer, kept while the data under it is unchanged.

A read whose answer is the same for every caller allowed to make it (the finance dashboard)
asks its query port for the store's data version first (`DashboardQueries.version`), then
reads and encodes, and keeps the answer under that version. The next request whose version
is the same gets the kept answer without a thread hand-off, a query or an encoding.
Any commit, by any worker, changes the version, so a request after a commit never gets an
answer from before it; a store without a cheap version (None) keeps nothing.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

A = TypeVar("A")


class AnswerCache(Generic[A]):
    """The last (source, version, answer) of one read. Thread-safe by being one tuple,
    replaced whole. The source is the query port asked: a version means something only to
    the store that gave it (tests swap an app's services). The answer is whatever the route
    sends again as it is: its encoded bytes, or a response that sends them and changes
    nothing of its own when it is sent."""

    def __init__(self) -> None:
        self._kept: tuple[object, Hashable, A] | None = None

    def get(self, source: object, version: Hashable | None) -> A | None:
        """The answer `source` gave under exactly this version, if it is kept."""
        kept = self._kept
        if version is None or kept is None or kept[0] is not source or kept[1] != version:
            return None
        return kept[2]

    def keep(self, source: object, version: Hashable | None, answer: A) -> None:
        """Keep `answer`, read from `source` after `version` was taken (never a later one)."""
        if version is not None:
            self._kept = (source, version, answer)
