"""The leakage report, read in one unit of work (ADR 0028): which engagements the question
names, the books of their contracts, the issue dates of credit memos, then the pure report of
`domain.leakage`. Nothing is written."""

from __future__ import annotations

from datetime import date

import attrs

from application.books import load_books
from application.errors import NotFoundError
from application.unit_of_work import UnitOfWork
from domain.contract import Contract
from domain.engagement import Engagement
from domain.leakage import DEFAULT_AGED_DAYS, LeakageReport, WatchedObligation, leakage_report


@attrs.frozen
class LeakageQuery:
    """What to report on: work dated from `start` to `end` (at most `as_of`), as the books
    stand on `as_of`, optionally for one customer, engagement or contract."""

    as_of: date
    start: date | None = None
    end: date | None = None
    customer_id: str | None = None
    engagement_id: str | None = None
    contract_id: str | None = None
    aged_days: int = DEFAULT_AGED_DAYS


def leakage(uow: UnitOfWork, query: LeakageQuery) -> LeakageReport:
    """Leakage by cause and value at risk for the engagements the query names; a named
    engagement or contract that does not exist is `NotFoundError`. An engagement whose
    contract is not registered yet is left out: nothing can be delivered on it."""
    named = _engagements(uow, query)
    found = uow.contracts.read_many({e.contract_id for e in named})
    # A won deal whose contract has not arrived yet holds no work: it has nothing to leak.
    chosen = [e for e in named if e.contract_id in found]
    contracts: dict[str, Contract] = {e.contract_id: found[e.contract_id] for e in chosen}
    books = load_books(uow, contracts.values())
    watched = [
        WatchedObligation(
            engagement.customer_id,
            engagement.engagement_id,
            engagement.contract_id,
            contracts[engagement.contract_id].currency,
            contracts[engagement.contract_id].obligation_history(oid),
        )
        for engagement in chosen
        for oid in contracts[engagement.contract_id].obligation_ids()
    ]
    issued_on: dict[str, date] = {
        str(memo.credit_memo_id): memo.issue_date
        for memo in uow.credit_memos.all()
        if memo.issue_date is not None
    }
    return leakage_report(
        watched,
        books.rate_cards,
        books.time_entries,
        books.expenses,
        books.milestones,
        books.ledger,
        issued_on,
        as_of=query.as_of,
        start=query.start,
        end=query.end,
        aged_days=query.aged_days,
    )


def _engagements(uow: UnitOfWork, query: LeakageQuery) -> list[Engagement]:
    if query.engagement_id is not None:
        found = [uow.engagements.get(query.engagement_id)]  # NotFoundError if unknown
    else:
        found = uow.engagements.all()
    if query.contract_id is not None:
        found = [e for e in found if e.contract_id == query.contract_id]
        if not found and query.engagement_id is None:
            raise NotFoundError(f"no engagement has contract {query.contract_id}")
    if query.customer_id is not None:
        found = [e for e in found if e.customer_id == query.customer_id]
    return sorted(found, key=lambda e: e.engagement_id)
