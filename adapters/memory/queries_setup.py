"""Setup's master data over the in-memory store (the same answers as SQL)."""

from __future__ import annotations

from adapters.memory.queries_paging import page_of
from adapters.memory.store import StoreQueries, _MasterData
from application.legal_entities import LegalEntityRecord
from application.queries.paging import Page, PageRequest
from application.queries.setup import RateCardSummaryView, rate_card_key
from domain.ratecard import RateCard


class InMemoryRateCardQueries(StoreQueries):
    """`RateCardQueries` on the in-memory store."""

    def rate_cards(self, page: PageRequest) -> Page[RateCardSummaryView]:
        cards: dict[str, RateCard] = self._store.data.aggregates.get("rate_card", {})
        return page_of(
            [RateCardSummaryView.of(card) for card in cards.values()], rate_card_key, page
        )

    def rate_card(self, rate_card_id: str) -> RateCard | None:
        cards: dict[str, RateCard] = self._store.data.aggregates.get("rate_card", {})
        return cards.get(rate_card_id)


class InMemoryLegalEntityQueries(StoreQueries):
    """`LegalEntityQueries` on the in-memory store."""

    def legal_entities(self) -> list[LegalEntityRecord]:
        return _MasterData(self._store.data).legal_entities()

    def legal_entity_versions(self, legal_entity_id: str) -> list[LegalEntityRecord]:
        return _MasterData(self._store.data).legal_entity_versions(legal_entity_id)
