"""What operations read: the typed exception queue, the outbox by delivery state and the
audit trail's verification. Exceptions are listed oldest first (then by id); outbox events in
commit order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs

from application.audit import ChainReport
from application.queries.paging import Page, PageRequest
from application.records import DeliveryState, ExceptionState, IntegrationException, OutboxEvent


@attrs.frozen
class ExceptionFilter:
    """Which exceptions a list shows (all kinds and states unless named)."""

    state: str | None = None
    kind: str | None = None
    include_resolved: bool = True

    def admits(self, exception: IntegrationException) -> bool:
        """The filter as the in-memory store applies it (SQL states the same in a WHERE)."""
        return (
            (self.state is None or exception.state.value == self.state)
            and (self.kind is None or exception.kind.value == self.kind)
            and (self.include_resolved or exception.state is not ExceptionState.RESOLVED)
        )


def exception_key(exception: IntegrationException) -> tuple[str, str]:
    """The keyset of the exception queue: when it was raised (UTC, ISO 8601), then its id."""
    return (exception.created_at.isoformat(), exception.exception_id)


class OperationsQueries(Protocol):
    """The questions of the operations screens and the CLI, one call each."""

    def exceptions(
        self, where: ExceptionFilter, page: PageRequest
    ) -> Page[IntegrationException]: ...

    def exception(self, exception_id: str) -> IntegrationException | None: ...

    def open_exceptions_for(self, subject: str) -> Sequence[IntegrationException]: ...

    def outbox_events(self, state: DeliveryState, page: PageRequest) -> Page[OutboxEvent]: ...

    def outbox_event(self, event_id: str) -> OutboxEvent | None: ...

    def audit_trail(self) -> ChainReport: ...

    def ping(self) -> None:
        """Return once the store answers a question; raise when it cannot."""
        ...


def every_exception(
    queries: OperationsQueries, where: ExceptionFilter
) -> list[IntegrationException]:
    """The whole queue, read page after page (for reports that show everything)."""
    found: list[IntegrationException] = []
    cursor: tuple[str, ...] | None = None
    while True:
        page = queries.exceptions(where, PageRequest(200, cursor))
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = exception_key(page.items[-1])
