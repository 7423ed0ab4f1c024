"""Employment histories and transfer pricing in SQL (ADR 0031): JSON documents through the
one converter, written whole (a history or the pricing is always replaced, never patched)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.serialization import structure, unstructure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repositories import Session
from adapters.sqlalchemy.stores import upsert
from domain.employment import EmploymentHistory
from domain.ids import ResourceId
from domain.intercompany import TransferPricing

#: The one row the transfer pricing lives in.
_PRICING_ROW = 1


class SqlAlchemyIntercompany:
    def __init__(self, session: Session) -> None:
        self._session = session

    def employment_history(self, resource_id: ResourceId) -> EmploymentHistory | None:
        table = t.resource_employments
        statement = sa.select(table.c.body).where(table.c.resource_id == resource_id)
        body = self._session.connection.execute(statement).scalar()
        return None if body is None else structure(body, EmploymentHistory)

    def save_employment_history(self, history: EmploymentHistory) -> None:
        row = {"resource_id": history.resource_id, "body": unstructure(history)}
        upsert(self._session, t.resource_employments, row, ("resource_id",))

    def employment_histories(self) -> dict[ResourceId, EmploymentHistory]:
        table = t.resource_employments
        statement = sa.select(table.c.body).order_by(table.c.resource_id)
        found = (
            structure(body, EmploymentHistory)
            for body in self._session.connection.execute(statement).scalars()
        )
        return {history.resource_id: history for history in found}

    def transfer_pricing(self) -> TransferPricing:
        table = t.transfer_pricing
        statement = sa.select(table.c.body).where(table.c.id == _PRICING_ROW)
        body = self._session.connection.execute(statement).scalar()
        return TransferPricing() if body is None else structure(body, TransferPricing)

    def save_transfer_pricing(self, pricing: TransferPricing) -> None:
        row = {"id": _PRICING_ROW, "body": unstructure(pricing)}
        upsert(self._session, t.transfer_pricing, row, ("id",))
