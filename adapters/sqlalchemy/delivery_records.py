"""Records of declared delivery kinds in SQL (ADR 0050): `delivery_records` holds each record's
current revision, `delivery_record_revisions` every revision it had. One table pair serves
every kind; the record's fields are a JSON payload through the one converter.

A correction updates the current row only from the revision it was read at, so two writers
correcting the same record cannot both win: the second is a conflict.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import sqlalchemy as sa

from adapters.sqlalchemy import codec
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repository_base import Session, chunks
from application.errors import ConflictError
from application.queries.paging import Page, PageRequest
from domain.delivery_kinds import DeliveryRecords
from domain.ids import ObligationId
from domain.reported_record import ReportedRecord


class SqlAlchemyDeliveryRecords:
    def __init__(self, session: Session) -> None:
        self._session = session

    def with_ids(self, kind: str, record_ids: Iterable[str]) -> dict[str, ReportedRecord]:
        table, found = t.delivery_records, {}
        for clause in self._session.among(table.c.record_id, record_ids):
            statement = sa.select(table).where(table.c.kind == kind, clause)
            for row in self._session.connection.execute(statement).mappings():
                reported = codec.reported_record(row)
                found[reported.record_id] = reported
        return found

    def add(self, records: Sequence[ReportedRecord]) -> None:
        rows = [codec.delivery_record_row(r) for r in records]
        for batch in chunks(rows, 500):
            self._session.connection.execute(sa.insert(t.delivery_records), batch)
            self._session.connection.execute(sa.insert(t.delivery_record_revisions), batch)
        for reported in records:
            self._session.saw(reported)

    def save(self, records: Sequence[ReportedRecord]) -> None:
        table = t.delivery_records
        for reported in records:
            row = codec.delivery_record_row(reported)
            statement = (
                sa.update(table)
                .where(
                    table.c.kind == reported.kind,
                    table.c.record_id == reported.record_id,
                    table.c.revision == reported.revision - 1,
                )
                .values(
                    occurred_on=row["occurred_on"],
                    revision=row["revision"],
                    payload=row["payload"],
                    reported_at=row["reported_at"],
                )
            )
            if self._session.connection.execute(statement).rowcount != 1:
                raise ConflictError(
                    f"{reported.kind} {reported.record_id} was corrected by someone else meanwhile"
                )
            self._session.connection.execute(sa.insert(t.delivery_record_revisions), [row])
            self._session.saw(reported)

    def for_obligations(self, obligations: Iterable[ObligationId]) -> DeliveryRecords:
        table, found = t.delivery_records, []
        for clause in self._session.among(table.c.obligation_id, obligations):
            statement = sa.select(table).where(clause)
            rows = self._session.connection.execute(statement).mappings()
            found.extend(codec.reported_record(row).record for row in rows)
        return DeliveryRecords.of(found)

    def page(
        self, kind: str, obligations: Collection[ObligationId] | None, request: PageRequest
    ) -> Page[ReportedRecord]:
        table = t.delivery_records
        statement = sa.select(table).where(table.c.kind == kind)
        if obligations is not None:
            statement = statement.where(table.c.obligation_id.in_(sorted(obligations)))
        if request.after is not None:
            statement = statement.where(table.c.record_id > request.after[0])
        statement = statement.order_by(table.c.record_id).limit(request.limit + 1)
        rows = self._session.connection.execute(statement).mappings()
        return Page.from_rows(
            [codec.reported_record(row) for row in rows], request, lambda r: (r.record_id,)
        )

    def revisions(self, kind: str, record_id: str) -> list[ReportedRecord]:
        table = t.delivery_record_revisions
        statement = (
            sa.select(table)
            .where(table.c.kind == kind, table.c.record_id == record_id)
            .order_by(table.c.revision)
        )
        rows = self._session.connection.execute(statement).mappings()
        return [codec.reported_record(row) for row in rows]
