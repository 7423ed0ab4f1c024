"""Overage policies: what happens to work beyond what an obligation allows.

One list of policies serves every billing model that has a limit. A time-and-materials cap
splits the entry that crosses it and applies the policy to the part above (ADR 0007); a
retainer applies it to hours used beyond the balance (ADR 0011) and accepts only `bill` and
`hold`. The values are the strings stored in snapshots and carried by the HTTP API.
`NotToExceed` is the cap a T&M obligation names (importable from `domain.time_and_materials`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import attrs

from domain.errors import InvalidTermsError


class OveragePolicy(Enum):
    """What happens to work above a limit: bill and flag, hold, write off, or block."""

    BILL = "bill"
    HOLD = "hold"
    WRITE_OFF = "write_off"
    BLOCK = "block"


@attrs.frozen
class NotToExceed:
    """A cap on billed amount and/or billed hours for one obligation."""

    amount: Decimal | None = None
    hours: Decimal | None = None
    policy: OveragePolicy = OveragePolicy.HOLD

    def __attrs_post_init__(self) -> None:
        if self.amount is None and self.hours is None:
            raise InvalidTermsError("a not-to-exceed cap needs an amount, hours or both")
        if (self.amount is not None and self.amount < 0) or (
            self.hours is not None and self.hours < 0
        ):
            raise InvalidTermsError("caps cannot be negative")
