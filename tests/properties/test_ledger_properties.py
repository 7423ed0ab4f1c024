"""Ledger invariants: every entry balances, WIP and deferred revenue never coexist on an
obligation, a full credit undoes its invoice, and the ambient decimal context changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from domain.accounting_period import PeriodLock
from domain.errors import UnbalancedJournalError
from domain.ids import ObligationId
from domain.ledger import (
    Account,
    JournalEntry,
    NothingToPostError,
    ObligationBalance,
    post_credit_memo,
    post_invoice_issue,
    post_payment,
    post_recognition,
    trial_balance,
)
from domain.money import Currency, Money

CURRENCIES = [Currency.of(code) for code in ("USD", "JPY", "BHD", "CLF")]
OBLIGATIONS = [ObligationId(f"ob-{n}") for n in range(4)]
ON = date(2026, 4, 30)
OPEN = PeriodLock()
MAX_MINOR = 10**12

currencies = st.sampled_from(CURRENCIES)
minor_amounts = st.integers(min_value=0, max_value=MAX_MINOR)
signed_minor_amounts = st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR)
obligation_sets = st.lists(st.sampled_from(OBLIGATIONS), min_size=1, max_size=4, unique=True)


@dataclass(frozen=True)
class Scenario:
    """One currency, the position of some obligations, and a document touching them."""

    currency: Currency
    balances: dict[ObligationId, ObligationBalance]
    amounts: dict[ObligationId, Money]
    tax: Money


@st.composite
def scenarios(draw: st.DrawFn, signed: bool = False) -> Scenario:
    currency = draw(currencies)
    oids = draw(obligation_sets)

    def money(minor: int) -> Money:
        return Money.from_minor(minor, currency)

    balances = {
        oid: ObligationBalance(oid, money(draw(minor_amounts)), money(draw(minor_amounts)))
        for oid in oids
    }
    amounts = {oid: money(draw(signed_minor_amounts if signed else minor_amounts)) for oid in oids}
    return Scenario(currency, balances, amounts, money(draw(minor_amounts)))


def minor_sum(amounts: Iterable[Money]) -> int:
    return sum(a.minor for a in amounts)


def assert_balances_exactly(entry: JournalEntry) -> None:
    assert minor_sum(line.debit for line in entry.lines) == minor_sum(
        line.credit for line in entry.lines
    )
    for line in entry.lines:
        assert line.debit.quantized() == line.debit
        assert line.credit.quantized() == line.credit
        assert line.debit.is_zero() != line.credit.is_zero()


def contract_position(
    entries: Iterable[JournalEntry], oid: ObligationId, currency: Currency
) -> tuple[Money, Money]:
    """(WIP, deferred) of one obligation as the ledger sees it; deferred credit-positive."""
    wip = deferred = Money.zero(currency)
    for entry in entries:
        for line in entry.lines:
            if line.obligation_id != oid:
                continue
            if line.account is Account.UNBILLED_WIP:
                wip = wip + line.net_debit
            elif line.account is Account.DEFERRED_REVENUE:
                deferred = deferred - line.net_debit
    return wip, deferred


def opening_entries(balances: dict[ObligationId, ObligationBalance]) -> list[JournalEntry]:
    """Bring each obligation's position onto the ledger: recognise, then bill, from nothing."""
    entries = []
    for oid, balance in sorted(balances.items()):
        nothing = ObligationBalance.nothing_yet(oid, balance.currency)
        if not balance.recognised.is_zero():
            entries.append(
                post_recognition(f"earn-{oid}", ON, {oid: balance.recognised}, {oid: nothing}, OPEN)
            )
        if not balance.billed.is_zero():
            earned = nothing.after_recognition(balance.recognised)
            no_tax = Money.zero(balance.currency)
            entries.append(
                post_invoice_issue(
                    f"bill-{oid}",
                    f"OPEN-{oid}",
                    ON,
                    {oid: balance.billed},
                    no_tax,
                    {oid: earned},
                    OPEN,
                )
            )
    return entries


Posting = Callable[[Scenario], JournalEntry]

POSTINGS: dict[str, Posting] = {
    "issue": lambda s: post_invoice_issue("je", "INV", ON, s.amounts, s.tax, s.balances, OPEN),
    "credit": lambda s: post_credit_memo("je", "CM", ON, s.amounts, s.tax, s.balances, OPEN),
    "recognition": lambda s: post_recognition("je", ON, s.amounts, s.balances, OPEN),
}


#: How each posting moves an obligation's position, per the rules (not the code) under test.
POSITION_AFTER: dict[str, Callable[[ObligationBalance, Money], ObligationBalance]] = {
    "issue": lambda before, net: before.after_billing(net),
    "credit": lambda before, net: before.after_billing(-net),
    "recognition": lambda before, revenue: before.after_recognition(revenue),
}


def post_or_nothing(posting: Posting, scenario: Scenario) -> JournalEntry | None:
    try:
        return posting(scenario)
    except NothingToPostError:
        assert all(a.is_zero() for a in scenario.amounts.values())
        return None


@given(scenarios(), st.sampled_from(["issue", "credit"]))
def test_every_invoice_and_credit_entry_balances_exactly(scenario: Scenario, kind: str) -> None:
    entry = post_or_nothing(POSTINGS[kind], scenario)
    if entry is not None:
        assert_balances_exactly(entry)


@given(scenarios(signed=True))
def test_every_recognition_entry_balances_exactly_up_or_down(scenario: Scenario) -> None:
    entry = post_or_nothing(POSTINGS["recognition"], scenario)
    if entry is not None:
        assert_balances_exactly(entry)
        revenue = -minor_sum(
            line.net_debit for line in entry.lines if line.account is Account.REVENUE
        )
        assert revenue == minor_sum(scenario.amounts.values())


@given(currencies, minor_amounts)
def test_every_payment_entry_balances_exactly(currency: Currency, minor: int) -> None:
    amount = Money.from_minor(minor + 1, currency)
    entry = post_payment("je", "PAY", ON, amount, OPEN)
    assert_balances_exactly(entry)
    assert trial_balance([entry]) == {Account.RECEIVABLES: -amount, Account.CASH: amount}


@given(currencies, minor_amounts, st.integers(min_value=1, max_value=9))
def test_an_amount_finer_than_the_minor_unit_is_never_posted(
    currency: Currency, minor: int, extra_digit: int
) -> None:
    finer = Decimal(minor).scaleb(-currency.minor_units) + Decimal(extra_digit).scaleb(
        -currency.minor_units - 1
    )
    try:
        post_payment("je", "PAY", ON, Money(finer, currency), OPEN)
    except UnbalancedJournalError:
        return
    raise AssertionError(f"{finer} {currency} was posted")


@given(scenarios(), st.sampled_from(list(POSTINGS)))
def test_the_ledger_keeps_wip_and_deferred_netted_per_obligation(
    scenario: Scenario, kind: str
) -> None:
    """After the opening balances and any posting, each obligation carries WIP or deferred
    revenue, never both, and exactly what its netted position says."""
    opening = opening_entries(scenario.balances)
    entry = post_or_nothing(POSTINGS[kind], scenario)
    entries = [*opening, *([entry] if entry is not None else [])]
    for oid, before in scenario.balances.items():
        after = POSITION_AFTER[kind](before, scenario.amounts[oid])
        wip, deferred = contract_position(entries, oid, scenario.currency)
        assert not (wip.is_positive() and deferred.is_positive())
        assert (wip, deferred) == (after.unbilled_wip, after.deferred)


@given(scenarios(signed=True))
def test_a_position_is_never_both_unbilled_and_deferred(scenario: Scenario) -> None:
    for balance in scenario.balances.values():
        for position in (
            balance,
            balance.after_recognition(scenario.amounts[balance.obligation_id]),
        ):
            assert not (position.unbilled_wip.is_positive() and position.deferred.is_positive())
            assert (
                position.unbilled_wip - position.deferred == position.recognised - position.billed
            )


@given(scenarios())
def test_an_invoice_followed_by_its_full_credit_nets_every_account_to_zero(
    scenario: Scenario,
) -> None:
    if all(a.is_zero() for a in scenario.amounts.values()) and scenario.tax.is_zero():
        return
    issue = post_invoice_issue(
        "je-1", "INV", ON, scenario.amounts, scenario.tax, scenario.balances, OPEN
    )
    after_issue = {
        oid: b.after_billing(scenario.amounts[oid]) for oid, b in scenario.balances.items()
    }
    credit = post_credit_memo("je-2", "CM", ON, scenario.amounts, scenario.tax, after_issue, OPEN)
    totals = trial_balance([issue, credit])
    assert totals
    assert all(balance.is_zero() for balance in totals.values())
    for oid in scenario.balances:
        assert contract_position([issue, credit], oid, scenario.currency) == (
            Money.zero(scenario.currency),
            Money.zero(scenario.currency),
        )


@given(scenarios(signed=True), st.sampled_from(list(POSTINGS)), st.integers(1, 6))
def test_postings_ignore_the_ambient_decimal_context(
    scenario: Scenario, kind: str, precision: int
) -> None:
    if kind != "recognition":
        scenario = Scenario(
            scenario.currency,
            scenario.balances,
            {oid: Money(abs(m.amount), m.currency) for oid, m in scenario.amounts.items()},
            scenario.tax,
        )
    expected = post_or_nothing(POSTINGS[kind], scenario)
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        ctx.prec = precision
        under_round_down = post_or_nothing(POSTINGS[kind], scenario)
        summed = trial_balance([under_round_down]) if under_round_down is not None else {}
    assert under_round_down == expected
    assert summed == (trial_balance([expected]) if expected is not None else {})
