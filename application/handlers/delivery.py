"""Delivery arrives in bulk: approved time and expenses, validated against the contract.

Every entry is accepted or rejected with a reason code, never dropped silently. A batch is
idempotent: entries already recorded (same id) are reported as duplicates and change nothing,
so a re-sent file or a redelivered webhook has no second effect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from application import commands as c
from application.context import RequestContext
from application.errors import NotFoundError
from application.handlers.common import audit
from application.messagebus import Dependencies
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.billing import SourceKind, SourceRef
from domain.contract import Contract
from domain.engagement import Engagement
from domain.errors import DomainError, NoTermsInForceError
from domain.ids import EngagementId, ObligationId, RateCardId
from domain.milestone import Milestone
from domain.money import EXACT, dsum
from domain.ratecard import RateCard, RateCardVersion
from domain.time_and_materials import TimeAndMaterialsTerms, admit_time_entry
from domain.time_entry import AlreadySettledError, ExpenseItem, ItemState, TimeEntry


@attrs.frozen
class Rejection:
    item_id: str
    reason_code: str
    detail: str


@attrs.frozen
class IngestionReport:
    """What happened to each item of a batch."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[Rejection, ...]


class _RateCards(Mapping[RateCardId, RateCard]):
    """The rate cards, each read when first asked for (a batch uses few of them); iterating
    reads them all."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._found: dict[RateCardId, RateCard | None] = {}
        self._all: dict[RateCardId, RateCard] | None = None

    def __getitem__(self, rate_card_id: RateCardId) -> RateCard:
        if rate_card_id not in self._found:
            self._found[rate_card_id] = self._uow.rate_cards.find(rate_card_id)
        card = self._found[rate_card_id]
        if card is None:
            raise KeyError(rate_card_id)
        return card

    def __iter__(self) -> Iterator[RateCardId]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())

    def _everything(self) -> dict[RateCardId, RateCard]:
        if self._all is None:
            self._all = {card.rate_card_id: card for card in self._uow.rate_cards.all()}
        return self._all


class _Scope:
    """The engagements, contracts and rate cards a batch refers to, loaded once each, and the
    accounting periods its dates fall in."""

    def __init__(self, uow: UnitOfWork, dates: Iterable[date]) -> None:
        self.uow = uow
        self.engagements: dict[EngagementId, Engagement | None] = {}
        self.contracts: dict[str, Contract] = {}
        self.rate_cards = _RateCards(uow)
        self._dates = dates
        self._lock: PeriodLock | None = None

    @property
    def lock(self) -> PeriodLock:
        """The closed periods among those touching the batch's first to last date: for any
        date of the batch, the same answer as the lock of every period."""
        if self._lock is None:
            days = sorted(set(self._dates))
            periods = self.uow.periods.overlapping(days[0], days[-1]) if days else []
            self._lock = PeriodLock.of(periods)
        return self._lock

    def engagement(self, engagement_id: EngagementId) -> Engagement | None:
        if engagement_id not in self.engagements:
            self.engagements[engagement_id] = self.uow.engagements.find(engagement_id)
        return self.engagements[engagement_id]

    def contract(self, contract_id: str) -> Contract:
        if contract_id not in self.contracts:
            self.contracts[contract_id] = self.uow.contracts.get(contract_id)
        return self.contracts[contract_id]


def _check_terms(
    scope: _Scope, engagement_id: EngagementId, obligation_id: ObligationId, on: date
) -> Any:
    """The obligation's terms in force on the date, or a DomainError naming what is wrong."""
    engagement = scope.engagement(engagement_id)
    if engagement is None:
        raise _Rejected("unknown_engagement", f"engagement {engagement_id} does not exist")
    # Imports obey the period lock like every other actor: late delivery dated in a closed
    # period is refused (reason period_closed) until the period is reopened.
    scope.lock.check(on, "record delivery")
    engagement.require_time_accepted(on)
    contract = scope.contract(engagement.contract_id)
    version = contract.version_in_force(on)
    try:
        return version.obligation(obligation_id)
    except DomainError:
        raise _Rejected(
            "unknown_obligation",
            f"contract {contract.contract_id} v{version.version} in force on {on} has no "
            f"obligation {obligation_id}",
        ) from None


class _Rejected(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def _validate(check: Callable[[], object], item_id: str) -> Rejection | None:
    try:
        check()
    except _Rejected as rejected:
        return Rejection(item_id, rejected.code, rejected.detail)
    except NoTermsInForceError as error:
        return Rejection(item_id, "outside_contract", str(error))
    except DomainError as error:
        return Rejection(item_id, error.code, str(error))
    return None


class _TimeRules:
    """The contract rules one batch is checked against, looked up once per engagement,
    obligation and date (a batch has thousands of entries but few distinct keys)."""

    def __init__(self, scope: _Scope) -> None:
        self.scope = scope
        self._terms: dict[tuple[str, str, date], Any] = {}
        self._cards: dict[tuple[str, date], RateCardVersion] = {}

    def terms(self, raw: c.TimeEntryInput) -> Any:
        key = (raw.engagement_id, raw.obligation_id, raw.work_date)
        if key not in self._terms:
            try:
                self._terms[key] = _check_terms(
                    self.scope, raw.engagement_id, raw.obligation_id, raw.work_date
                )
            except (DomainError, _Rejected) as refusal:
                self._terms[key] = refusal
        found = self._terms[key]
        if isinstance(found, Exception):
            raise found
        return found

    def check_rate(self, terms: TimeAndMaterialsTerms, raw: c.TimeEntryInput) -> None:
        key = (terms.rate_card_id, raw.work_date)
        if key not in self._cards:
            card = self.scope.rate_cards.get(terms.rate_card_id)
            if card is None:
                raise _Rejected("rate_not_found", f"rate card {terms.rate_card_id} is unknown")
            self._cards[key] = card.version_in_force(raw.work_date)
        self._cards[key].rate_for(raw.role, raw.resource_id)


def record_time_entries(
    cmd: c.RecordTimeEntries, ctx: RequestContext, deps: Dependencies
) -> IngestionReport:
    """Validate and store a batch of approved time entries in one transaction."""
    with deps.uow(ctx) as uow:
        scope = _Scope(uow, (e.work_date for e in cmd.entries))
        rules = _TimeRules(scope)
        existing = uow.delivery.existing_time_entry_ids(e.entry_id for e in cmd.entries)
        accepted: list[TimeEntry] = []
        duplicates: list[str] = []
        rejected: list[Rejection] = []
        seen: set[str] = set()
        by_obligation: defaultdict[ObligationId, list[TimeEntry]] = defaultdict(list)
        for raw in cmd.entries:
            if raw.entry_id in existing or raw.entry_id in seen:
                duplicates.append(raw.entry_id)
                continue
            seen.add(raw.entry_id)
            made: list[TimeEntry] = []

            def check(raw: c.TimeEntryInput = raw, made: list[TimeEntry] = made) -> None:
                terms = rules.terms(raw)
                item = TimeEntry.received_approved(
                    raw.entry_id,
                    raw.obligation_id,
                    raw.resource_id,
                    raw.role,
                    raw.work_date,
                    raw.hours,
                    task_id=raw.task_id,
                    billable=raw.billable,
                    cost_rate=raw.cost_rate,
                )
                if isinstance(terms, TimeAndMaterialsTerms) and raw.billable:
                    rules.check_rate(terms, raw)
                    if terms.cap is not None:
                        _admit(scope, uow, raw, item, by_obligation)
                made.append(item)

            rejection = _validate(check, raw.entry_id)
            if rejection is not None:
                rejected.append(rejection)
                continue
            accepted.append(made[0])
            by_obligation[made[0].obligation_id].append(made[0])
        uow.delivery.add_time_entries(accepted)
        if accepted or rejected:
            audit(
                uow,
                ctx,
                deps,
                "time_entries",
                "ingest",
                None,
                None,
                f"{len(accepted)} accepted, {len(duplicates)} duplicates, {len(rejected)} rejected"
                f" (approved in the PSA by {cmd.approved_by})",
            )
        uow.commit()
    return IngestionReport(tuple(e.entry_id for e in accepted), tuple(duplicates), tuple(rejected))


def _admit(
    scope: _Scope,
    uow: UnitOfWork,
    raw: c.TimeEntryInput,
    item: TimeEntry,
    batch: dict[ObligationId, list[TimeEntry]],
) -> None:
    """A cap with the `block` policy refuses the entry that would cross it."""
    engagement = scope.engagement(raw.engagement_id)
    assert engagement is not None
    history = scope.contract(engagement.contract_id).obligation_history(raw.obligation_id)
    accepted = [*uow.delivery.time_entries_for([raw.obligation_id]), *batch[raw.obligation_id]]
    admit_time_entry(history, scope.rate_cards, accepted, item)


def record_expenses(
    cmd: c.RecordExpenses, ctx: RequestContext, deps: Dependencies
) -> IngestionReport:
    now = deps.clock.now()
    with deps.uow(ctx) as uow:
        scope = _Scope(uow, (x.incurred_on for x in cmd.items))
        accepted: list[ExpenseItem] = []
        duplicates: list[str] = []
        rejected: list[Rejection] = []
        for raw in cmd.items:
            if uow.delivery.expense(raw.expense_id) is not None or raw.expense_id in {
                x.expense_id for x in accepted
            }:
                duplicates.append(raw.expense_id)
                continue
            made: list[ExpenseItem] = []

            def check(raw: c.ExpenseInput = raw, made: list[ExpenseItem] = made) -> None:
                _check_terms(scope, raw.engagement_id, raw.obligation_id, raw.incurred_on)
                made.append(
                    ExpenseItem.submit(
                        raw.expense_id,
                        raw.obligation_id,
                        raw.resource_id,
                        raw.category,
                        raw.incurred_on,
                        raw.cost,
                        raw.description,
                    )
                )

            rejection = _validate(check, raw.expense_id)
            if rejection is not None:
                rejected.append(rejection)
                continue
            made[0].approve(cmd.approved_by, now)
            accepted.append(made[0])
        uow.delivery.add_expenses(accepted)
        uow.commit()
    return IngestionReport(
        tuple(x.expense_id for x in accepted), tuple(duplicates), tuple(rejected)
    )


def _item(uow: UnitOfWork, item_id: str) -> TimeEntry | ExpenseItem:
    item = uow.delivery.time_entry(item_id) or uow.delivery.expense(item_id)
    if item is None:
        raise NotFoundError(f"no time entry or expense {item_id}")
    return item


def _item_command(
    deps: Dependencies,
    ctx: RequestContext,
    item_id: str,
    action: str,
    reason: str,
    change: Callable[[TimeEntry | ExpenseItem], None],
) -> None:
    with deps.uow(ctx) as uow:
        item = _item(uow, item_id)
        before = item.state
        change(item)
        uow.delivery.save(item)
        audit(uow, ctx, deps, f"item:{item_id}", action, before, item.state, reason)
        uow.commit()


def approve_item(cmd: c.ApproveItem, ctx: RequestContext, deps: Dependencies) -> None:
    _item_command(
        deps,
        ctx,
        cmd.item_id,
        "approve",
        "",
        lambda item: item.approve(ctx.actor, deps.clock.now()),
    )


def reject_item(cmd: c.RejectItem, ctx: RequestContext, deps: Dependencies) -> None:
    _item_command(
        deps,
        ctx,
        cmd.item_id,
        "reject",
        cmd.reason,
        lambda item: item.reject(cmd.reason, deps.clock.now()),
    )


def hold_item(cmd: c.HoldItem, ctx: RequestContext, deps: Dependencies) -> None:
    _item_command(
        deps,
        ctx,
        cmd.item_id,
        "hold",
        cmd.reason,
        lambda item: item.hold(cmd.quantity, cmd.reason, deps.clock.now()),
    )


def release_held_item(cmd: c.ReleaseHeldItem, ctx: RequestContext, deps: Dependencies) -> None:
    """Approve billing beyond the cap for the held quantity."""
    _item_command(
        deps,
        ctx,
        cmd.item_id,
        "release",
        "",
        lambda item: item.release(ctx.actor, deps.clock.now()),
    )


def write_off_item(cmd: c.WriteOffItem, ctx: RequestContext, deps: Dependencies) -> None:
    """Record the held (or a given) quantity as leakage, never billed.

    A given quantity must still be open: what a document billed, or a write-off credit memo
    already gave up, is settled and cannot be written off a second time (revenue would lose
    the same hours twice)."""
    with deps.uow(ctx) as uow:
        item = _item(uow, cmd.item_id)
        if cmd.quantity is not None and item.state is not ItemState.HELD:
            _refuse_beyond_open(uow, item, cmd.quantity)
        before = item.state
        item.write_off(cmd.quantity, cmd.reason, deps.clock.now())
        uow.delivery.save(item)
        audit(uow, ctx, deps, f"item:{cmd.item_id}", "write_off", before, item.state, cmd.reason)
        uow.commit()


def _refuse_beyond_open(uow: UnitOfWork, item: TimeEntry | ExpenseItem, quantity: Decimal) -> None:
    contract = next(
        (k for k in uow.contracts.all() if item.obligation_id in k.obligation_ids()), None
    )
    if contract is None:
        return
    kind = SourceKind.TIME_ENTRY if isinstance(item, TimeEntry) else SourceKind.EXPENSE
    settled = uow.ledger.load([contract.contract_id]).settled(SourceRef(kind, item.item_id))
    still_open = EXACT.subtract(item.quantity, dsum((settled, item.written_off, item.held)))
    if quantity > still_open:
        raise AlreadySettledError(
            f"{item.item_id}: only {max(still_open, Decimal(0))} of it is still open "
            f"({settled} billed or credited off, {item.written_off} written off)"
        )


def _milestone_transition(
    uow: UnitOfWork,
    ctx: RequestContext,
    deps: Dependencies,
    milestone_id: str,
    action: str,
    change: Callable[[Milestone], None],
) -> None:
    milestone = uow.milestones.get(milestone_id)
    before = milestone.state
    change(milestone)
    uow.milestones.save(milestone)
    audit(uow, ctx, deps, f"milestone:{milestone_id}", action, before, milestone.state)


def _milestone_command(
    deps: Dependencies,
    ctx: RequestContext,
    milestone_id: str,
    action: str,
    change: Callable[[Milestone], None],
) -> None:
    with deps.uow(ctx) as uow:
        _milestone_transition(uow, ctx, deps, milestone_id, action, change)
        uow.commit()


def complete_milestone(cmd: c.CompleteMilestone, ctx: RequestContext, deps: Dependencies) -> None:
    """Delivery says done, with evidence."""
    _milestone_command(
        deps,
        ctx,
        cmd.milestone_id,
        "complete",
        lambda m: m.complete(cmd.evidence, cmd.on, deps.clock.now()),
    )


def accept_milestone(cmd: c.AcceptMilestone, ctx: RequestContext, deps: Dependencies) -> None:
    """The client approver accepts; the milestone becomes billable."""
    _milestone_command(
        deps,
        ctx,
        cmd.milestone_id,
        "accept",
        lambda m: m.accept(cmd.accepted_by or ctx.actor, cmd.on, deps.clock.now()),
    )


def reject_milestone(cmd: c.RejectMilestone, ctx: RequestContext, deps: Dependencies) -> None:
    _milestone_command(
        deps,
        ctx,
        cmd.milestone_id,
        "reject",
        lambda m: m.reject(ctx.actor, cmd.reason, deps.clock.now()),
    )


def accept_due_milestones(
    cmd: c.AcceptDueMilestones, ctx: RequestContext, deps: Dependencies
) -> list[str]:
    """Passive acceptance: completed milestones whose window has passed are accepted."""
    accepted: list[str] = []
    with deps.uow(ctx) as uow:
        for milestone in uow.milestones.completed_due(cmd.today):
            _milestone_transition(
                uow,
                ctx,
                deps,
                milestone.milestone_id,
                "accept_passively",
                lambda m: m.accept_passively(cmd.today, deps.clock.now()),
            )
            accepted.append(milestone.milestone_id)
        uow.commit()
    return accepted
