"""Delivery arrives in bulk: approved time and expenses, validated against the contract and
the plausibility rules (ADR 0025).

Every item is accepted or rejected with a reason code, never dropped silently. A batch is
idempotent by the items' own ids: an id already recorded is a duplicate when it says the same
(no effect, so a re-sent file or a redelivered webhook changes nothing) and a conflict
(`entry_conflict`, `expense_conflict`, naming the fields) when it says something else. A
change to a recorded entry is an explicit, audited correction (`CorrectTimeEntry`), never a
re-send.

Reads are set-based: the ids a batch names, the person-days it touches (by index), and, under
a cap that blocks overage, the obligation's time summed by role and day; its recorded entries
only when the batch could reach that cap (ADR 0041).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from application import commands as c
from application.context import RequestContext
from application.errors import NotFoundError
from application.handlers.common import audit
from application.messagebus import Dependencies
from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.billing import ObligationHistory, SourceKind, SourceRef
from domain.cap_reach import CandidateTime, cap_out_of_reach
from domain.contract import Contract
from domain.engagement import Engagement
from domain.errors import DomainError, NoTermsInForceError
from domain.ids import EngagementId, ObligationId, RateCardId, ResourceId
from domain.money import EXACT
from domain.plausibility import check_hours, check_person_day
from domain.ratecard import RateCard, RateCardVersion
from domain.time_and_materials import (
    BlockingCapAdmission,
    TimeAndMaterialsTerms,
    blocking_cap,
)
from domain.time_entry import ExpenseItem, TimeEntry

#: A recorded id sent again with other content.
ENTRY_CONFLICT = "entry_conflict"
EXPENSE_CONFLICT = "expense_conflict"

Raw = TypeVar("Raw")


@attrs.frozen
class Rejection:
    item_id: str
    reason_code: str
    detail: str
    #: The item's place in its batch (from 0): tells a refused repeat of an id inside one
    #: batch apart from its first occurrence.
    position: int | None = None


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


def _validate(check: Callable[[], object], item_id: str, position: int) -> Rejection | None:
    try:
        check()
    except _Rejected as rejected:
        return Rejection(item_id, rejected.code, rejected.detail, position)
    except NoTermsInForceError as error:
        return Rejection(item_id, "outside_contract", str(error), position)
    except DomainError as error:
        return Rejection(item_id, error.code, str(error), position)
    return None


# -- ids already recorded: replay or conflict --------------------------------------------------

#: Fields compared only when the sender states them (a principal without `rates:read_cost`
#: never sends a cost rate; that is not a different entry).
_OPTIONAL = frozenset({"cost_rate"})
#: Fields whose values a conflict does not repeat back.
_UNSAID = frozenset({"cost_rate"})


def _entry_says(entry: c.TimeEntryInput | TimeEntry) -> dict[str, object]:
    """What makes a time entry that entry (the engagement is implied by the obligation)."""
    return {
        "obligation_id": entry.obligation_id,
        "resource_id": entry.resource_id,
        "role": entry.role,
        "work_date": entry.work_date,
        "hours": entry.hours,
        "task_id": entry.task_id,
        "billable": entry.billable,
        "cost_rate": entry.cost_rate,
    }


def _expense_says(item: c.ExpenseInput | ExpenseItem) -> dict[str, object]:
    return {
        "obligation_id": item.obligation_id,
        "resource_id": item.resource_id,
        "category": item.category,
        "incurred_on": item.incurred_on,
        "cost": item.cost,
        "description": item.description,
    }


def _differences(sent: Mapping[str, object], known: Mapping[str, object]) -> list[str]:
    """The fields in which what was sent differs from what is known, each with both values."""
    found = []
    for name, value in sent.items():
        if name in _OPTIONAL and value is None:
            continue
        if value != known[name]:
            shown = "" if name in _UNSAID else f" {_text(known[name])} (sent {_text(value)})"
            found.append(f"{name}{shown}")
    return found


def _text(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(EXACT), "f")
    return str(value)


@attrs.frozen
class _SortedOut(Generic[Raw]):
    """A batch's items by id: new ones (first occurrence, with its position), duplicates
    (same content as recorded or as earlier in the batch) and conflicts (other content)."""

    new: list[tuple[int, Raw]]
    duplicates: list[str]
    conflicts: list[Rejection]


def _sort_out(
    items: Sequence[Raw],
    key: Callable[[Raw], str],
    says: Callable[[Any], dict[str, object]],
    recorded: Mapping[str, object],
    code: str,
    what: str,
) -> _SortedOut[Raw]:
    new: list[tuple[int, Raw]] = []
    duplicates: list[str] = []
    conflicts: list[Rejection] = []
    first: dict[str, Raw] = {}
    for position, raw in enumerate(items):
        item_id = key(raw)
        if item_id in recorded:
            known, where = recorded[item_id], "is already recorded"
        elif item_id in first:
            known, where = first[item_id], "appears earlier in this batch"
        else:
            first[item_id] = raw
            new.append((position, raw))
            continue
        differing = _differences(says(raw), says(known))
        if not differing:
            duplicates.append(item_id)
            continue
        detail = (
            f"{what} {item_id} {where} with other values: {'; '.join(differing)}. The same id "
            "with the same content is a replay; a change is an explicit correction"
        )
        conflicts.append(Rejection(item_id, code, detail, position))
    return _SortedOut(new, duplicates, conflicts)


# -- time entries -------------------------------------------------------------------------------


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


class _BlockingCaps:
    """Caps that block overage, checked set-wise: once an entry meets such a cap, the
    obligation's recorded time summed by role and day settles whether the batch can reach the
    cap at all (most cannot, and then nothing more is read); only if it can are the recorded
    entries read, once per batch, and each later entry of that obligation re-prices only its
    own person-day."""

    def __init__(self, scope: _Scope, batch: Iterable[c.TimeEntryInput]) -> None:
        self.scope = scope
        self._candidates: defaultdict[ObligationId, list[CandidateTime]] = defaultdict(list)
        for raw in batch:
            self._candidates[raw.obligation_id].append(
                CandidateTime(raw.role, raw.resource_id, raw.work_date, raw.billable, raw.hours)
            )
        self._histories: dict[ObligationId, ObligationHistory[Any]] = {}
        #: Whether any version of the obligation has a cap that blocks (most have none).
        self._may_block: dict[ObligationId, bool] = {}
        self._admissions: dict[ObligationId, BlockingCapAdmission] = {}
        self._batch: defaultdict[ObligationId, list[TimeEntry]] = defaultdict(list)

    def _history(self, raw: c.TimeEntryInput) -> ObligationHistory[Any]:
        if raw.obligation_id not in self._histories:
            engagement = self.scope.engagement(raw.engagement_id)
            assert engagement is not None  # the terms were found through it
            contract = self.scope.contract(engagement.contract_id)
            history = contract.obligation_history(raw.obligation_id)
            self._histories[raw.obligation_id] = history
            self._may_block[raw.obligation_id] = any(
                blocking_cap(history, v.effective_from) is not None for v in history.versions
            )
        return self._histories[raw.obligation_id]

    def admit(self, raw: c.TimeEntryInput, item: TimeEntry) -> None:
        """Refuse an entry that would cross a blocking cap; count it otherwise."""
        oid = item.obligation_id
        history = self._history(raw)
        if not self._may_block[oid]:
            return
        admission = self._admissions.get(oid)
        blocks = raw.billable and blocking_cap(history, raw.work_date) is not None
        if admission is None and blocks and self._out_of_reach(history):
            self._may_block[oid] = False  # the whole batch stays within every blocking cap
            return
        if admission is None and blocks:
            recorded = self.scope.uow.delivery.time_entries_for([oid])
            admission = BlockingCapAdmission(
                history, self.scope.rate_cards, [*recorded, *self._batch[oid]]
            )
            self._admissions[oid] = admission
        if admission is not None:
            (admission.admit if raw.billable else admission.record)(item)
        self._batch[oid].append(item)

    def _out_of_reach(self, history: ObligationHistory[Any]) -> bool:
        oid = history.obligation_id
        recorded = self.scope.uow.delivery.recorded_time_by_role_and_day(oid)
        return cap_out_of_reach(history, self.scope.rate_cards, recorded, self._candidates[oid])


class _TimeAdmission:
    """Every rule a new entry meets, in order; the person-days it fills up as it goes."""

    def __init__(
        self,
        scope: _Scope,
        deps: Dependencies,
        days: dict[tuple[ResourceId, date], Decimal],
        batch: Iterable[c.TimeEntryInput],
    ) -> None:
        self.rules, self.caps = _TimeRules(scope), _BlockingCaps(scope, batch)
        self.policy, self.today = deps.plausibility, deps.clock.now().date()
        self.days = days

    def admit(self, raw: c.TimeEntryInput) -> TimeEntry:
        check_hours(raw.hours)
        self.policy.refuse_future(raw.work_date, self.today, f"the work date of {raw.entry_id}")
        terms = self.rules.terms(raw)
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
            self.rules.check_rate(terms, raw)
        day = (raw.resource_id, raw.work_date)
        recorded = self.days.get(day, Decimal(0))
        check_person_day(raw.resource_id, raw.work_date, recorded, raw.hours)
        if isinstance(terms, TimeAndMaterialsTerms):
            self.caps.admit(raw, item)
        self.days[day] = EXACT.add(recorded, raw.hours)
        return item


def _billing_order(new: list[tuple[int, c.TimeEntryInput]]) -> list[tuple[int, c.TimeEntryInput]]:
    return sorted(new, key=lambda found: (found[1].work_date, found[1].entry_id))


def record_time_entries(
    cmd: c.RecordTimeEntries, ctx: RequestContext, deps: Dependencies
) -> IngestionReport:
    """Validate and store a batch of approved time entries in one transaction: new entries in
    billing order (work date, then id), each person's day against what is recorded for it
    plus what this batch accepted before."""
    with deps.uow(ctx) as uow:
        recorded = uow.delivery.time_entries_with_ids(e.entry_id for e in cmd.entries)
        batch = _sort_out(
            cmd.entries, lambda e: e.entry_id, _entry_says, recorded, ENTRY_CONFLICT, "time entry"
        )
        days = uow.delivery.hours_by_person_day((r.resource_id, r.work_date) for _, r in batch.new)
        scope = _Scope(uow, (e.work_date for e in cmd.entries))
        admission = _TimeAdmission(scope, deps, days, (raw for _, raw in batch.new))
        accepted: list[tuple[int, TimeEntry]] = []
        rejected = list(batch.conflicts)
        for position, raw in _billing_order(batch.new):
            made: list[TimeEntry] = []

            def check(raw: c.TimeEntryInput = raw, made: list[TimeEntry] = made) -> None:
                made.append(admission.admit(raw))

            rejection = _validate(check, raw.entry_id, position)
            if rejection is None:
                accepted.append((position, made[0]))
            else:
                rejected.append(rejection)
        accepted.sort(key=lambda found: found[0])
        rejected.sort(key=lambda r: r.position or 0)
        uow.delivery.add_time_entries([entry for _, entry in accepted])
        if accepted or rejected:
            audit(
                uow,
                ctx,
                deps,
                "time_entries",
                "ingest",
                None,
                None,
                f"{len(accepted)} accepted, {len(batch.duplicates)} duplicates, "
                f"{len(rejected)} rejected (approved in the PSA by {cmd.approved_by})",
            )
        uow.commit()
    accepted_ids = tuple([entry.entry_id for _, entry in accepted])
    return IngestionReport(accepted_ids, tuple(batch.duplicates), tuple(rejected))


# -- expenses -----------------------------------------------------------------------------------


def record_expenses(
    cmd: c.RecordExpenses, ctx: RequestContext, deps: Dependencies
) -> IngestionReport:
    """Validate and store a batch of approved expenses: dated no later than the future
    tolerance allows, inside the contract, each id recorded once."""
    now = deps.clock.now()
    with deps.uow(ctx) as uow:
        scope = _Scope(uow, (x.incurred_on for x in cmd.items))
        recorded = uow.delivery.expenses_with_ids(x.expense_id for x in cmd.items)
        batch = _sort_out(
            cmd.items, lambda x: x.expense_id, _expense_says, recorded, EXPENSE_CONFLICT, "expense"
        )
        accepted: list[ExpenseItem] = []
        rejected = list(batch.conflicts)
        for position, raw in batch.new:
            made: list[ExpenseItem] = []

            def check(raw: c.ExpenseInput = raw, made: list[ExpenseItem] = made) -> None:
                what = f"the date of expense {raw.expense_id}"
                deps.plausibility.refuse_future(raw.incurred_on, now.date(), what)
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

            rejection = _validate(check, raw.expense_id, position)
            if rejection is not None:
                rejected.append(rejection)
                continue
            made[0].approve(cmd.approved_by, now)
            accepted.append(made[0])
        rejected.sort(key=lambda r: r.position or 0)
        uow.delivery.add_expenses(accepted)
        uow.commit()
    return IngestionReport(
        tuple(x.expense_id for x in accepted), tuple(batch.duplicates), tuple(rejected)
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

    The item is told what documents already billed or credited off (the billed ledger), so
    the domain refuses hours a write-off credit memo already gave up: revenue and the leakage
    report would otherwise lose the same hours twice."""
    with deps.uow(ctx) as uow:
        item = _item(uow, cmd.item_id)
        before = item.state
        item.write_off(cmd.quantity, cmd.reason, deps.clock.now(), settled=_settled(uow, item))
        uow.delivery.save(item)
        audit(uow, ctx, deps, f"item:{cmd.item_id}", "write_off", before, item.state, cmd.reason)
        uow.commit()


def correct_time_entry(cmd: c.CorrectTimeEntry, ctx: RequestContext, deps: Dependencies) -> None:
    """The explicit, audited change of a recorded entry (hours, task, billable) that nothing
    billed yet, dated in an open period; the new hours meet the plausibility rules, the
    person's day and a blocking cap as a new entry would. A correction that changes nothing
    records nothing."""
    with deps.uow(ctx) as uow:
        entry = uow.delivery.time_entry(cmd.entry_id)
        if entry is None:
            raise NotFoundError(f"no time entry {cmd.entry_id}")
        # What was worked in a closed period is what its books say: nobody changes it.
        PeriodLock.of(uow.periods.overlapping(entry.work_date, entry.work_date)).check(
            entry.work_date, "correct a time entry"
        )
        contract = _contract_of(uow, entry)
        ledger = uow.ledger.load([contract.contract_id] if contract else [])
        before = _stated(entry)
        day = (entry.resource_id, entry.work_date)
        # The day's other hours, read before the entry changes (the read sees this entry).
        recorded = uow.delivery.hours_by_person_day([day]).get(day, Decimal(0))
        others = EXACT.subtract(recorded, entry.hours)
        changed = entry.correct(
            entry.hours if cmd.hours is None else cmd.hours,
            entry.task_id if cmd.task_id is None else cmd.task_id,
            entry.billable if cmd.billable is None else cmd.billable,
            billed=ledger.settled(SourceRef(SourceKind.TIME_ENTRY, entry.entry_id)),
            reason=cmd.reason,
            by=ctx.actor,
            at=deps.clock.now(),
        )
        if not changed:
            return
        check_person_day(entry.resource_id, entry.work_date, others, entry.hours)
        if contract is not None:
            _admit_corrected(uow, contract, entry)
        uow.delivery.save(entry)
        audit(
            uow, ctx, deps, f"item:{entry.entry_id}", "correct", before, _stated(entry), cmd.reason
        )
        uow.commit()


def _stated(entry: TimeEntry) -> str:
    task = f"task {entry.task_id}" if entry.task_id else "no task"
    return f"{_text(entry.hours)} h, {task}, {'billable' if entry.billable else 'not billable'}"


def _contract_of(uow: UnitOfWork, item: TimeEntry | ExpenseItem) -> Contract | None:
    return next((k for k in uow.contracts.all() if item.obligation_id in k.obligation_ids()), None)


def _admit_corrected(uow: UnitOfWork, contract: Contract, entry: TimeEntry) -> None:
    """A corrected billable entry meets a blocking cap as if it arrived now."""
    history = contract.obligation_history(entry.obligation_id)
    if not entry.billable or not isinstance(history.latest.terms, TimeAndMaterialsTerms):
        return
    if blocking_cap(history, entry.work_date) is None:
        return
    rate_cards = _RateCards(uow)
    corrected = CandidateTime(
        entry.role, entry.resource_id, entry.work_date, entry.billable, entry.hours
    )
    outline = uow.delivery.recorded_time_by_role_and_day(entry.obligation_id)
    if cap_out_of_reach(history, rate_cards, outline, [corrected]):
        return  # the sums (which may count the entry twice) stay within the cap (ADR 0041)
    recorded = uow.delivery.time_entries_for([entry.obligation_id])
    others = [e for e in recorded if e.entry_id != entry.entry_id]
    BlockingCapAdmission(history, rate_cards, others).admit(entry)


def _settled(uow: UnitOfWork, item: TimeEntry | ExpenseItem) -> Decimal:
    """What documents billed or credited off of the item (the billed ledger of its contract)."""
    contract = _contract_of(uow, item)
    if contract is None:
        return Decimal(0)
    kind = SourceKind.TIME_ENTRY if isinstance(item, TimeEntry) else SourceKind.EXPENSE
    return uow.ledger.load([contract.contract_id]).settled(SourceRef(kind, item.item_id))
