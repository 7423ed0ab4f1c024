"""Expenses under time-and-materials terms: billed at cost x (1 + markup) within per-category
caps on billed cost, and, where the terms set a billing window, only within that many days of
being incurred. An expense still unbilled when a run's period ends after its window has expired:
it is never billed and counts as leakage (ADR 0028).

Each expense is billed under the terms in force on the day it was incurred; terms without an
expense policy leave expenses costed, not billed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from domain import billing_kit as kit
from domain.errors import CurrencyMismatchError, InvalidTermsError
from domain.ids import ContractId, ObligationId
from domain.money import EXACT, Currency, Money, dsum
from domain.time_entry import ExpenseItem

ZERO = Decimal(0)


def _frozen_caps(value: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType({k: Decimal(v) for k, v in value.items()})


@attrs.frozen
class ExpensePolicy:
    """Expenses billed at cost x (1 + markup), billed cost capped per category, and (when a
    window is set) billed only within that many days of being incurred."""

    markup: Decimal = ZERO
    category_caps: Mapping[str, Decimal] = attrs.field(factory=dict, converter=_frozen_caps)
    billing_window_days: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.billing_window_days is not None and self.billing_window_days < 0:
            raise InvalidTermsError("an expense billing window cannot be negative")

    def last_billable_day(self, incurred_on: date) -> date | None:
        """The last period end by which an expense incurred that day is still billed; None
        when the terms set no window (it never expires)."""
        if self.billing_window_days is None:
            return None
        return incurred_on + timedelta(days=self.billing_window_days)

    def has_expired(self, incurred_on: date, on: date) -> bool:
        """An expense still unbilled after its window is never billed (it is leakage)."""
        last = self.last_billable_day(incurred_on)
        return last is not None and on > last


def require_contract_currency(
    expense_id: str, cost: Money, contract_id: ContractId, currency: Currency
) -> None:
    """An expense is costed and billed in its contract's currency: nothing converts one, so an
    expense in another currency is refused rather than billed as if it were the contract's."""
    if cost.currency != currency:
        raise CurrencyMismatchError(
            f"expense {expense_id} is in {cost.currency.code}, but contract {contract_id} is in "
            f"{currency.code}: record it in {currency.code}, as the firm reimbursed or will bill it"
        )


def bill_expenses(
    history: kit.ObligationHistory[Any], ctx: kit.BillingContext
) -> tuple[list[kit.ProposedLine], list[kit.Exclusion]]:
    """Bill the open approved expenses dated up to the period end, at cost plus markup, within
    the category caps and the billing window of the terms in force on the day incurred."""
    obligation_id = history.obligation_id
    mine = sorted(
        (x for x in ctx.expenses if _open(x, obligation_id, ctx.period.end)),
        key=lambda x: (x.incurred_on, x.expense_id),
    )
    billed_cost_by_category: defaultdict[str, Decimal] = defaultdict(Decimal)
    for x in ctx.expenses:
        if x.obligation_id == obligation_id:
            ref = kit.SourceRef(kit.SourceKind.EXPENSE, x.expense_id)
            billed = ctx.ledger.billed_quantity(ref)
            billed_cost_by_category[x.category] = EXACT.add(
                billed_cost_by_category[x.category], billed
            )
    groups: dict[tuple[str, Decimal, str], list[kit.Allocation]] = {}
    exclusions: list[kit.Exclusion] = []
    for item in mine:
        in_force = history.on(item.incurred_on)
        policy = in_force.terms.expenses if in_force is not None else None
        if in_force is None or policy is None:
            continue  # costed, not billable under these terms
        if policy.has_expired(item.incurred_on, ctx.period.end):
            continue  # past its billing window: never billed (leakage)
        ref = kit.SourceRef(kit.SourceKind.EXPENSE, item.expense_id)
        settled = dsum((ctx.ledger.settled(ref), item.held, item.written_off))
        open_cost = EXACT.subtract(item.cost.amount, settled)
        if open_cost <= 0:
            continue
        cap = policy.category_caps.get(item.category)
        billable = open_cost
        if cap is not None:
            cap_left = EXACT.subtract(cap, billed_cost_by_category[item.category])
            billable = max(ZERO, min(open_cost, cap_left))
            if billable < open_cost:
                over = EXACT.subtract(open_cost, billable)
                exclusions.append(
                    kit.Exclusion(
                        obligation_id,
                        ref,
                        over,
                        Money(over, ctx.currency),
                        kit.Disposition.WRITTEN_OFF,
                        "expense_category_cap",
                    )
                )
        if billable <= 0:
            continue
        billed_cost_by_category[item.category] = EXACT.add(
            billed_cost_by_category[item.category], billable
        )
        factor = EXACT.add(Decimal(1), policy.markup)
        amount = Money(EXACT.multiply(billable, factor), ctx.currency)
        key = (item.category, policy.markup, in_force.label)
        groups.setdefault(key, []).append(kit.Allocation(ref, billable, amount, in_force.label))
    lines = [
        kit.ProposedLine.from_allocations(
            obligation_id,
            kit.LineKind.EXPENSE,
            f"Expenses: {category}" + (f" (+{markup * 100:g} %)" if markup else ""),
            Money(EXACT.add(Decimal(1), markup), ctx.currency),
            allocations,
        )
        for (category, markup, _label), allocations in sorted(groups.items(), key=lambda kv: kv[0])
    ]
    return lines, exclusions


def expense_revenue(history: kit.ObligationHistory[Any], ctx: kit.RevenueContext) -> Decimal:
    """Revenue as incurred from expenses: cost x (1 + markup) of the approved expenses dated
    by `as_of`, less what each gave up once, and less what expired unbilled."""
    total = ZERO
    for item in ctx.expenses:
        if not _open(item, history.obligation_id, ctx.as_of):
            continue
        in_force = history.on(item.incurred_on)
        policy = in_force.terms.expenses if in_force is not None else None
        if policy is None:
            continue
        billable = EXACT.subtract(item.cost.amount, expense_given_up(item, ctx.ledger))
        if policy.has_expired(item.incurred_on, ctx.as_of):
            billable = EXACT.subtract(billable, expense_expired(item, ctx.ledger))
        factor = EXACT.add(Decimal(1), policy.markup)
        total = EXACT.add(total, EXACT.multiply(billable, factor))
    return total


def _open(item: ExpenseItem, obligation_id: ObligationId, until: date) -> bool:
    return (
        item.obligation_id == obligation_id and item.is_billable_state and item.incurred_on <= until
    )


def expense_given_up(item: ExpenseItem, ledger: kit.BilledLedger) -> Decimal:
    """Cost the expense itself gave up (over a category cap, by hand), counting none a
    document billed or credited off."""
    settled = ledger.settled(kit.SourceRef(kit.SourceKind.EXPENSE, item.expense_id))
    return dsum(item.given_up_once(item.cost.amount, settled))


def expense_expired(item: ExpenseItem, ledger: kit.BilledLedger) -> Decimal:
    """Cost of an expense still open (not billed, credited off, held or written off): what
    expires when its billing window closes."""
    settled = ledger.settled(kit.SourceRef(kit.SourceKind.EXPENSE, item.expense_id))
    return max(ZERO, item.open_quantity(settled))
