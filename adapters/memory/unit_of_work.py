"""The unit of work over an `InMemoryStore`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.memory.billing_marks import InMemoryBillingMarks
from adapters.memory.billing_reads import InMemoryBillingReads
from adapters.memory.delivery_records import InMemoryDeliveryRecords
from adapters.memory.records import (
    _Audit,
    _BillingRuns,
    _Exceptions,
    _Idempotency,
    _Inbox,
    _NaturalKeys,
    _Operations,
    _Outbox,
    _Periods,
    _Sequences,
)
from adapters.memory.store import (
    InMemoryStore,
    _Delivery,
    _Engagements,
    _Intercompany,
    _Invoices,
    _Journal,
    _Ledger,
    _MasterData,
    _Milestones,
    _Repository,
)
from adapters.outbound.event_payloads import outbox_payload
from application.context import RequestContext
from application.unit_of_work_base import AbstractUnitOfWork, SeenAggregates
from domain.contract import Contract


class InMemoryUnitOfWork(AbstractUnitOfWork):
    """A unit of work over an `InMemoryStore` (snapshot on enter, swap on commit): the storage
    hooks of `AbstractUnitOfWork`."""

    def __init__(
        self,
        store: InMemoryStore,
        ctx: RequestContext,
        clock_now: Callable[[], datetime],
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__(ctx, clock_now, outbox_payload, read_only=read_only)
        self._store = store

    def _begin(self) -> None:
        self._data = copy.deepcopy(self._store.data)
        self._seen_items: list[object] = SeenAggregates()
        data, seen = self._data, self._seen_items
        self.contracts = _Repository[Contract](data, "contract", "contract_id", seen)
        self.rate_cards = _Repository[Any](data, "rate_card", "rate_card_id", seen)
        self.engagements = _Engagements(data, "engagement", "engagement_id", seen)
        self.milestones = _Milestones(data, "milestone", "milestone_id", seen)
        self.invoices = _Invoices(data, "invoice", "invoice_id", seen)
        self.credit_memos = _Repository[Any](data, "credit_memo", "credit_memo_id", seen)
        self.delivery = _Delivery(data, seen)
        self.ledger = _Ledger(data)
        self.journal = _Journal(data)
        self.master_data = _MasterData(data)
        self.periods = _Periods(data, seen)
        self.idempotency = _Idempotency(data)
        self.outbox = _Outbox(data)
        self.exceptions = _Exceptions(data)
        self.audit = _Audit(data)
        self.sequences = _Sequences(data)
        self.inbox = _Inbox(data)
        self.billing_runs = _BillingRuns(data)
        self.natural_keys = _NaturalKeys(data)
        self.operations = _Operations(data)
        self.intercompany = _Intercompany(data)
        self.billing_marks = InMemoryBillingMarks(data)
        self.billing_reads = InMemoryBillingReads(data, self.delivery)
        self.delivery_records = InMemoryDeliveryRecords(data, seen)

    def _end(self) -> None:
        self.rollback()

    def _seen(self) -> list[object]:
        return self._seen_items

    def _flush(self) -> None:
        """Nothing to write back: the aggregates changed in this unit of work's copy."""

    def _let_go(self) -> None:
        """As on SQL: what was seen is forgotten (the aggregates themselves stay in this unit
        of work's copy, which is what the memory store commits)."""
        self._seen_items.clear()
        if isinstance(self._seen_items, SeenAggregates):
            self._seen_items.states.clear()

    def _event_ids(self, count: int) -> list[str]:
        """Numbered after the events already in the outbox, so a test can name them."""
        first = len(self._data.outbox) + 1
        return [f"EVT-{n:08d}" for n in range(first, first + count)]

    def _commit(self) -> None:
        self._store.data = self._data
        self._store.commits += 1
        self._data = copy.deepcopy(self._data)

    def _rollback(self) -> None:
        """Nothing to undo: uncommitted changes live only in this unit of work's copy."""
