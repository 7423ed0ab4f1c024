"""Consultant transfers between legal entities, and the intercompany recharges they cause.

A resource belongs to one legal entity at a time, from a date (an employment history; a
transfer starts a new spell). Time a resource of entity B works on a contract of entity A is
billed by A as usual; nothing changes in billing. B recharges A at the transfer price its
policy names: the cost of the hours (hours × the cost rate the time entry captured, in force
on the work date) plus a markup percentage, per pair of entities or a default.

Each recharge is one document per (provider, recipient, currency) and period, in the
contract's currency (the currency the cost rates are captured in). Its amount is rounded
half-up to the currency's minor units once, on the whole document: the provenance keeps the
exact cost of every entry, and both entities book the same rounded amount, so B's
intercompany revenue always equals A's intercompany payable. In B: Dr intercompany
receivable / Cr intercompany revenue; in A: Dr cost of services / Cr intercompany payable.
Each side is its own balanced journal entry, dated the period's last day. A closed period's
recharges can still be read (an auditor asks what they were) but are marked not postable:
posting them is refused by the period lock.

An approved entry that cannot be recharged (no cost rate, no policy for the pair, a resource
with no legal entity on the work date, an obligation of no known contract) is reported as an
exception with its reason, never dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from enum import Enum

import attrs

from domain.accounting_period import PeriodLock
from domain.contract import Contract
from domain.employment import EmploymentHistory
from domain.errors import DomainError
from domain.ids import LegalEntityId, ObligationId, ResourceId, TimeEntryId
from domain.ledger import Account, JournalEntry, JournalLine
from domain.money import EXACT, Currency, Money, dsum, money_sum
from domain.period import Period
from domain.time_entry import ItemState, TimeEntry

#: The highest markup a transfer policy may name, in percent (a guard against typos).
MAX_MARKUP_PERCENT = Decimal(1000)

#: States in which the hours are worked and approved (billed, held or written off alike).
_WORKED = frozenset({ItemState.APPROVED, ItemState.HELD, ItemState.WRITTEN_OFF})


class InvalidTransferPolicyError(DomainError):
    """A transfer policy names two different entities (or none, the default) and a markup
    from 0 to 1000 %, once per pair."""

    code = "invalid_transfer_policy"


# Transfer pricing ------------------------------------------------------------------------


@attrs.frozen
class TransferPolicy:
    """The markup (percent over cost) `provider` charges `recipient` for its resources' time."""

    provider: LegalEntityId
    recipient: LegalEntityId
    markup_percent: Decimal


def _checked_markup(markup: Decimal, what: str) -> Decimal:
    if not markup.is_finite() or markup < 0 or markup > MAX_MARKUP_PERCENT:
        raise InvalidTransferPolicyError(
            f"{what}: a markup is a percentage from 0 to {MAX_MARKUP_PERCENT}, not {markup}"
        )
    return markup


@attrs.frozen
class TransferPricing:
    """Every transfer policy, and the default markup for pairs no policy names (None: a pair
    without policy is not recharged but reported). Build it with `of`."""

    policies: tuple[TransferPolicy, ...] = ()
    default_markup_percent: Decimal | None = None

    @classmethod
    def of(
        cls, policies: Iterable[TransferPolicy], default_markup_percent: Decimal | None = None
    ) -> TransferPricing:
        """One policy per ordered pair of two different entities, each markup 0 to 1000 %."""
        chosen = tuple(policies)
        seen: set[tuple[LegalEntityId, LegalEntityId]] = set()
        for policy in chosen:
            pair = (policy.provider, policy.recipient)
            what = f"the policy of {policy.provider} to {policy.recipient}"
            if not policy.provider.strip() or not policy.recipient.strip():
                raise InvalidTransferPolicyError(f"{what}: name both legal entities")
            if policy.provider == policy.recipient:
                raise InvalidTransferPolicyError(f"{what}: an entity does not recharge itself")
            if pair in seen:
                raise InvalidTransferPolicyError(f"{what}: given twice")
            seen.add(pair)
            _checked_markup(policy.markup_percent, what)
        if default_markup_percent is not None:
            _checked_markup(default_markup_percent, "the default policy")
        return cls(chosen, default_markup_percent)

    def markup_for(self, provider: LegalEntityId, recipient: LegalEntityId) -> Decimal | None:
        """The pair's own markup, else the default, else None (no policy)."""
        for policy in self.policies:
            if (policy.provider, policy.recipient) == (provider, recipient):
                return policy.markup_percent
        return self.default_markup_percent


# Recharges -------------------------------------------------------------------------------


class RechargeProblem(Enum):
    """Why an approved entry was not recharged."""

    NO_COST_RATE = "no_cost_rate"
    NO_TRANSFER_POLICY = "no_transfer_policy"
    NO_LEGAL_ENTITY = "no_legal_entity"
    UNKNOWN_CONTRACT = "unknown_contract"


@attrs.frozen
class RechargeException:
    """An approved entry that should be recharged but cannot be, and why."""

    entry_id: TimeEntryId
    resource_id: ResourceId
    work_date: date
    hours: Decimal
    reason: RechargeProblem
    detail: str


@attrs.frozen
class RechargedEntry:
    """Provenance: one time entry a recharge charges for, at its exact cost."""

    entry_id: TimeEntryId
    resource_id: ResourceId
    obligation_id: ObligationId
    work_date: date
    hours: Decimal
    cost_rate: Money
    cost: Money


class RechargeSide(Enum):
    PROVIDER = "provider"
    RECIPIENT = "recipient"


@attrs.frozen
class RechargePosting:
    """The journal entry one entity books for a recharge."""

    legal_entity_id: LegalEntityId
    side: RechargeSide
    entry: JournalEntry


@attrs.frozen
class IntercompanyRecharge:
    """What `provider` charges `recipient` for a period in one currency, with its provenance
    and the entry each side books (none when the amount is zero)."""

    period: Period
    provider: LegalEntityId
    recipient: LegalEntityId
    currency: Currency
    markup_percent: Decimal
    entries: tuple[RechargedEntry, ...]
    cost: Money
    amount: Money
    postings: tuple[RechargePosting, ...]

    @property
    def hours(self) -> Decimal:
        return dsum(e.hours for e in self.entries)

    @property
    def markup(self) -> Money:
        """What the recharge charges over cost (the rounded amount less the exact cost)."""
        return self.amount - self.cost


@attrs.frozen
class IntercompanyStatement:
    """A period's recharges per (provider, recipient, currency), and the exceptions."""

    period: Period
    recharges: tuple[IntercompanyRecharge, ...]
    exceptions: tuple[RechargeException, ...]
    #: False once the period is closed: its entries are shown, never posted.
    postable: bool = True


def recharge_amount(cost: Money, markup_percent: Decimal) -> Money:
    """Cost × (1 + markup), rounded half-up to whole minor units once per document."""
    factor = EXACT.add(Decimal(1), EXACT.divide(markup_percent, Decimal(100)))
    return cost.times(factor).quantized()


def post_intercompany_recharge(
    period: Period,
    provider: LegalEntityId,
    recipient: LegalEntityId,
    amount: Money,
    lock: PeriodLock,
) -> tuple[RechargePosting, RechargePosting]:
    """In the provider, Dr intercompany receivable / Cr intercompany revenue; in the
    recipient, Dr cost of services / Cr intercompany payable; dated the period's last day."""
    on = period.end
    lock.check(on, "post an intercompany recharge")
    key = f"intercompany:{period.key}:{provider}:{recipient}:{amount.currency.code}"
    what = f"Intercompany recharge of {provider} to {recipient} for {period.key}"
    provider_entry = JournalEntry.balanced(
        f"{key}:provider",
        on,
        what,
        [
            JournalLine.debiting(
                Account.INTERCOMPANY_RECEIVABLE, amount, memo=f"due by {recipient}"
            ),
            JournalLine.crediting(
                Account.INTERCOMPANY_REVENUE, amount, memo=f"time for {recipient}"
            ),
        ],
        key,
    )
    recipient_entry = JournalEntry.balanced(
        f"{key}:recipient",
        on,
        what,
        [
            JournalLine.debiting(Account.COST_OF_SERVICES, amount, memo=f"time of {provider}"),
            JournalLine.crediting(Account.INTERCOMPANY_PAYABLE, amount, memo=f"due to {provider}"),
        ],
        key,
    )
    return (
        RechargePosting(provider, RechargeSide.PROVIDER, provider_entry),
        RechargePosting(recipient, RechargeSide.RECIPIENT, recipient_entry),
    )


_Key = tuple[LegalEntityId, LegalEntityId, str]


def intercompany_recharges(
    period: Period,
    entries: Iterable[TimeEntry],
    contracts: Iterable[Contract],
    histories: Mapping[ResourceId, EmploymentHistory],
    pricing: TransferPricing,
    lock: PeriodLock,
) -> IntercompanyStatement:
    """Approved time of the period worked for another entity's contract is recharged by the
    resource's entity to the contract's, at cost plus the pair's markup; an entry that cannot
    be recharged is reported with its reason; a closed period's are shown, not postable."""
    postable = lock.is_open_on(period.end)
    # The entries of a closed period are worked out as they would have been posted.
    lock = lock if postable else PeriodLock()
    owners = {oid: c for c in contracts for oid in c.obligation_ids()}
    grouped: defaultdict[_Key, list[RechargedEntry]] = defaultdict(list)
    currencies: dict[str, Currency] = {}
    markups: dict[_Key, Decimal] = {}
    problems: list[RechargeException] = []

    def report(entry: TimeEntry, reason: RechargeProblem, detail: str) -> None:
        problems.append(
            RechargeException(
                entry.entry_id, entry.resource_id, entry.work_date, entry.hours, reason, detail
            )
        )

    worked = (e for e in entries if e.state in _WORKED and period.contains(e.work_date))
    for entry in sorted(worked, key=lambda e: (e.work_date, e.entry_id)):
        contract = owners.get(entry.obligation_id)
        if contract is None:
            report(
                entry,
                RechargeProblem.UNKNOWN_CONTRACT,
                f"obligation {entry.obligation_id} belongs to no known contract",
            )
            continue
        history = histories.get(entry.resource_id)
        provider = None if history is None else history.entity_on(entry.work_date)
        if provider is None:
            report(
                entry,
                RechargeProblem.NO_LEGAL_ENTITY,
                f"resource {entry.resource_id} belongs to no legal entity on {entry.work_date}",
            )
            continue
        recipient = contract.legal_entity_id
        if provider == recipient:
            continue
        if entry.cost_rate is None:
            report(
                entry,
                RechargeProblem.NO_COST_RATE,
                f"time entry {entry.entry_id} has no cost rate to recharge "
                f"{provider} to {recipient} at",
            )
            continue
        markup = pricing.markup_for(provider, recipient)
        if markup is None:
            report(
                entry,
                RechargeProblem.NO_TRANSFER_POLICY,
                f"no transfer policy prices the time of {provider} for {recipient}",
            )
            continue
        key = (provider, recipient, contract.currency.code)
        currencies[contract.currency.code] = contract.currency
        markups[key] = markup
        rate = Money(entry.cost_rate, contract.currency)
        grouped[key].append(
            RechargedEntry(
                entry.entry_id,
                entry.resource_id,
                entry.obligation_id,
                entry.work_date,
                entry.hours,
                rate,
                rate.times(entry.hours),
            )
        )
    recharges = []
    for key in sorted(grouped):
        provider, recipient, code = key
        currency = currencies[code]
        items = tuple(grouped[key])
        cost = money_sum((item.cost for item in items), currency)
        amount = recharge_amount(cost, markups[key])
        postings = (
            ()
            if amount.is_zero()
            else post_intercompany_recharge(period, provider, recipient, amount, lock)
        )
        recharges.append(
            IntercompanyRecharge(
                period, provider, recipient, currency, markups[key], items, cost, amount, postings
            )
        )
    return IntercompanyStatement(period, tuple(recharges), tuple(problems), postable)
