"""Reading the books the application keeps: obligation balances from the journal, and the
inputs a billing run or a revenue run needs, loaded set-wise from the unit of work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import attrs

from application.unit_of_work import UnitOfWork
from domain.accounting_period import PeriodLock
from domain.billing import BilledLedger
from domain.contract import Contract
from domain.ids import ObligationId, RateCardId
from domain.ledger import Account, JournalEntry, ObligationBalance
from domain.milestone import Milestone
from domain.money import EXACT, Currency, Money
from domain.ratecard import RateCard
from domain.time_entry import ExpenseItem, TimeEntry


def balances_from_journal(
    entries: Iterable[JournalEntry], obligations: Iterable[ObligationId], currency: Currency
) -> dict[ObligationId, ObligationBalance]:
    """Each obligation's recognised and billed amounts as the posted journal says.

    Revenue credits give what is recognised; since WIP - deferred = recognised - billed,
    billed = recognised - WIP + deferred.
    """
    revenue: defaultdict[ObligationId, Money] = defaultdict(lambda: Money.zero(currency))
    wip: defaultdict[ObligationId, Money] = defaultdict(lambda: Money.zero(currency))
    deferred: defaultdict[ObligationId, Money] = defaultdict(lambda: Money.zero(currency))
    wanted = set(obligations)
    for entry in entries:
        for line in entry.lines:
            oid = line.obligation_id
            if oid is None or oid not in wanted or line.debit.currency != currency:
                continue
            if line.account is Account.REVENUE:
                revenue[oid] = revenue[oid] - line.net_debit
            elif line.account is Account.UNBILLED_WIP:
                wip[oid] = wip[oid] + line.net_debit
            elif line.account is Account.DEFERRED_REVENUE:
                deferred[oid] = deferred[oid] - line.net_debit
    return {
        oid: ObligationBalance(oid, revenue[oid], revenue[oid] - wip[oid] + deferred[oid])
        for oid in wanted
    }


@attrs.frozen
class ContractBooks:
    """Everything the billing run or the revenue run reads for a set of contracts."""

    contracts: tuple[Contract, ...]
    rate_cards: dict[RateCardId, RateCard]
    time_entries: tuple[TimeEntry, ...]
    expenses: tuple[ExpenseItem, ...]
    milestones: tuple[Milestone, ...]
    ledger: BilledLedger

    @property
    def obligations(self) -> list[ObligationId]:
        return [oid for c in self.contracts for oid in c.obligation_ids()]


def load_books(
    uow: UnitOfWork,
    contracts: Iterable[Contract],
    time_entries_of: Iterable[ObligationId] | None = None,
) -> ContractBooks:
    """The books of these contracts; the time entries of every obligation, or only of those
    `time_entries_of` names (a billing run reads none for a model that bills a schedule)."""
    chosen = tuple(sorted(contracts, key=lambda c: c.contract_id))
    obligations = [oid for c in chosen for oid in c.obligation_ids()]
    timed = obligations if time_entries_of is None else time_entries_of
    return ContractBooks(
        chosen,
        {card.rate_card_id: card for card in uow.rate_cards.all()},
        tuple(uow.billing_reads.time_entries_for(timed)),
        tuple(uow.delivery.expenses_for(obligations)),
        tuple(uow.milestones.for_obligations(obligations)),
        uow.ledger.load(c.contract_id for c in chosen),
    )


def period_lock(uow: UnitOfWork) -> PeriodLock:
    """The closed periods, read for posting: no period closes until this transaction ends."""
    uow.periods.hold_for_posting()
    return PeriodLock.of(uow.periods.all())


def exact_zero(amount: Money) -> bool:
    return EXACT.compare(amount.amount, 0) == 0


def last_day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)
