"""Setup's master data in SQL: rate cards paged by id in the database, and the legal entities
through the master-data store's own statements (the latest version per entity is one grouped
query)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.serialization import structure
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.queries.reading import EngineQueries, keyset, reading, stored
from adapters.sqlalchemy.repository_base import Session
from adapters.sqlalchemy.stores import SqlAlchemyMasterData
from application.legal_entities import LegalEntityRecord
from application.queries.paging import Page, PageRequest
from application.queries.setup import RateCardSummaryView, rate_card_key
from domain.ratecard import RateCard

_R = t.rate_cards.c


class SqlAlchemyRateCardQueries(EngineQueries):
    """`RateCardQueries` on the database."""

    def rate_cards(self, page: PageRequest) -> Page[RateCardSummaryView]:
        statement = keyset(sa.select(_R.body), _R.id, page)
        with reading(self._engine) as connection:
            bodies = connection.execute(statement).scalars().all()
        views = [RateCardSummaryView.of(structure(body, RateCard)) for body in bodies]
        return Page.from_rows(views, page, rate_card_key)

    def rate_card(self, rate_card_id: str) -> RateCard | None:
        with reading(self._engine) as connection:
            return stored(connection, t.rate_cards, rate_card_id, RateCard)


class SqlAlchemyLegalEntityQueries(EngineQueries):
    """`LegalEntityQueries` on the database."""

    def legal_entities(self) -> list[LegalEntityRecord]:
        with reading(self._engine) as connection:
            return SqlAlchemyMasterData(Session(connection)).legal_entities()

    def legal_entity_versions(self, legal_entity_id: str) -> list[LegalEntityRecord]:
        with reading(self._engine) as connection:
            return SqlAlchemyMasterData(Session(connection)).legal_entity_versions(legal_entity_id)
