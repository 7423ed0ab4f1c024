"""What a billing run reads in bulk, as it reads it: a port of its own, apart from the
delivery store and the repositories, because a run reads every open item of thousands of
obligations at once and changes almost none of them.

The items come as values for billing, not as entries the unit of work tracks: the few a run
does change (an exclusion held or written off) are read again through `uow.delivery`, which
checks their revision when it saves them. The contracts too: a run reads them a chunk at a
time and changes none (ADR 0060), so before its first chunk it lists only their outlines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import attrs

from domain.contract import Contract
from domain.engagement import EngagementState
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId
from domain.time_entry import TimeEntry
from domain.time_rows import TimeRow


@attrs.frozen
class ContractOutline:
    """What a billing run must know of a contract before it reads it: the obligations it has
    (`Contract.obligation_ids`, what the settled marks stamp), the state of its engagement
    (None: it has none), and who it bills from which legal entity (all a run checks of a
    contract it leaves settled, so such a contract is never read in full)."""

    contract_id: ContractId
    obligations: tuple[ObligationId, ...]
    engagement_state: EngagementState | None
    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    payers: tuple[CustomerId, ...]

    def obligation_ids(self) -> tuple[ObligationId, ...]:
        """As the contract's own: every obligation any binding version has held."""
        return self.obligations

    def payer_ids(self) -> list[CustomerId]:
        """As the contract's own: the customer and every payer a binding version names."""
        return list(self.payers)


class BillingReads(Protocol):
    def time_entries_for(self, obligations: Iterable[ObligationId]) -> list[TimeEntry]:
        """Every time entry of the obligations, each obligation's in entry-id order."""
        ...

    def time_rows_for(self, obligations: Iterable[ObligationId]) -> list[TimeRow]:
        """`time_entries_for` as rows: what pricing reads of each entry, no entity (ADR 0069)."""
        ...

    def outlines(self, contracts: Iterable[ContractId] | None = None) -> list[ContractOutline]:
        """The outline of every contract (None), in the order `contracts.all()` gives them,
        or of those of the ids given that exist, in id order. An engagement of a contract
        with several is the one `engagements.for_contracts` gives."""
        ...

    def outlines_after(self, after: ContractId | None, limit: int) -> list[ContractOutline]:
        """The outlines of the first `limit` contracts whose id comes after `after` (None:
        from the first), in id order as Python orders strings: a billing run pages through
        every contract so that it holds a page of outlines, not all of them (ADR 0060)."""
        ...

    def contracts(self, contracts: Iterable[ContractId]) -> list[Contract]:
        """The contracts of these ids that exist, in id order, as values the unit of work
        does not track (a run changes none of them)."""
        ...
