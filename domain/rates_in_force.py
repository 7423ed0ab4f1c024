"""The rate an hour is billed at: the obligation's terms and the rate-card version in force on
its work date, and the label naming both (what every T&M line and re-rating shows)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from domain.billing import ObligationHistory, TermsInForce
from domain.errors import NoTermsInForceError, RateNotFoundError
from domain.ids import RateCardId, ResourceId, Role
from domain.money import Money
from domain.ratecard import RateCard, RateCardVersion
from domain.time_entry import TimeEntry

if TYPE_CHECKING:
    from domain.time_and_materials import TimeAndMaterialsTerms


def rate_in_force(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entry: TimeEntry,
) -> tuple[TimeAndMaterialsTerms, Money, str]:
    """An entry rates under the terms and rate-card version in force on its work date."""
    in_force, card = _terms_and_card(history, rate_cards, entry)
    rate, card_version = card.rate_for(entry.role, entry.resource_id, entry.work_date)
    return in_force.terms, rate, f"{in_force.label}, rate card {card.rate_card_id} v{card_version}"


def _terms_and_card(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entry: TimeEntry,
) -> tuple[TermsInForce[TimeAndMaterialsTerms], RateCard]:
    in_force = history.on(entry.work_date)
    if in_force is None:
        raise NoTermsInForceError(
            f"time entry {entry.entry_id} on {entry.work_date} precedes obligation "
            f"{history.obligation_id}"
        )
    card = rate_cards.get(in_force.terms.rate_card_id)
    if card is None:
        raise NoTermsInForceError(f"rate card {in_force.terms.rate_card_id} is unknown")
    return in_force, card


class RatesInForce:
    """`rate_in_force` over the entries of one obligation, asked once: the terms and the
    rate-card version are found once per work date, each rate once per version, role and
    resource override, so the entries sharing them share the terms, the rate and the label."""

    def __init__(
        self,
        history: ObligationHistory[TimeAndMaterialsTerms],
        rate_cards: Mapping[RateCardId, RateCard],
    ) -> None:
        self._history, self._rate_cards = history, rate_cards
        self._days: dict[date, tuple[TimeAndMaterialsTerms, RateCard, RateCardVersion, str]] = {}
        self._rates: dict[tuple[int, Role, ResourceId | None], Money] = {}

    def of(self, entry: TimeEntry) -> tuple[TimeAndMaterialsTerms, Money, str]:
        """What `rate_in_force` says of the entry, refusals included."""
        day = self._days.get(entry.work_date)
        if day is None:
            day = self._days[entry.work_date] = self._day(entry)
        terms, card, version, label = day
        resource = entry.resource_id if entry.resource_id in version.resource_overrides else None
        key = (id(version), entry.role, resource)
        rate = self._rates.get(key)
        if rate is None:
            try:
                rate = self._rates[key] = version.rate_for(entry.role, resource)
            except RateNotFoundError:
                card.rate_for(entry.role, entry.resource_id, entry.work_date)  # names the card
                raise
        return terms, rate, label

    def _day(
        self, entry: TimeEntry
    ) -> tuple[TimeAndMaterialsTerms, RateCard, RateCardVersion, str]:
        in_force, card = _terms_and_card(self._history, self._rate_cards, entry)
        version = card.version_in_force(entry.work_date)
        label = f"{in_force.label}, rate card {card.rate_card_id} v{version.version}"
        return in_force.terms, card, version, label
