"""Disputes on an invoice: opened with a reason, ended by an explicit resolution.

A dispute ends in one of three ways, each recorded with its resolution: someone resolves it
(the invoice stands), a credit memo that says it resolves the dispute is issued, or a credit
leaves nothing to collect (the invoice is credited in full). A credit that does not say so
leaves the dispute open. The invoice keeps every dispute it had, so the reason of a resolved
dispute is history, never the current state (ADR 0012).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from domain.errors import DomainError, IllegalTransitionError


class NoOpenDisputeError(IllegalTransitionError):
    """Only an open dispute can be resolved, by a person or by a credit memo."""

    code = "no_open_dispute"


@attrs.frozen
class Dispute:
    """One dispute of an invoice: why it was opened and, once ended, how it ended."""

    reason: str
    #: None only for a dispute opened before disputes were kept with their dates.
    opened_at: datetime | None
    resolution: str | None = None
    resolved_at: datetime | None = None
    #: The credit memo whose issue ended the dispute (None: resolved without a credit).
    credit_memo_id: str | None = None

    @classmethod
    def open(cls, reason: str, at: datetime) -> Dispute:
        """A dispute needs a reason."""
        if not reason.strip():
            raise DomainError("a dispute needs a reason")
        return cls(reason, at)

    @property
    def is_open(self) -> bool:
        return self.resolution is None

    def resolved(self, resolution: str, at: datetime, credit_memo_id: str | None = None) -> Dispute:
        """A dispute is resolved once, with a stated resolution."""
        if not self.is_open:
            raise NoOpenDisputeError(f"the dispute {self.reason!r} is already resolved")
        if not resolution.strip():
            raise DomainError("a dispute is resolved with a stated resolution")
        return attrs.evolve(
            self, resolution=resolution, resolved_at=at, credit_memo_id=credit_memo_id
        )
