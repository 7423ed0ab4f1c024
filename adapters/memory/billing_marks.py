"""The settled marks of committed billing runs in memory (ADR 0048).

The in-memory store keeps no revisions to count, so a stamp digests what billing reads for an
obligation as it stands (the contract, every rate card, the obligation's time entries, expenses
and milestones, and its ledger entries): the same rule as in SQL, that any change to those
inputs invalidates the mark.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from application.billing_marks import BillingStamp, Observation
from domain.ids import ContractId, ObligationId
from domain.period import Period

if TYPE_CHECKING:
    from adapters.memory.store import _Data


def _digest(items: Iterable[object]) -> str:
    return hashlib.sha256(repr(list(items)).encode()).hexdigest()


class InMemoryBillingMarks:
    def __init__(self, data: _Data) -> None:
        self._data = data

    def observe(
        self, period: Period, obligations: Mapping[ObligationId, ContractId]
    ) -> Observation:
        stamps = self._stamps(obligations)
        settled = frozenset(
            oid
            for oid, s in stamps.items()
            if self._data.billing_marks.get(oid) == (period.key, _text(s))
        )
        return Observation(period, stamps, settled)

    def mark(
        self,
        observation: Observation,
        obligations: Iterable[ObligationId],
        added: Mapping[ObligationId, int],
    ) -> None:
        for oid in obligations:
            seen = observation.stamps.get(oid)
            if seen is None:
                continue
            rows = self._ledger(seen.contract_id, oid)
            if len(rows) != seen.ledger_rows + added.get(oid, 0):
                continue
            now = BillingStamp(seen.contract_id, seen.inputs, len(rows), _digest(rows))
            self._data.billing_marks[oid] = (observation.period.key, _text(now))

    def _stamps(
        self, obligations: Mapping[ObligationId, ContractId]
    ) -> dict[ObligationId, BillingStamp]:
        aggregates = self._data.aggregates
        cards = _digest(sorted(aggregates["rate_card"].items()))
        items: defaultdict[str, list[object]] = defaultdict(list)
        for entry in sorted(self._data.time_entries.values(), key=lambda e: e.entry_id):
            items[entry.obligation_id].append(entry)
        for expense in sorted(self._data.expenses.values(), key=lambda x: x.expense_id):
            items[expense.obligation_id].append(expense)
        for _, milestone in sorted(aggregates["milestone"].items()):
            items[milestone.obligation_id].append(milestone)
        for _, revisions in sorted(self._data.delivery_records.items()):
            record = revisions[-1][0]  # the current revision (ADR 0050)
            items[record.obligation_id].append(revisions[-1])
        stamps = {}
        for oid, contract_id in obligations.items():
            contract = aggregates["contract"].get(contract_id)
            inputs = _digest([contract, cards, items.get(oid, [])])
            rows = self._ledger(contract_id, oid)
            stamps[oid] = BillingStamp(contract_id, inputs, len(rows), _digest(rows))
        return stamps

    def _ledger(self, contract_id: ContractId, oid: ObligationId) -> list[object]:
        return [e for e in self._data.ledger.get(contract_id, []) if e.obligation_id == oid]


def _text(stamp: BillingStamp) -> str:
    return f"{stamp.inputs}|l{stamp.ledger_rows}.{stamp.ledger_last}"
