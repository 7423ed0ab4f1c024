"""The engagement: the lifecycle aggregate tying a contract, its project and its billing together.

A won deal is `proposed`; an approved contract version makes it `contracted`; setup in the
downstream systems runs while it is `provisioning` (and parks in `setup_blocked` on a typed
exception until a replay resumes it); delivery happens while it is `active` (or `suspended`);
`closing` takes no new time except for work done before the close date, and ends `closed`.
A deal dropped before setup starts is `cancelled`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum

import attrs

from domain.errors import DomainError, IllegalTransitionError
from domain.ids import ContractId, CustomerId, EngagementId
from domain.lifecycle import Lifecycled, LifecycleTable


class EngagementState(StrEnum):
    PROPOSED = "proposed"
    CONTRACTED = "contracted"
    PROVISIONING = "provisioning"
    SETUP_BLOCKED = "setup_blocked"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSING = "closing"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class EngagementTrigger(StrEnum):
    CONTRACT = "contract"
    START_PROVISIONING = "start_provisioning"
    BLOCK_SETUP = "block_setup"
    RESUME_PROVISIONING = "resume_provisioning"
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    RESUME = "resume"
    START_CLOSING = "start_closing"
    CLOSE = "close"
    CANCEL = "cancel"


_S = EngagementState
_T = EngagementTrigger

ENGAGEMENT_LIFECYCLE: LifecycleTable[EngagementState, EngagementTrigger] = LifecycleTable(
    "engagement",
    EngagementState,
    EngagementTrigger,
    [
        (_T.CONTRACT, _S.PROPOSED, _S.CONTRACTED),
        (_T.START_PROVISIONING, _S.CONTRACTED, _S.PROVISIONING),
        (_T.BLOCK_SETUP, _S.PROVISIONING, _S.SETUP_BLOCKED),
        (_T.RESUME_PROVISIONING, _S.SETUP_BLOCKED, _S.PROVISIONING),
        (_T.ACTIVATE, _S.PROVISIONING, _S.ACTIVE),
        (_T.SUSPEND, _S.ACTIVE, _S.SUSPENDED),
        (_T.RESUME, _S.SUSPENDED, _S.ACTIVE),
        (_T.START_CLOSING, _S.ACTIVE, _S.CLOSING),
        (_T.CLOSE, _S.CLOSING, _S.CLOSED),
        (_T.CANCEL, [_S.PROPOSED, _S.CONTRACTED], _S.CANCELLED),
    ],
)


class EngagementReasonRequiredError(DomainError):
    """Blocking a setup, suspending and cancelling an engagement each need a stated reason."""

    code = "engagement_reason_required"


class TimeNotAcceptedError(DomainError):
    """Time is accepted only while active, or while closing for work before the close date."""

    code = "engagement_not_accepting_time"


class FinalBillingPendingError(DomainError):
    """A closing engagement closes once its final billing is done: nothing approved is left to
    bill, hold or write off through its close date, and no item waits for a decision."""

    code = "final_billing_pending"


class ContractCustomerMismatchError(DomainError):
    """An engagement and its contract name the same customer: a deal won for one customer is
    never delivered or billed under another customer's contract."""

    code = "contract_customer_mismatch"


# Events ------------------------------------------------------------------------------------


@attrs.frozen
class EngagementEvent:
    """Something that happened to one engagement, at a moment given by the caller."""

    engagement_id: EngagementId
    at: datetime


@attrs.frozen
class EngagementProposed(EngagementEvent):
    customer_id: CustomerId
    contract_id: ContractId


@attrs.frozen
class EngagementContracted(EngagementEvent):
    pass


@attrs.frozen
class EngagementProvisioningStarted(EngagementEvent):
    pass


@attrs.frozen
class EngagementSetupBlocked(EngagementEvent):
    reason: str


@attrs.frozen
class EngagementProvisioningResumed(EngagementEvent):
    pass


@attrs.frozen
class EngagementActivated(EngagementEvent):
    #: The PSA's reference of the project provisioned for it (None: the PSA gave none).
    project_code: str | None = None


@attrs.frozen
class EngagementSuspended(EngagementEvent):
    reason: str


@attrs.frozen
class EngagementResumed(EngagementEvent):
    pass


@attrs.frozen
class EngagementClosingStarted(EngagementEvent):
    close_date: date


@attrs.frozen
class EngagementClosed(EngagementEvent):
    pass


@attrs.frozen
class EngagementCancelled(EngagementEvent):
    reason: str


# The entity --------------------------------------------------------------------------------


@attrs.define(slots=False, eq=False)
class Engagement(Lifecycled[EngagementState, EngagementTrigger, EngagementEvent]):
    """One engagement. `revision` counts recorded changes: the proposal is revision 1."""

    _lifecycle = ENGAGEMENT_LIFECYCLE

    engagement_id: EngagementId
    customer_id: CustomerId
    contract_id: ContractId
    state: EngagementState
    close_date: date | None = None
    blocked_reason: str | None = None
    #: The PSA's reference of its project, kept when provisioning completes; None for an
    #: engagement set up before it was kept (ADR 0040), or not set up yet.
    project_code: str | None = None
    revision: int = 0
    events: list[object] = attrs.field(factory=list)

    @classmethod
    def propose(
        cls,
        engagement_id: EngagementId,
        customer_id: CustomerId,
        contract_id: ContractId,
        at: datetime,
    ) -> Engagement:
        """A won deal becomes a proposed engagement."""
        engagement = cls(engagement_id, customer_id, contract_id, EngagementState.PROPOSED)
        engagement._record(
            EngagementProposed(
                engagement_id=engagement_id,
                at=at,
                customer_id=customer_id,
                contract_id=contract_id,
            )
        )
        return engagement

    def require_contract_of_its_customer(
        self, contract_id: ContractId, contract_customer: CustomerId
    ) -> None:
        """Refuse a contract (its id and its customer) that is another customer's."""
        if contract_customer != self.customer_id:
            raise ContractCustomerMismatchError(
                f"engagement {self.engagement_id} is for customer {self.customer_id}, but "
                f"contract {contract_id} is for customer {contract_customer}"
            )

    # Transitions ---------------------------------------------------------------------------

    def contract(self, at: datetime) -> None:
        """Only a proposed engagement becomes contracted, when its contract version is approved."""
        self._fire(_T.CONTRACT, EngagementContracted(self.engagement_id, at))

    def start_provisioning(self, at: datetime) -> None:
        """Setup in the downstream systems starts once the engagement is contracted."""
        self._fire(_T.START_PROVISIONING, EngagementProvisioningStarted(self.engagement_id, at))

    def claim_setup(self, at: datetime) -> None:
        """Setup runs from an approved contract until the engagement is active: it starts
        from contracted, resumes from blocked and goes on while provisioning, never otherwise."""
        if self.state is EngagementState.CONTRACTED:
            self.start_provisioning(at)
        elif self.state is EngagementState.SETUP_BLOCKED:
            self.resume_provisioning(at)
        elif self.state is not EngagementState.PROVISIONING:
            raise IllegalTransitionError(
                f"engagement {self.engagement_id} is '{self.state.value}': setup runs once its "
                "contract version is approved, until it is active"
            )

    def block_setup(self, reason: str, at: datetime) -> None:
        """A typed setup exception parks a provisioning engagement until it is replayed."""
        dest = self._next(_T.BLOCK_SETUP)
        reason = _required_reason(reason, "blocking the setup of", self.engagement_id)
        self.blocked_reason = reason
        self._move(dest, EngagementSetupBlocked(self.engagement_id, at, reason))

    def resume_provisioning(self, at: datetime) -> None:
        """A replay after the fix resumes the setup of a blocked engagement."""
        dest = self._next(_T.RESUME_PROVISIONING)
        self.blocked_reason = None
        self._move(dest, EngagementProvisioningResumed(self.engagement_id, at))

    def activate(self, at: datetime, project_code: str | None = None) -> None:
        """A provisioned engagement becomes active and starts accepting time; it keeps the
        project code the PSA gave its project, the dimension its journal lines carry."""
        dest = self._next(_T.ACTIVATE)
        code = None if project_code is None else project_code.strip() or None
        self.project_code = code or self.project_code
        self._move(dest, EngagementActivated(self.engagement_id, at, self.project_code))

    def suspend(self, reason: str, at: datetime) -> None:
        """Only an active engagement can be suspended, and only for a stated reason."""
        dest = self._next(_T.SUSPEND)
        reason = _required_reason(reason, "suspending", self.engagement_id)
        self._move(dest, EngagementSuspended(self.engagement_id, at, reason))

    def resume(self, at: datetime) -> None:
        """A suspended engagement becomes active again."""
        self._fire(_T.RESUME, EngagementResumed(self.engagement_id, at))

    def start_closing(self, close_date: date, at: datetime) -> None:
        """An active engagement starts closing: time is accepted only for work before close_date."""
        dest = self._next(_T.START_CLOSING)
        self.close_date = close_date
        self._move(dest, EngagementClosingStarted(self.engagement_id, at, close_date))

    def close(self, at: datetime, still_to_bill: Sequence[str] = ()) -> None:
        """A closing engagement closes once its final billing is done. `still_to_bill` says
        what is not (a billing run through `final_billing_day` would still bill, hold or write
        off something; items wait for approval or for a decision on a hold); closed, the
        engagement is left out of every run, so whatever remained would never be billed nor
        counted as leakage. Revenue is recognised by the periodic runs after the close too."""
        dest = self._next(_T.CLOSE)
        if still_to_bill:
            raise FinalBillingPendingError(
                f"engagement {self.engagement_id} cannot close before its final billing is "
                f"done: {'; '.join(still_to_bill)}"
            )
        self._move(dest, EngagementClosed(self.engagement_id, at))

    def final_billing_day(self, today: date) -> date:
        """The last day the final billing covers: the day before the close date (the last
        on which time is accepted), or today while that day is still to come."""
        if self.close_date is None:
            return today
        return min(self.close_date - timedelta(days=1), today)

    def cancel(self, reason: str, at: datetime) -> None:
        """Only an engagement whose setup has not started can be cancelled, with a reason."""
        dest = self._next(_T.CANCEL)
        reason = _required_reason(reason, "cancelling", self.engagement_id)
        self._move(dest, EngagementCancelled(self.engagement_id, at, reason))

    # Queries -------------------------------------------------------------------------------

    def accepts_time_on(self, work_date: date) -> bool:
        """Time is accepted while active, and while closing for work strictly before close_date."""
        if self.state is EngagementState.ACTIVE:
            return True
        if self.state is EngagementState.CLOSING:
            return self.close_date is not None and work_date < self.close_date
        return False

    def require_time_accepted(self, work_date: date) -> None:
        """Refuse time for a work date this engagement does not accept."""
        if self.accepts_time_on(work_date):
            return
        if self.state is EngagementState.CLOSING:
            raise TimeNotAcceptedError(
                f"engagement {self.engagement_id} is closing on {self.close_date} and accepts "
                f"time only for work before that date, not for {work_date}"
            )
        raise TimeNotAcceptedError(
            f"engagement {self.engagement_id} is '{self.state.value}' and accepts no time "
            f"(for {work_date}); time is accepted only while it is active"
        )


def _required_reason(reason: str, doing: str, engagement_id: EngagementId) -> str:
    stripped = reason.strip()
    if not stripped:
        raise EngagementReasonRequiredError(f"{doing} engagement {engagement_id} needs a reason")
    return stripped
