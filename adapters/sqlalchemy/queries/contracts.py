"""The contract screens' questions in SQL: the list filtered by customer and paged by id in the
database, each contract beside its engagement (one outer join on the indexed contract id)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, keyset, reading
from application.queries.contracts import (
    ContractFilter,
    ContractSummaryView,
    ContractView,
    contract_key,
)
from application.queries.paging import Page, PageRequest
from domain.contract import Contract

_C, _E = t.contracts.c, t.engagements.c


def _with_engagement() -> sa.Select[Any]:
    return sa.select(_C.id, _C.body, _E.id.label("engagement_id"), _E.state).outerjoin_from(
        t.contracts, t.engagements, _E.contract_id == _C.id
    )


class SqlAlchemyContractQueries(EngineQueries):
    """`ContractQueries` on the database."""

    def contracts(self, where: ContractFilter, page: PageRequest) -> Page[ContractSummaryView]:
        statement = _with_engagement()
        for value in (where.customer_id, where.visible_to):
            if value is not None:
                statement = statement.where(_C.customer_id == value)
        statement = keyset(statement, _C.id, page)
        with reading(self._engine) as connection:
            rows = connection.execute(statement).all()
        views = [ContractSummaryView.of(structure(r.body, Contract), r.state) for r in rows]
        return Page.from_rows(views, page, contract_key)

    def contract(self, contract_id: str) -> ContractView | None:
        with reading(self._engine) as connection:
            row = connection.execute(_with_engagement().where(_C.id == contract_id)).first()
        if row is None:
            return None
        return ContractView(structure(row.body, Contract), row.engagement_id, row.state)
