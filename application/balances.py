"""An engagement's balances as of a date, per obligation and in total.

- Recognised and billed come from the posted journal (entries dated on or before the date), so
  they are what the books say, not what a run would propose: billed is net of credit memos.
- Unbilled WIP (contract asset) and deferred revenue (contract liability) are netted per
  obligation and summed over obligations, never netted across them.
- Backlog is the contract value not yet billed. Only terms that fix a value have one; each
  billing model says what its terms are worth (`BillingModel.contract_value`: a fixed fee, a
  milestone fee, a T&M not-to-exceed amount, a recurring fee or a retainer with an end date,
  today). Each obligation reports its own (or none); the total is given only when every
  obligation has one, so a hybrid contract with uncapped T&M never shows a partial figure as
  if it were the whole.
- Cost is the delivery cost incurred by the date: approved time at each entry's cost rate plus
  approved expenses; time without a cost rate is counted in `uncosted_hours`, not guessed.
  Margin is recognised revenue minus cost. The HTTP layer shows cost and margin only to
  principals allowed to see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from application.books import balances_from_journal
from application.errors import NotFoundError
from application.unit_of_work import UnitOfWork
from domain.billing import ObligationHistory
from domain.ids import ContractId, CustomerId, EngagementId, ObligationId
from domain.money import EXACT, Currency, Money, dsum, money_sum
from domain.obligation import billing_model_for
from domain.time_entry import ExpenseItem, TimeEntry

HUNDRED = Decimal(100)
PERCENT_QUANTUM = Decimal("0.1")


@attrs.frozen
class ObligationBalances:
    obligation_id: ObligationId
    name: str
    model: str
    recognised: Money
    billed: Money
    unbilled_wip: Money
    deferred: Money
    contract_value: Money | None
    backlog: Money | None
    cost: Money
    uncosted_hours: Decimal


class _Summed:
    """An engagement's figure that is the sum of the same figure over its obligations, in the
    engagement's currency."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, balances: EngagementBalances, owner: type | None = None) -> Money:
        figures = (getattr(o, self._name) for o in balances.obligations)
        return money_sum(figures, balances.currency)


@attrs.frozen
class EngagementBalances:
    engagement_id: EngagementId
    customer_id: CustomerId
    contract_id: ContractId
    currency: Currency
    as_of: date
    obligations: tuple[ObligationBalances, ...]

    recognised = _Summed()
    billed = _Summed()
    unbilled_wip = _Summed()
    deferred = _Summed()
    cost = _Summed()

    @property
    def backlog(self) -> Money | None:
        """The whole contract's backlog, or None when some obligation's value is open-ended."""
        parts = [o.backlog for o in self.obligations]
        if not parts or any(p is None for p in parts):
            return None
        return money_sum((p for p in parts if p is not None), self.currency)

    @property
    def uncosted_hours(self) -> Decimal:
        return dsum(o.uncosted_hours for o in self.obligations)

    @property
    def margin(self) -> Money:
        """Recognised revenue less the cost of delivering it."""
        return self.recognised - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        """Margin as a percentage of recognised revenue, to one decimal (half-up); None
        before anything is recognised."""
        if self.recognised.is_zero():
            return None
        ratio = EXACT.divide(EXACT.multiply(self.margin.amount, HUNDRED), self.recognised.amount)
        return ratio.quantize(PERCENT_QUANTUM, context=EXACT)


def engagement_balances(uow: UnitOfWork, engagement_id: str, as_of: date) -> EngagementBalances:
    """The engagement's balances at the end of `as_of` (`NotFoundError` for an unknown one)."""
    engagement = uow.engagements.get(engagement_id)
    contract = uow.contracts.find(engagement.contract_id)
    if contract is None:
        raise NotFoundError(
            f"engagement {engagement_id} has no balances yet: its contract "
            f"{engagement.contract_id} is not registered"
        )
    currency = contract.currency
    obligations = contract.obligation_ids()
    journal = [e for e in uow.journal.all() if e.posted_on <= as_of]
    books = balances_from_journal(journal, obligations, currency)
    entries = [e for e in uow.delivery.time_entries_for(obligations) if _incurred(e, as_of)]
    expenses = [x for x in uow.delivery.expenses_for(obligations) if _incurred(x, as_of)]
    rows = []
    for oid in obligations:
        history = contract.obligation_history(oid)
        terms = history.latest_by(as_of).terms
        balance = books[oid]
        value = contract_value(history, as_of)
        backlog = None if value is None else _positive(value - balance.billed)
        cost, uncosted = delivery_cost(
            (e for e in entries if e.obligation_id == oid),
            (x for x in expenses if x.obligation_id == oid),
            currency,
        )
        rows.append(
            ObligationBalances(
                oid,
                terms.name,
                billing_model_for(terms).name,
                balance.recognised,
                balance.billed,
                balance.unbilled_wip,
                balance.deferred,
                value,
                backlog,
                cost,
                uncosted,
            )
        )
    return EngagementBalances(
        engagement.engagement_id,
        engagement.customer_id,
        engagement.contract_id,
        currency,
        as_of,
        tuple(rows),
    )


def contract_value(history: ObligationHistory[Any], as_of: date) -> Money | None:
    """What the obligation's terms in force on `as_of` are worth in total, when they fix it
    (each billing model says how: `BillingModel.contract_value`)."""
    terms = history.latest_by(as_of).terms
    return billing_model_for(terms).contract_value(history, as_of)


def delivery_cost(
    entries: Iterable[TimeEntry], expenses: Iterable[ExpenseItem], currency: Currency
) -> tuple[Money, Decimal]:
    """Cost of the time (hours x cost rate) and expenses given, rounded half-up once at the
    end; and the hours that carry no cost rate."""
    exact = Decimal(0)
    uncosted = Decimal(0)
    for entry in entries:
        if entry.cost_rate is None:
            uncosted = EXACT.add(uncosted, entry.hours)
        else:
            exact = EXACT.add(exact, EXACT.multiply(entry.hours, entry.cost_rate))
    for expense in expenses:
        # Expenses are recorded in the contract's currency; anything else is not its cost.
        if expense.cost.currency == currency:
            exact = EXACT.add(exact, expense.cost.amount)
    return Money(exact, currency).quantized(), uncosted


def _incurred(item: TimeEntry | ExpenseItem, as_of: date) -> bool:
    """Approved delivery (held or written-off included: the work was done) dated by `as_of`."""
    day = item.work_date if isinstance(item, TimeEntry) else item.incurred_on
    return day <= as_of and item.is_billable_state


def _positive(amount: Money) -> Money:
    return amount if amount.is_positive() else Money.zero(amount.currency)
