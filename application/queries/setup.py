"""Setup's master data as people read it: rate cards (the list and one card with its versions
and proposals) and the firm's legal entities (the current version of each, and one entity's
every version)."""

from __future__ import annotations

from typing import Protocol

import attrs

from application.legal_entities import LegalEntityRecord
from application.queries.paging import Page, PageRequest
from application.queries.projection import projected
from domain.ratecard import RateCard


@attrs.frozen
class RateCardSummaryView:
    rate_card_id: str
    name: str
    currency: str
    versions: int
    proposals: int

    @classmethod
    def of(cls, card: RateCard) -> RateCardSummaryView:
        return projected(
            cls,
            card,
            currency=card.currency.code,
            versions=len(card.versions),
            proposals=len(card.proposals),
        )


def rate_card_key(view: RateCardSummaryView) -> tuple[str]:
    """The keyset of the rate-card list: its id."""
    return (view.rate_card_id,)


class RateCardQueries(Protocol):
    """The rate-card screens' questions, one call each."""

    def rate_cards(self, page: PageRequest) -> Page[RateCardSummaryView]: ...

    def rate_card(self, rate_card_id: str) -> RateCard | None: ...


class LegalEntityQueries(Protocol):
    """The legal-entity screens' questions, one call each."""

    def legal_entities(self) -> list[LegalEntityRecord]:
        """The current version of every legal entity, by id."""
        ...

    def legal_entity_versions(self, legal_entity_id: str) -> list[LegalEntityRecord]:
        """Every version of one legal entity, oldest first (empty: no such entity)."""
        ...
