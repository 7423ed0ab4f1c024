"""What the audit trail says about each event, in one table (ADR 0044).

The unit of work writes the audit records at commit, from the same events that become outbox
rows, so a handler never writes one by hand. A domain event names what happened; the record
also needs the state before and after, and sometimes a reason the event carries in other
words. This module maps each audited event type to its record:

- the subject and the action are named per event type;
- `before` is the aggregate's state when the unit of work first saw it (or after the event
  before it in the same commit), `after` the state the event leads to: fixed for lifecycles
  whose moves have one destination, else the aggregate's state at commit;
- a change that is no aggregate's (master data, a chart of accounts, the exception queue, the
  inbox) is stated by the application as a `Change` (application/changes.py), which says its
  own record.

Events not in the table (the billing run's and delivery's, until their handlers move to this
table) write no record here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Protocol

import attrs

from domain.accounting_period import PeriodClosed, PeriodReopened
from domain.contract import Contract, ContractVersionApproved
from domain.credit_memo import CreditMemo, CreditMemoIssued
from domain.engagement import (
    EngagementActivated,
    EngagementCancelled,
    EngagementClosed,
    EngagementClosingStarted,
    EngagementContracted,
    EngagementProposed,
    EngagementProvisioningResumed,
    EngagementProvisioningStarted,
    EngagementResumed,
    EngagementSetupBlocked,
    EngagementState,
    EngagementSuspended,
)
from domain.invoice import (
    DisputeResolved,
    InvoiceCredited,
    InvoiceDisputed,
    InvoiceWrittenOff,
    PaymentRecorded,
)
from domain.milestone import (
    MilestoneAccepted,
    MilestoneCompleted,
    MilestonePassivelyAccepted,
    MilestonePlanned,
    MilestoneRejected,
    MilestoneState,
)


@attrs.frozen
class AuditEntry:
    """One record of the trail before it is chained: who and when come from the unit of work."""

    subject: str
    action: str
    before: str | None
    after: str | None
    reason: str = ""


class Change(Protocol):
    """A change the application states because no aggregate records it as an event."""

    def audit_entry(self) -> AuditEntry: ...


def state_text(value: object) -> str | None:
    """A state as the trail writes it: an enum's value, a string as is, None for none."""
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


@attrs.frozen
class Moment:
    """One event at commit: its aggregate, the state before it, the aggregate's other events
    in the same commit, and the other aggregates the unit of work saw."""

    aggregate: Any
    event: Any
    before: str | None
    events: Sequence[object]
    seen: Sequence[object]

    @property
    def state(self) -> str | None:
        """The aggregate's state at commit."""
        return state_text(getattr(self.aggregate, "state", None))


Rule = Callable[[Moment], AuditEntry | None]


def _engagement(
    action: str, after: EngagementState, reason: Callable[[Any], str] | None = None
) -> Rule:
    def entry(m: Moment) -> AuditEntry:
        before = None if action == "propose" else m.before
        text = "" if reason is None else reason(m.event)
        return AuditEntry(f"engagement:{m.event.engagement_id}", action, before, after.value, text)

    return entry


def _milestone(action: str, after: MilestoneState) -> Rule:
    def entry(m: Moment) -> AuditEntry:
        before = None if action == "plan" else m.before
        return AuditEntry(f"milestone:{m.event.milestone_id}", action, before, after.value)

    return entry


def _invoice(action: str, reason: Callable[[Any], str]) -> Rule:
    def entry(m: Moment) -> AuditEntry:
        subject = f"invoice:{m.event.invoice_id}"
        return AuditEntry(subject, action, m.before, m.state, reason(m.event))

    return entry


def _credit_memo_number(m: Moment, credit_memo_id: object) -> str:
    for other in m.seen:
        if isinstance(other, CreditMemo) and other.credit_memo_id == credit_memo_id:
            return other.number or str(credit_memo_id)
    return str(credit_memo_id)


def _credited(m: Moment) -> AuditEntry | None:
    """A credit is recorded on the invoice only when it moved it; a credit that also ended
    the dispute is recorded once, as the dispute's resolution."""
    memo_id = m.event.credit_memo_id
    if m.state == m.before or any(
        isinstance(e, DisputeResolved) and e.credit_memo_id == memo_id for e in m.events
    ):
        return None
    reason = f"credit memo {_credit_memo_number(m, memo_id)}"
    return AuditEntry(f"invoice:{m.event.invoice_id}", "credit_in_full", m.before, m.state, reason)


def _dispute_resolved(m: Moment) -> AuditEntry:
    event = m.event
    reason = event.resolution
    if event.credit_memo_id is not None:
        reason = f"credit memo {_credit_memo_number(m, event.credit_memo_id)}: {reason}"
    return AuditEntry(f"invoice:{event.invoice_id}", "resolve_dispute", m.before, m.state, reason)


def _version_approved(m: Moment) -> list[AuditEntry]:
    """The approval of a version; an amendment also records what it added, removed, changed."""
    event, contract = m.event, m.aggregate
    subject = f"contract:{event.contract_id}:v{event.version}"
    entries = [AuditEntry(subject, "approve", "draft", "approved")]
    if event.version > 1 and isinstance(contract, Contract):
        diff = contract.diff(event.version - 1, event.version)
        reason = (
            f"added {list(diff.added)}, removed {list(diff.removed)}, changed {list(diff.changed)}"
        )
        entries.append(AuditEntry(subject, "amend", None, None, reason))
    return entries


def _credit_memo_issued(m: Moment) -> AuditEntry:
    event = m.event
    return AuditEntry(
        f"credit_memo:{event.credit_memo_id}", "issue", m.before, m.state, event.number
    )


def _period(action: str, before: str, after: str, with_reason: bool = False) -> Rule:
    def entry(m: Moment) -> AuditEntry:
        reason = m.event.reason if with_reason else ""
        return AuditEntry(f"period:{m.event.period.key}", action, before, after, reason)

    return entry


E = EngagementState
M = MilestoneState

#: The audited event types and the record each writes.
AUDITED: Mapping[type, Callable[[Moment], AuditEntry | list[AuditEntry] | None]] = {
    EngagementProposed: _engagement("propose", E.PROPOSED),
    EngagementContracted: _engagement("contract", E.CONTRACTED),
    EngagementProvisioningStarted: _engagement("start_provisioning", E.PROVISIONING),
    EngagementSetupBlocked: _engagement("block_setup", E.SETUP_BLOCKED),
    EngagementProvisioningResumed: _engagement("resume_provisioning", E.PROVISIONING),
    EngagementActivated: _engagement("activate", E.ACTIVE),
    EngagementSuspended: _engagement("suspend", E.SUSPENDED, lambda e: e.reason),
    EngagementResumed: _engagement("resume", E.ACTIVE),
    EngagementClosingStarted: _engagement(
        "start_closing", E.CLOSING, lambda e: f"close date {e.close_date.isoformat()}"
    ),
    EngagementClosed: _engagement("close", E.CLOSED),
    EngagementCancelled: _engagement("cancel", E.CANCELLED, lambda e: e.reason),
    MilestonePlanned: _milestone("plan", M.PLANNED),
    MilestoneCompleted: _milestone("complete", M.COMPLETED),
    MilestoneAccepted: _milestone("accept", M.ACCEPTED),
    MilestonePassivelyAccepted: _milestone("accept_passively", M.ACCEPTED),
    MilestoneRejected: _milestone("reject", M.REJECTED),
    PaymentRecorded: _invoice("record_payment", lambda e: f"{e.payment_id} {e.amount}"),
    InvoiceDisputed: _invoice("dispute", lambda e: e.reason),
    DisputeResolved: _dispute_resolved,
    InvoiceCredited: _credited,
    InvoiceWrittenOff: _invoice("write_off", lambda e: f"{e.amount}: {e.reason}"),
    CreditMemoIssued: _credit_memo_issued,
    ContractVersionApproved: _version_approved,
    PeriodClosed: _period("close", "open", "closed"),
    PeriodReopened: _period("reopen", "closed", "open", with_reason=True),
}


def audit_entries(
    drained: Sequence[tuple[object, object]],
    states: Mapping[int, object],
    seen: Sequence[object],
) -> list[AuditEntry]:
    """The records of the drained events, in their order: `states` holds each aggregate's
    state when the unit of work first saw it (by `id`)."""
    entries: list[AuditEntry] = []
    running: dict[int, str | None] = {}
    by_aggregate: dict[int, list[object]] = {}
    for aggregate, event in drained:
        by_aggregate.setdefault(id(aggregate), []).append(event)
    for aggregate, event in drained:
        rule = AUDITED.get(type(event))
        if rule is None:
            continue
        key = id(aggregate)
        before = running.get(key, state_text(states.get(key)))
        moment = Moment(aggregate, event, before, by_aggregate[key], seen)
        made = rule(moment)
        written = made if isinstance(made, list) else [] if made is None else [made]
        for entry in written:
            entries.append(entry)
            if entry.after is not None:
                running[key] = entry.after
    return entries
