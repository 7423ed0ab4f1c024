"""The delivery screens' questions in SQL: an engagement's time entries through the
obligation index, filtered by month and paged by (work date, id) in the database."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, reading
from application.queries.delivery import TimeEntryFilter, TimeEntryView, time_entry_key
from application.queries.paging import InvalidPageRequestError, Page, PageRequest
from domain.contract import Contract


class SqlAlchemyDeliveryQueries(EngineQueries):
    """`DeliveryQueries` on the database."""

    def time_entries(self, where: TimeEntryFilter, page: PageRequest) -> Page[TimeEntryView] | None:
        e, x = t.engagements.c, t.time_entries.c
        with reading(self._engine) as connection:
            owner = connection.execute(
                sa.select(e.customer_id, t.contracts.c.body)
                .join_from(t.engagements, t.contracts, t.contracts.c.id == e.contract_id)
                .where(e.id == where.engagement_id)
            ).first()
            if owner is None or where.visible_to not in (None, owner.customer_id):
                return None
            obligations = structure(owner.body, Contract).obligation_ids()
            statement: sa.Select[Any] = sa.select(t.time_entries).where(
                x.obligation_id.in_(obligations)
            )
            if where.month is not None:
                statement = statement.where(x.work_date.between(where.month.start, where.month.end))
            if page.after is not None:
                day, entry_id = page.after[0], page.after[-1]
                after = sa.tuple_(x.work_date, x.entry_id) > sa.tuple_(
                    sa.literal(_day(day), sa.Date()), sa.literal(entry_id)
                )
                statement = statement.where(after)
            statement = statement.order_by(x.work_date, x.entry_id).limit(page.limit + 1)
            rows = connection.execute(statement).mappings().all()
        views = [TimeEntryView.of(codec.time_entry(row)) for row in rows]
        return Page.from_rows(views, page, time_entry_key)


def _day(text: str) -> date:
    """The work date a cursor names; a cursor of another list is refused."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidPageRequestError("the cursor is not one this API returned") from None
