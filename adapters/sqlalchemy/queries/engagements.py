"""The engagement screens' questions in SQL: the list filtered, sorted and paged by its key
columns, one engagement with its lifecycle path read by subject (an indexed column of the
audit trail) and its open setup exceptions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapters.serialization import structure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, keyset, reading
from application.queries.engagements import (
    EngagementFilter,
    EngagementSummary,
    EngagementView,
    lifecycle_path,
    subject_of,
    summary_key,
)
from application.queries.paging import Page, PageRequest
from application.records import IntegrationException
from domain.engagement import Engagement

_E = t.engagements


class SqlAlchemyEngagementQueries(EngineQueries):
    """`EngagementQueries` on the database."""

    def engagements(self, where: EngagementFilter, page: PageRequest) -> Page[EngagementSummary]:
        statement = sa.select(_E.c.id, _E.c.customer_id, _E.c.contract_id, _E.c.state)
        for column, value in (
            (_E.c.state, where.state),
            (_E.c.customer_id, where.customer_id),
            (_E.c.customer_id, where.visible_to),
        ):
            if value is not None:
                statement = statement.where(column == value)
        statement = keyset(statement, _E.c.id, page)
        with reading(self._engine) as connection:
            rows = connection.execute(statement).all()
        summaries = [EngagementSummary(r.id, r.customer_id, r.contract_id, r.state) for r in rows]
        return Page.from_rows(summaries, page, summary_key)

    def engagement(self, engagement_id: str) -> EngagementView | None:
        with reading(self._engine) as connection:
            row = connection.execute(sa.select(_E.c.body).where(_E.c.id == engagement_id)).first()
            if row is None:
                return None
            subject = subject_of(engagement_id)
            path = _path(connection, subject)
            exceptions = connection.execute(
                sa.select(t.integration_exceptions.c.body).where(
                    t.integration_exceptions.c.subject == subject
                )
            ).scalars()
            found = [structure(body, IntegrationException) for body in exceptions]
        return EngagementView.of(structure(row.body, Engagement), path, found)

    def lifecycle_path(self, engagement_id: str) -> tuple[str, ...]:
        with reading(self._engine) as connection:
            return _path(connection, subject_of(engagement_id))


def _path(connection: Connection, subject: str) -> tuple[str, ...]:
    log = t.audit_log
    statement: sa.Select[Any] = (
        sa.select(log.c.before, log.c.after)
        .where(log.c.subject == subject)
        .order_by(log.c.sequence)
    )
    return lifecycle_path((r.before, r.after) for r in connection.execute(statement))
