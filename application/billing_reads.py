"""What a billing run reads in bulk, as it reads it: a port of its own, apart from the
delivery store, because a run reads every open item of thousands of obligations at once and
changes almost none of them.

The items come as values for billing, not as entries the unit of work tracks: the few a run
does change (an exclusion held or written off) are read again through `uow.delivery`, which
checks their revision when it saves them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from domain.ids import ObligationId
from domain.time_entry import TimeEntry


class BillingReads(Protocol):
    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        """Every time entry of the obligations, each obligation's in entry-id order."""
        ...
