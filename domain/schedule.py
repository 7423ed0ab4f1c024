"""Fee schedules that always sum to the fee: installments of a fixed fee, milestones of a
milestone fee.

Parts already billed keep exactly what they billed; whatever is left of the fee (after a
change order, the new fee) is split over the unbilled parts by largest remainder on integer
minor units, in proportion to their weights (percentages or amounts).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar

from domain.errors import DomainError
from domain.money import Money, dsum, largest_remainder

K = TypeVar("K", bound=Hashable)


class FeeBelowBilledError(DomainError):
    """A fee cannot be lowered below what its schedule has already billed."""

    code = "fee_below_billed"


class UnscheduledFeeError(DomainError):
    """Fee left over once every part is billed has no part to bill it."""

    code = "fee_not_scheduled"


def split_fee(
    owner: str,
    fee: Money,
    parts: Sequence[tuple[K, Decimal]],
    already_billed: Mapping[K, Money],
) -> dict[K, Money]:
    """Each part's amount, summing exactly to the fee (see the module docstring)."""
    billed_minor = sum(amount.minor for amount in already_billed.values())
    remaining = fee.minor - billed_minor
    if remaining < 0:
        billed = Money.from_minor(billed_minor, fee.currency)
        raise FeeBelowBilledError(
            f"{owner}: the fee {fee} is below the {billed} already billed; "
            "a credit memo is needed to give the difference back"
        )
    unbilled = [(key, weight) for key, weight in parts if key not in already_billed]
    if not unbilled and remaining:
        raise UnscheduledFeeError(
            f"{owner}: every part of the schedule is billed but "
            f"{Money.from_minor(remaining, fee.currency)} of the fee is not; "
            "add an installment or milestone for it"
        )
    weights = [weight for _, weight in unbilled]
    if remaining == 0 or not unbilled:
        shares = [0] * len(unbilled)
    elif dsum(weights) == 0:
        # Only zero-weight parts are left: nothing says how to weigh them, so evenly.
        shares = largest_remainder(remaining, [1] * len(unbilled))
    else:
        shares = largest_remainder(remaining, weights)
    by_key = {key: share for (key, _), share in zip(unbilled, shares, strict=True)}
    schedule: dict[K, Money] = {}
    for key, _ in parts:
        if key in already_billed:
            schedule[key] = already_billed[key]
        else:
            schedule[key] = Money.from_minor(by_key[key], fee.currency)
    # A part a change order dropped after it was billed still keeps its amount.
    for key, amount in already_billed.items():
        schedule.setdefault(key, amount)
    return schedule
