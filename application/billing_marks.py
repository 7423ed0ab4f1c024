"""What a committed billing run leaves settled (ADR 0048): per obligation, a mark that the
period has nothing left to bill, valid while the obligation's inputs stand as they stood.

Billing is a pure function of its inputs, and running it again on the ledger a commit left
proposes nothing for what that commit billed in full. So a committed run marks each obligation
it left settled with a stamp of what billing reads for it (the contract, the rate cards, its
time entries, expenses and milestones, its rows in the billed ledger); a later run of the same
period skips the obligations whose stamp has not changed, instead of re-rating everything to
find nothing. Any change to those inputs changes the stamp, and the obligation is billed again
in full. Storage computes the stamps (counts and revisions it already keeps), so asking costs
one aggregate read, not a load of the obligation's items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from domain.ids import ContractId, ObligationId
from domain.period import Period


class HasObligations(Protocol):
    """A contract, or its outline (`application.billing_reads.ContractOutline`)."""

    @property
    def contract_id(self) -> ContractId: ...

    def obligation_ids(self) -> Sequence[ObligationId]: ...


@attrs.frozen
class BillingStamp:
    """What billing reads for one obligation, as storage saw it: a digest of every input but
    the ledger, and how many ledger rows the obligation had (the last is storage's own)."""

    contract_id: ContractId
    inputs: str
    ledger_rows: int
    ledger_last: str


@attrs.frozen
class Observation:
    """The stamps of the obligations a run reads, taken before it reads them, and which of them
    a committed run of the period left settled with the same stamp."""

    period: Period
    stamps: Mapping[ObligationId, BillingStamp]
    settled: frozenset[ObligationId]

    def settles(self, contract: HasObligations) -> bool:
        """A contract is settled for the period when every obligation it has is."""
        obligations = contract.obligation_ids()
        return bool(obligations) and all(oid in self.settled for oid in obligations)


class BillingMarks(Protocol):
    """The settled marks of committed billing runs (ADR 0048)."""

    def observe(
        self, period: Period, obligations: Mapping[ObligationId, ContractId]
    ) -> Observation:
        """Stamp the obligations now (before the run reads them) and say which a committed
        run of the period left settled with that very stamp."""

    def mark(
        self,
        observation: Observation,
        obligations: Iterable[ObligationId],
        added: Mapping[ObligationId, int],
    ) -> None:
        """Mark the obligations settled for the observed period, with the stamp observed and
        the ledger as this unit of work leaves it; `added` says how many ledger rows this unit
        of work wrote for each. An obligation whose ledger changed otherwise since it was
        observed (another writer) is not marked."""


def obligations_of(contracts: Iterable[HasObligations]) -> dict[ObligationId, ContractId]:
    """Each obligation of the contracts, with its contract."""
    return {oid: c.contract_id for c in contracts for oid in c.obligation_ids()}
