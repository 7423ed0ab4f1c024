"""Whether a batch of time can reach an obligation's blocking cap at all.

A cap whose policy is `block` refuses, at ingestion, the entry that would take the obligation's
billable total over it; checking it exactly prices every entry the obligation holds. Most
batches are nowhere near the cap: an upper bound of the billable total after the whole batch,
taken from the recorded time summed by role and work date, settles it. Only when the bound
reaches a cap (or when some time could not be priced) does admission price entry by entry.

The bound: an entry's billable hours are at most its hours plus one billing increment (rounding
adds less than one increment; the daily cap only takes hours away), and its amount at most
those hours at the highest rate any version of the obligation's rate cards has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import attrs

from domain.billing import ObligationHistory
from domain.errors import DomainError
from domain.ids import RateCardId, ResourceId, Role
from domain.money import EXACT, dsum
from domain.overage import OveragePolicy
from domain.ratecard import RateCard
from domain.time_and_materials import TimeAndMaterialsTerms


@attrs.frozen
class RecordedTime:
    """An obligation's recorded time of one role on one work date, billable or not: how many
    entries and their hours."""

    role: Role
    work_date: date
    billable: bool
    entries: int
    hours: Decimal


@attrs.frozen
class CandidateTime:
    """One entry a batch brings to the obligation."""

    role: Role
    resource_id: ResourceId
    work_date: date
    billable: bool
    hours: Decimal


def cap_out_of_reach(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    recorded: Iterable[RecordedTime],
    batch: Iterable[CandidateTime],
) -> bool:
    """No entry of the batch can cross a blocking cap: every recorded and new entry can be
    priced, and the bound of the billable total after the whole batch is within every cap
    that blocks."""
    if not all(isinstance(v.terms, TimeAndMaterialsTerms) for v in history.versions):
        return False
    recorded, batch = list(recorded), list(batch)
    if not all(_priceable_by_role(history, rate_cards, r.role, r.work_date) for r in recorded):
        return False
    if not all(_priceable(history, rate_cards, c) for c in batch):
        return False
    rate = _highest_rate(history, rate_cards)
    if rate is None:
        return False
    billable = [(r.entries, r.hours) for r in recorded if r.billable]
    billable += [(1, c.hours) for c in batch if c.billable]
    increment = max(v.terms.billing_increment or Decimal(0) for v in history.versions)
    hours = EXACT.add(
        dsum(h for _, h in billable),
        EXACT.multiply(Decimal(sum(n for n, _ in billable)), increment),
    )
    amount = EXACT.multiply(hours, rate)
    for version in history.versions:
        cap = version.terms.cap
        if cap is None or cap.policy is not OveragePolicy.BLOCK:
            continue
        if (cap.hours is not None and hours > cap.hours) or (
            cap.amount is not None and amount > cap.amount
        ):
            return False
    return True


def _card_on(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    on: date,
) -> RateCard | None:
    in_force = history.on(on)
    return None if in_force is None else rate_cards.get(in_force.terms.rate_card_id)


def _priceable_by_role(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    role: Role,
    on: date,
) -> bool:
    """The role has a rate of its own on the date (whoever did the work)."""
    card = _card_on(history, rate_cards, on)
    if card is None:
        return False
    try:
        return role in card.version_in_force(on).role_rates
    except DomainError:
        return False


def _priceable(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    candidate: CandidateTime,
) -> bool:
    card = _card_on(history, rate_cards, candidate.work_date)
    if card is None:
        return False
    try:
        card.rate_for(candidate.role, candidate.resource_id, candidate.work_date)
    except DomainError:
        return False
    return True


def _highest_rate(
    history: ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
) -> Decimal | None:
    """The highest rate of any version of the obligation's rate cards (None when a card is
    missing or a rate is negative: then no bound is taken)."""
    rates: list[Decimal] = []
    for version in history.versions:
        card = rate_cards.get(version.terms.rate_card_id)
        if card is None:
            return None
        for card_version in card.versions:
            rates += card_version.role_rates.values()
            rates += card_version.resource_overrides.values()
    if any(rate < 0 for rate in rates):
        return None
    return max(rates, default=Decimal(0))
