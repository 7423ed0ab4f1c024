"""The milestone screens' questions in SQL: an engagement's milestones through its contract's
obligations (the obligation index), paged by (obligation, id) in the database; one milestone
with the contract that holds its obligation and that contract's engagement."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.serialization import structure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, reading, stored
from application.queries.milestones import MilestoneView, milestone_key
from application.queries.paging import Page, PageRequest
from domain.contract import Contract
from domain.milestone import Milestone

_M = t.milestones.c


class SqlAlchemyMilestoneQueries(EngineQueries):
    """`MilestoneQueries` on the database."""

    def milestones(
        self, engagement_id: str, visible_to: str | None, page: PageRequest
    ) -> Page[MilestoneView] | None:
        e = t.engagements.c
        with reading(self._engine) as connection:
            owner = connection.execute(
                sa.select(e.customer_id, e.contract_id, t.contracts.c.body)
                .join_from(t.engagements, t.contracts, t.contracts.c.id == e.contract_id)
                .where(e.id == engagement_id)
            ).first()
            if owner is None or visible_to not in (None, owner.customer_id):
                return None
            obligations = structure(owner.body, Contract).obligation_ids()
            statement: sa.Select[Any] = sa.select(_M.body).where(_M.obligation_id.in_(obligations))
            if page.after is not None:
                statement = statement.where(
                    sa.tuple_(_M.obligation_id, _M.id)
                    > sa.tuple_(sa.literal(page.after[0]), sa.literal(page.after[-1]))
                )
            statement = statement.order_by(_M.obligation_id, _M.id).limit(page.limit + 1)
            bodies = connection.execute(statement).scalars().all()
        views = [
            MilestoneView.of(
                structure(body, Milestone), owner.contract_id, owner.customer_id, engagement_id
            )
            for body in bodies
        ]
        return Page.from_rows(views, page, milestone_key)

    def milestone(self, milestone_id: str) -> MilestoneView | None:
        with reading(self._engine) as connection:
            milestone = stored(connection, t.milestones, milestone_id, Milestone)
            if milestone is None:
                return None
            contract = _contract_holding(connection, milestone.obligation_id)
            if contract is None:
                return None
            engagement_id = connection.execute(
                sa.select(t.engagements.c.id).where(
                    t.engagements.c.contract_id == contract.contract_id
                )
            ).scalar_one_or_none()
        return MilestoneView.of(
            milestone, contract.contract_id, contract.customer_id, engagement_id
        )


def _contract_holding(connection: Connection, obligation_id: str) -> Contract | None:
    """The contract one of whose binding versions holds the obligation (contracts keep their
    obligations inside the snapshot, so they are read and asked one by one)."""
    for body in connection.execute(
        sa.select(t.contracts.c.body).order_by(t.contracts.c.id)
    ).scalars():
        contract = structure(body, Contract)
        if obligation_id in contract.obligation_ids():
            return contract
    return None
