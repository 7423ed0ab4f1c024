"""Mapping entries to ERP accounts moves no money: whatever the amounts, currencies and
obligations, every mapped entry balances in whole minor units, every line keeps its amounts
and carries every dimension, and the trial balance of each currency sums to zero."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.accounting_period import PeriodLock
from domain.chart_of_accounts import (
    FIXED_DIMENSIONS,
    POSTING_ROLES,
    ChartOfAccounts,
    PostingScope,
    gl_trial_balance,
    map_entry,
)
from domain.ids import LegalEntityId, ObligationId
from domain.ledger import (
    JournalEntry,
    ObligationBalance,
    post_invoice_issue,
    post_payment,
    post_recognition,
)
from domain.money import Currency, Money

CURRENCIES = [Currency.of(code) for code in ("EUR", "JPY", "BHD", "USD")]
OBLIGATIONS = [ObligationId(name) for name in ("tm", "ff", "ms", "rt")]
ON = date(2026, 3, 31)
OPEN = PeriodLock()
CHART = ChartOfAccounts.of(
    "HR-FR",
    {role: f"{n + 1}000" for n, role in enumerate(POSTING_ROLES)},
    {"time_and_materials": "7061", "fixed_fee": "7062"},
    dimensions={"region": "EMEA"},
)
SCOPE = PostingScope(
    LegalEntityId("HR-FR"),
    customer_id="acme",
    contract_id="C1",
    obligation_types=(("ff", "fixed_fee"), ("tm", "time_and_materials")),
)

minor = st.integers(min_value=0, max_value=10**9)


@st.composite
def entries(draw: st.DrawFn) -> list[JournalEntry]:
    currency = draw(st.sampled_from(CURRENCIES))
    chosen = draw(st.lists(st.sampled_from(OBLIGATIONS), min_size=1, max_size=4, unique=True))
    nets = {oid: Money.from_minor(draw(minor), currency) for oid in chosen}
    tax = Money.from_minor(draw(minor), currency)
    earned = {
        oid: Money.from_minor(draw(st.integers(min_value=1, max_value=10**9)), currency)
        for oid in chosen
    }
    nothing = {oid: ObligationBalance.nothing_yet(oid, currency) for oid in chosen}
    made = [post_recognition("JE-1", ON, earned, nothing, OPEN)]
    if any(not net.is_zero() for net in nets.values()) or not tax.is_zero():
        made.append(post_invoice_issue("JE-2", "INV-1", ON, nets, tax, nothing, OPEN))
    paid = draw(minor)
    if paid:
        made.append(post_payment("JE-3", "PAY-1", ON, Money.from_minor(paid, currency), OPEN))
    return made


@given(entries())
def test_mapped_entries_keep_every_amount_and_carry_every_dimension(
    made: list[JournalEntry],
) -> None:
    for entry in made:
        mapped = map_entry(entry, CHART, SCOPE)
        assert [(ln.debit, ln.credit) for ln in mapped.lines] == [
            (ln.debit, ln.credit) for ln in entry.lines
        ]
        assert sum(ln.debit.minor for ln in mapped.lines) == sum(
            ln.credit.minor for ln in mapped.lines
        )
        for line in mapped.lines:
            assert [name for name, _ in line.dimensions] == [*FIXED_DIMENSIONS, "region"]
            assert line.gl_account == CHART.account_for(
                line.role, SCOPE.obligation_type(line.dimension("obligation_id"))
            )


@given(entries())
def test_the_trial_balance_of_each_currency_sums_to_zero(made: list[JournalEntry]) -> None:
    balances = gl_trial_balance(map_entry(entry, CHART, SCOPE) for entry in made)
    for currency in {currency for _, currency in balances}:
        assert sum(m.minor for (_, c), m in balances.items() if c == currency) == 0
