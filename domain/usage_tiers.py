"""Tiered unit prices for usage: bands of units, priced graduated or by volume.

A band holds the units above `above` up to and including `up_to` (the last band has no upper
end). The first band starts at zero units and each next band starts where the one before it
ends, so every quantity falls in exactly one band.

- **Graduated**: each band's units are priced at that band's price. 250 units over bands of
  100 at 1.00 and then 0.80 are 100 x 1.00 + 150 x 0.80 = 220.00.
- **Volume**: every unit is priced at the price of the band the total falls in. The same 250
  units are 250 x 0.80 = 200.00; exactly 100 units stay in the first band (100.00).

Values here are exact; the usage model rounds a period's value once, to minor units.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from itertools import pairwise

import attrs

from domain.errors import InvalidTermsError
from domain.money import EXACT

ZERO = Decimal(0)


class TierPricing(Enum):
    """How tiers price a period's units: band by band, or all at the band the total reaches."""

    GRADUATED = "graduated"
    VOLUME = "volume"


@attrs.frozen
class UsageTier:
    """The units above `above` up to `up_to` (no upper end when None), at `unit_price` each."""

    above: Decimal
    unit_price: Decimal
    up_to: Decimal | None = None

    def units_of(self, quantity: Decimal) -> Decimal:
        """How many of `quantity` units fall in this band."""
        top = quantity if self.up_to is None else min(quantity, self.up_to)
        return max(ZERO, EXACT.subtract(top, self.above))

    def holds(self, quantity: Decimal) -> bool:
        """A total of `quantity` units falls in this band (zero falls in the first)."""
        return (quantity > self.above or self.above == 0) and (
            self.up_to is None or quantity <= self.up_to
        )


def check_tiers(tiers: Sequence[UsageTier], where: str) -> None:
    """Bands start at zero, follow each other without gap or overlap, grow, and the last is
    open-ended; no price is negative."""
    if not tiers:
        raise InvalidTermsError(f"{where}: usage terms need at least one tier")
    if tiers[0].above != 0:
        raise InvalidTermsError(f"{where}: the first tier starts at zero units")
    for before, after in pairwise(tiers):
        if before.up_to is None or after.above != before.up_to:
            raise InvalidTermsError(
                f"{where}: a tier starts where the one before it ends "
                f"({before.up_to}), not at {after.above}"
            )
    for tier in tiers:
        if tier.up_to is not None and tier.up_to <= tier.above:
            raise InvalidTermsError(
                f"{where}: the tier above {tier.above} must end above it, not at {tier.up_to}"
            )
        if tier.unit_price < 0:
            raise InvalidTermsError(f"{where}: a tier's unit price cannot be negative")
    if tiers[-1].up_to is not None:
        raise InvalidTermsError(f"{where}: the last tier has no upper end")


def band_of(tiers: Sequence[UsageTier], quantity: Decimal) -> UsageTier:
    """The band a total of `quantity` units falls in."""
    return next(tier for tier in tiers if tier.holds(quantity))


def tiered_value(tiers: Sequence[UsageTier], pricing: TierPricing, quantity: Decimal) -> Decimal:
    """The exact value of a period's total units under the tiers."""
    if pricing is TierPricing.VOLUME:
        return EXACT.multiply(quantity, band_of(tiers, quantity).unit_price)
    total = ZERO
    for tier in tiers:
        total = EXACT.add(total, EXACT.multiply(tier.units_of(quantity), tier.unit_price))
    return total


def record_values(
    tiers: Sequence[UsageTier], pricing: TierPricing, quantities: Sequence[Decimal]
) -> list[Decimal]:
    """Each record's exact share of the period's value, records taken in order: graduated, the
    bands its units fill on top of the records before it; volume, its units at the price of the
    band the total falls in. The shares add up exactly to the period's value."""
    if pricing is TierPricing.VOLUME:
        total = ZERO
        for quantity in quantities:
            total = EXACT.add(total, quantity)
        price = band_of(tiers, total).unit_price
        return [EXACT.multiply(quantity, price) for quantity in quantities]
    values, before, value_before = [], ZERO, ZERO
    for quantity in quantities:
        after = EXACT.add(before, quantity)
        value_after = tiered_value(tiers, pricing, after)
        values.append(EXACT.subtract(value_after, value_before))
        before, value_before = after, value_after
    return values
