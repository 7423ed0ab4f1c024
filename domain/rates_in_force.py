"""The rate an hour is billed at: the obligation's terms and the rate-card version in force on
its work date, and the label naming both (what every T&M line and re-rating shows)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, TypeAlias

from domain.billing import ObligationHistory, TermsInForce
from domain.errors import NoTermsInForceError, RateNotFoundError
from domain.ids import RateCardId, ResourceId, Role
from domain.money import Money
from domain.ratecard import RateCard, RateCardVersion
from domain.time_rows import BillableTime

if TYPE_CHECKING:
    from domain.time_and_materials import TimeAndMaterialsTerms


def rate_in_force(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entry: BillableTime,
) -> tuple[TimeAndMaterialsTerms, Money, str]:
    """An entry rates under the terms and rate-card version in force on its work date."""
    in_force, card = _terms_and_card(history, rate_cards, entry)
    rate, card_version = card.rate_for(entry.role, entry.resource_id, entry.work_date)
    return in_force.terms, rate, f"{in_force.label}, rate card {card.rate_card_id} v{card_version}"


def _terms_and_card(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entry: BillableTime,
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


#: What holds for a work date: the terms, the card, its version in force and the label.
_Day: TypeAlias = tuple["TimeAndMaterialsTerms", RateCard, RateCardVersion, str]


class RatesInForce:
    """`rate_in_force` over the entries of one obligation, asked once: the terms and the
    rate-card version are found once per span of days no version of either begins in, each
    rate once per version, role and resource override, so the entries sharing them share the
    terms, the rate and the label."""

    def __init__(
        self,
        history: ObligationHistory[TimeAndMaterialsTerms],
        rate_cards: Mapping[RateCardId, RateCard],
    ) -> None:
        self._history, self._rate_cards = history, rate_cards
        self._days: dict[date, _Day] = {}
        self._rates: dict[tuple[int, Role, ResourceId | None], Money] = {}
        #: The last day's answer and the days it holds for, [first, until); None: open-ended.
        self._span: tuple[date, date | None, _Day] | None = None

    def of(self, entry: BillableTime) -> tuple[TimeAndMaterialsTerms, Money, str]:
        """What `rate_in_force` says of the entry, refusals included."""
        work_date, span = entry.work_date, self._span
        if span is not None and span[0] <= work_date and (span[1] is None or work_date < span[1]):
            day = span[2]
        else:
            found = self._days.get(work_date)
            if found is None:
                found = self._days[work_date] = self._day(entry)
            day = found
            self._span = (*self._bounds(day[1], work_date), day)
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

    def _bounds(self, card: RateCard, day: date) -> tuple[date, date | None]:
        """The days around `day` on which no version of the terms or of the card begins: on
        each of them both choose among the same versions, so give the same answer."""
        starts = [v.effective_from for v in self._history.versions]
        starts += [v.effective_from for v in card.versions]
        first = max((d for d in starts if d <= day), default=date.min)
        until = min((d for d in starts if d > day), default=None)
        return first, until

    def _day(self, entry: BillableTime) -> _Day:
        in_force, card = _terms_and_card(self._history, self._rate_cards, entry)
        version = card.version_in_force(entry.work_date)
        label = f"{in_force.label}, rate card {card.rate_card_id} v{version.version}"
        return in_force.terms, card, version, label
