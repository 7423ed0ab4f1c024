"""Overage policies: what happens to work beyond what an obligation allows.

One list of policies serves every billing model that has a limit. A time-and-materials cap
splits the entry that crosses it and applies the policy to the part above (ADR 0007); a
retainer applies it to hours used beyond the balance (ADR 0011) and accepts only `bill` and
`hold`. The values are the strings stored in snapshots and carried by the HTTP API.
"""

from __future__ import annotations

from enum import Enum


class OveragePolicy(Enum):
    """What happens to work above a limit: bill and flag, hold, write off, or block."""

    BILL = "bill"
    HOLD = "hold"
    WRITE_OFF = "write_off"
    BLOCK = "block"
