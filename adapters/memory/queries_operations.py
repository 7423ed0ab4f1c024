"""The operations screens' questions over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

import attrs

from adapters.memory.store import StoreQueries
from application.audit import ChainReport, verify_chain
from application.queries.operations import ExceptionFilter, exception_key
from application.queries.paging import Page, PageRequest
from application.records import DeliveryState, ExceptionState, IntegrationException, OutboxEvent


class InMemoryOperationsQueries(StoreQueries):
    """`OperationsQueries` on the in-memory store."""

    def exceptions(self, where: ExceptionFilter, page: PageRequest) -> Page[IntegrationException]:
        chosen = sorted(
            (x for x in self._store.data.exceptions.values() if where.admits(x)),
            key=exception_key,
        )
        if page.after is not None:
            after = page.after
            chosen = [x for x in chosen if exception_key(x) > (after[0], after[-1])]
        return Page.from_rows(
            [attrs.evolve(x) for x in chosen[: page.limit + 1]], page, exception_key
        )

    def exception(self, exception_id: str) -> IntegrationException | None:
        found = self._store.data.exceptions.get(exception_id)
        return None if found is None else attrs.evolve(found)

    def open_exceptions_for(self, subject: str) -> list[IntegrationException]:
        return [
            attrs.evolve(x)
            for _, x in sorted(self._store.data.exceptions.items())
            if x.subject == subject and x.state is not ExceptionState.RESOLVED
        ]

    def outbox_events(self, state: DeliveryState, page: PageRequest) -> Page[OutboxEvent]:
        start = int(page.after[0]) if page.after is not None and page.after[0].isdigit() else 0
        positions = {e.event_id: n for n, e in enumerate(self._store.data.outbox, 1)}
        chosen = [
            attrs.evolve(e)
            for n, e in enumerate(self._store.data.outbox, 1)
            if n > start and e.state is state
        ]
        return Page.from_rows(
            chosen[: page.limit + 1], page, lambda e: (str(positions[e.event_id]),)
        )

    def outbox_event(self, event_id: str) -> OutboxEvent | None:
        for event in self._store.data.outbox:
            if event.event_id == event_id:
                return attrs.evolve(event)
        return None

    def audit_trail(self) -> ChainReport:
        return verify_chain(list(self._store.data.audit))

    def ping(self) -> None:
        """The in-memory store always answers."""
