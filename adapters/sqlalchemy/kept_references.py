"""Engagements, contracts, rate cards and period locks kept across units of work for
admission, each handed out only after its stored revision was read in the unit of work's own
transaction (ADR 0070).

Why it is safe: a row of these tables is written only by its repository's flush, which inserts
it once or updates it from the revision it was read at to a higher one (`WHERE revision =
:loaded`); nothing deletes them. So a committed (table, id, revision) names one body, and an
object decoded from that body is the object a read of the row in this transaction would
give. Objects are kept only from rows read by a unit of work that has written no aggregate
yet (nor seen one it could change), so a revision of its own that may still roll back is
never kept. A kept object is shared by every thread of the process: the caller only looks
at it (`application.reference_reads`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Collection, Iterable
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import tables
from adapters.sqlalchemy.driver import driver_rows
from adapters.sqlalchemy.repository_base import CHUNK, Session
from application.reference_reads import Days, EngagementsAndContracts, ReferenceReads
from domain.accounting_period import AccountingPeriod, PeriodLock
from domain.contract import Contract
from domain.engagement import Engagement
from domain.ids import ContractId, EngagementId, RateCardId
from domain.ratecard import RateCard

T = TypeVar("T")

#: The tables whose rows are kept, in the order of the check's kinds (0, 1, 2); the periods
#: are kind 3, kept by the days they were read for.
_TABLES = (tables.engagements, tables.contracts, tables.rate_cards)
_ENGAGEMENT, _CONTRACT, _RATE_CARD = range(3)
_PERIOD = 3
_PERIODS = tables.accounting_periods

Key = tuple[int, str]  # (kind, id)
#: The periods with a day in some days: each one's (id, revision), and the lock they make.
KeptLock = tuple[frozenset[tuple[str, int]], PeriodLock]


class ReferenceCache:
    """What one database's units of work kept, shared by the process's threads: by (kind,
    id), the revision read and the object decoded from that row; and per contract, the rate
    cards admission asked for with it (checked along with it next time)."""

    def __init__(self, limit: int = 4096) -> None:
        self._kept: dict[Key, tuple[int, Any]] = {}
        self._cards: dict[str, frozenset[str]] = {}
        self._locks: dict[Days, KeptLock] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key: Key) -> tuple[int, Any] | None:
        return self._kept.get(key)

    def keep(self, key: Key, revision: int, item: object) -> None:
        with self._lock:
            if len(self._kept) + len(self._locks) >= self._limit:
                self._kept.clear()
                self._cards.clear()
                self._locks.clear()
            self._kept[key] = (revision, item)

    def forget(self, key: Key) -> None:
        with self._lock:
            self._kept.pop(key, None)

    def lock_of(self, days: Days) -> KeptLock | None:
        return self._locks.get(days)

    def keep_lock(self, days: Days, kept: KeptLock) -> None:
        with self._lock:
            self._locks[days] = kept

    def forget_lock(self, days: Days) -> None:
        with self._lock:
            self._locks.pop(days, None)

    def cards_of(self, contract_ids: Iterable[str]) -> set[str]:
        return {card for c in contract_ids for card in self._cards.get(c, ())}

    def asked_with(self, contract_ids: Iterable[str], rate_card_id: str) -> None:
        with self._lock:
            for c in contract_ids:
                known = self._cards.get(c, frozenset())
                if rate_card_id not in known:
                    self._cards[c] = known | {rate_card_id}

    def __len__(self) -> int:
        return len(self._kept)


class KeptReferences(ReferenceReads):
    """`ReferenceReads` of one SQLAlchemy unit of work: kept objects checked in one statement
    (the engagements, their contracts and those contracts' rate cards), the rest read and
    kept; through the repositories (`fallback`) when this unit of work may not keep."""

    def __init__(
        self,
        session: Session,
        cache: ReferenceCache,
        may_keep: Callable[[], bool],
        fallback: ReferenceReads,
    ) -> None:
        self._session = session
        self._cache = cache
        self._may_keep = may_keep
        self._fallback = fallback
        #: Checked in this transaction: by (kind, id), the object; by days, the period lock.
        self._checked: dict[Key, Any] = {}
        self._locks: dict[Days, PeriodLock] = {}
        self._contracts: set[str] = set()

    def engagements_and_contracts(
        self, engagement_ids: Collection[EngagementId], days: Days | None = None
    ) -> EngagementsAndContracts:
        if not self._may_keep() or len(engagement_ids) > CHUNK // 3:
            return self._fallback.engagements_and_contracts(engagement_ids, days)
        self._check(engagement_ids, days)
        engagements: dict[EngagementId, Engagement] = self._found(
            _ENGAGEMENT, engagement_ids, Engagement
        )
        wanted = {e.contract_id for e in engagements.values()}
        contracts: dict[ContractId, Contract] = self._found(_CONTRACT, wanted, Contract)
        self._contracts.update(contracts)
        return engagements, contracts

    def rate_card(self, rate_card_id: RateCardId) -> RateCard | None:
        if not self._may_keep():
            return self._fallback.rate_card(rate_card_id)
        card: RateCard | None = self._found(_RATE_CARD, [rate_card_id], RateCard).get(rate_card_id)
        if card is not None and self._contracts:
            self._cache.asked_with(self._contracts, rate_card_id)
        return card

    def period_lock(self, first: date, last: date) -> PeriodLock:
        if not self._may_keep():
            return self._fallback.period_lock(first, last)
        days = (first, last)
        checked = self._locks.get(days)
        if checked is not None:
            return checked
        c = _PERIODS.c
        statement = sa.select(c.id, c.revision, c.body).where(
            c.period_start <= last, c.period_end >= first
        )
        rows = list(self._session.connection.execute(statement))
        lock = PeriodLock.of(structure(row.body, AccountingPeriod) for row in rows)
        self._locks[days] = lock
        if self._may_keep():
            self._cache.keep_lock(days, (frozenset((r.id, r.revision) for r in rows), lock))
        return lock

    # Mechanics ------------------------------------------------------------------------------

    def _check(self, engagement_ids: Collection[str], days: Days | None) -> None:
        """The kept engagements of these ids, their kept contracts and those contracts' rate
        cards, each compared with its stored revision, and the periods of the kept lock of
        these days with the stored ones, in one statement: the ones that match are this
        transaction's, the others forgotten."""
        cache = self._cache
        kept: dict[Key, tuple[int, Any]] = {}
        for item_id in engagement_ids:
            _keep_found(kept, cache, (_ENGAGEMENT, item_id))
        contracts = {item.contract_id for _, item in kept.values()}
        for contract_id in contracts:
            _keep_found(kept, cache, (_CONTRACT, contract_id))
        for card_id in cache.cards_of(contracts):
            _keep_found(kept, cache, (_RATE_CARD, card_id))
        ordered = sorted(k for k in kept if k not in self._checked)
        lock = None if days is None or days in self._locks else cache.lock_of(days)
        if not ordered and lock is None:
            return
        counts = tuple(sum(1 for kind, _ in ordered if kind == n) for n in range(len(_TABLES)))
        sqlite = self._session.dialect == "sqlite"
        text = _check_text(counts, lock is not None, "?" if sqlite else "%s")
        parameters: list[object] = [item_id for _, item_id in ordered]
        if lock is not None and days is not None:
            first, last = days
            parameters += [last.isoformat(), first.isoformat()] if sqlite else [last, first]
        stored: dict[Key, int] = {}
        periods: set[tuple[str, int]] = set()
        for kind, item_id, revision in driver_rows(self._session.connection, text, parameters):
            if kind == _PERIOD:
                periods.add((item_id, revision))
            else:
                stored[(kind, item_id)] = revision
        if lock is not None and days is not None:
            if periods == lock[0]:
                self._locks[days] = lock[1]
            else:
                cache.forget_lock(days)
        for key in ordered:
            revision, item = kept[key]
            if stored.get(key) == revision:
                self._checked[key] = item
            else:
                cache.forget(key)

    def _found(self, kind: int, item_ids: Iterable[str], cls: type[T]) -> dict[Any, T]:
        """The objects of these ids that exist: checked ones, the others read (and kept)."""
        found: dict[Any, T] = {}
        missing = []
        for item_id in item_ids:
            checked = self._checked.get((kind, item_id))
            if checked is None:
                missing.append(item_id)
            else:
                found[item_id] = checked
        if missing:
            table = _TABLES[kind]
            statement = sa.select(table.c.id, table.c.revision, table.c.body).where(
                table.c.id.in_(missing)
            )
            keep = self._may_keep()
            for row in self._session.connection.execute(statement):
                item = structure(row.body, cls)
                found[row.id] = self._checked[(kind, row.id)] = item
                if keep:
                    self._cache.keep((kind, row.id), row.revision, item)
        return found


def _keep_found(kept: dict[Key, tuple[int, Any]], cache: ReferenceCache, key: Key) -> None:
    found = cache.get(key)
    if found is not None:
        kept[key] = found


@functools.cache
def _check_text(counts: tuple[int, ...], periods: bool, mark: str) -> str:
    """(kind, id, revision) of the rows of the given number of ids per table, in kind order,
    and with `periods` of the periods with a day between two dates (parameters: the ids, kind
    by kind, then the last day and the first)."""
    parts = [
        f"SELECT {kind}, id, revision FROM {table.name} WHERE id IN ({', '.join([mark] * n)})"
        for kind, (table, n) in enumerate(zip(_TABLES, counts, strict=True))
        if n
    ]
    if periods:
        parts.append(
            f"SELECT {_PERIOD}, id, revision FROM {_PERIODS.name} "
            f"WHERE period_start <= {mark} AND period_end >= {mark}"
        )
    return " UNION ALL ".join(parts)
