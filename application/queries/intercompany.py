"""Intercompany as people read it: resources' employment histories, the transfer-pricing
policies and a month's recharge statement.

The statement is worked out from the month's time, the contracts, the histories and the
policies (application.intercompany), so one implementation serves every storage: it reads
through a read-only unit of work, which never commits and, on SQLite, never queues behind the
writer.
"""

from __future__ import annotations

from typing import Protocol

from application.context import READ_SIDE
from application.intercompany import intercompany_statement
from application.queries.paging import Page, PageRequest
from application.queries.snapshot import ReadOnlyUnitOfWork
from domain.employment import EmploymentHistory
from domain.intercompany import IntercompanyStatement, TransferPricing
from domain.period import Period


def history_key(history: EmploymentHistory) -> tuple[str]:
    """The keyset of the employment histories: the resource id."""
    return (history.resource_id,)


class IntercompanyQueries(Protocol):
    """The intercompany screens' questions, one call each."""

    def employment_histories(self, page: PageRequest) -> Page[EmploymentHistory]: ...

    def transfer_pricing(self) -> TransferPricing: ...

    def statement(self, period: Period) -> IntercompanyStatement: ...


class UnitOfWorkIntercompany:
    """`IntercompanyQueries` through read-only units of work."""

    def __init__(self, read: ReadOnlyUnitOfWork) -> None:
        self._read = read

    def employment_histories(self, page: PageRequest) -> Page[EmploymentHistory]:
        with self._read(READ_SIDE) as uow:
            histories = uow.intercompany.employment_histories()
        after = page.after[0] if page.after is not None else None
        chosen = [h for key, h in sorted(histories.items()) if after is None or key > after]
        return Page.from_rows(chosen[: page.limit + 1], page, history_key)

    def transfer_pricing(self) -> TransferPricing:
        with self._read(READ_SIDE) as uow:
            return uow.intercompany.transfer_pricing()

    def statement(self, period: Period) -> IntercompanyStatement:
        with self._read(READ_SIDE) as uow:
            return intercompany_statement(uow, period)
