"""Ledger postings, worked out by hand: issue, recognition, payment, credit memo, period lock.

Each expected line is written as (account, "Dr" or "Cr", amount, obligation) from the rules in
the domain guide (section 5, "Ledger"), with the arithmetic shown beside it; none of it is
derived from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from domain.accounting_period import PeriodLock
from domain.errors import CurrencyMismatchError, PeriodClosedError, UnbalancedJournalError
from domain.ids import ObligationId
from domain.ledger import (
    Account,
    JournalEntry,
    JournalLine,
    MissingObligationBalanceError,
    NegativeDocumentAmountError,
    NothingToPostError,
    ObligationBalance,
    RecognitionOutOfOrderError,
    check_recognition_order,
    post_credit_memo,
    post_invoice_issue,
    post_payment,
    post_recognition,
    trial_balance,
)
from domain.money import Currency, Money
from domain.period import Period

AR = Account.RECEIVABLES
WIP = Account.UNBILLED_WIP
DEFERRED = Account.DEFERRED_REVENUE
REVENUE = Account.REVENUE
VAT = Account.TAX_PAYABLE
CASH = Account.CASH

PROGRAM = ObligationId("program-fixed-fee")
CHANGE_REQUEST = ObligationId("change-request-tm")
OPEN = PeriodLock()
APRIL_10 = date(2026, 4, 10)
USD = Currency.of("USD")

Row = tuple[Account, str, Money, ObligationId | None]


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def jpy(amount: str) -> Money:
    return Money.of(amount, "JPY")


def bhd(amount: str) -> Money:
    return Money.of(amount, "BHD")


def rows(entry: JournalEntry) -> list[Row]:
    """The entry as the controller reads it."""
    return [
        (line.account, "Dr", line.debit, line.obligation_id)
        if line.is_debit
        else (line.account, "Cr", line.credit, line.obligation_id)
        for line in entry.lines
    ]


def position(
    oid: ObligationId, recognised: Money, billed: Money
) -> dict[ObligationId, ObligationBalance]:
    return {oid: ObligationBalance(oid, recognised, billed)}


# The program alone, in an open period on April 10: what it earned and was billed before.


def issue(
    net: Money, tax: Money, *, earned: Money, billed: Money, number: str = "INV-1"
) -> JournalEntry:
    """Issue of an invoice that bills the program `net` plus `tax`."""
    return post_invoice_issue(
        "je-1", number, APRIL_10, {PROGRAM: net}, tax, position(PROGRAM, earned, billed), OPEN
    )


def recognise(amount: Money, *, earned: Money, billed: Money) -> JournalEntry:
    """Recognition of `amount` of the program's revenue."""
    return post_recognition(
        "je-2", APRIL_10, {PROGRAM: amount}, position(PROGRAM, earned, billed), OPEN
    )


def credit(net: Money, tax: Money, *, earned: Money, billed: Money) -> JournalEntry:
    """Credit memo CM-1 crediting the program `net` plus `tax`."""
    return post_credit_memo(
        "je-4", "CM-1", APRIL_10, {PROGRAM: net}, tax, position(PROGRAM, earned, billed), OPEN
    )


# The contract position ---------------------------------------------------------------------


def test_an_obligation_earned_ahead_of_billing_carries_unbilled_wip_only() -> None:
    balance = ObligationBalance(PROGRAM, usd("800.00"), usd("500.00"))
    assert balance.unbilled_wip == usd("300.00")  # 800 − 500
    assert balance.deferred == usd("0")


def test_an_obligation_billed_ahead_of_earning_carries_deferred_revenue_only() -> None:
    balance = ObligationBalance(PROGRAM, usd("300.00"), usd("1000.00"))
    assert balance.deferred == usd("700.00")  # 1,000 − 300
    assert balance.unbilled_wip == usd("0")


# Issue of an invoice -----------------------------------------------------------------------


def test_issue_first_relieves_unbilled_wip_then_defers_the_rest() -> None:
    # 300.00 earned, nothing billed: WIP 300.00. Invoice 1,000.00 net + 200.00 VAT.
    entry = issue(usd("1000.00"), usd("200.00"), earned=usd("300.00"), billed=usd("0.00"))
    assert rows(entry) == [
        (AR, "Dr", usd("1200.00"), None),  # 1,000.00 + 200.00
        (WIP, "Cr", usd("300.00"), PROGRAM),  # all the WIP there is
        (DEFERRED, "Cr", usd("700.00"), PROGRAM),  # 1,000.00 − 300.00
        (VAT, "Cr", usd("200.00"), None),
    ]
    assert entry.total_debits == entry.total_credits == usd("1200.00")
    assert entry.source_document == "INV-1"
    assert entry.posted_on == APRIL_10


def test_issue_of_an_invoice_smaller_than_the_wip_only_relieves_wip() -> None:
    entry = issue(usd("250.00"), usd("50.00"), earned=usd("300.00"), billed=usd("0.00"))
    assert rows(entry) == [
        (AR, "Dr", usd("300.00"), None),  # 250.00 + 50.00
        (WIP, "Cr", usd("250.00"), PROGRAM),  # 50.00 of WIP stays
        (VAT, "Cr", usd("50.00"), None),
    ]


def test_wip_and_deferred_are_netted_per_obligation_not_across_obligations() -> None:
    # The program has 100.00 of WIP; the change request has nothing yet.
    balances = {
        PROGRAM: ObligationBalance(PROGRAM, usd("100.00"), usd("0.00")),
        CHANGE_REQUEST: ObligationBalance.nothing_yet(CHANGE_REQUEST, USD),
    }
    entry = post_invoice_issue(
        "je-1",
        "INV-1",
        APRIL_10,
        {PROGRAM: usd("60.00"), CHANGE_REQUEST: usd("40.00")},
        usd("20.00"),
        balances,
        OPEN,
    )
    # Obligations are laid out in id order: change-request-tm before program-fixed-fee.
    assert rows(entry) == [
        (AR, "Dr", usd("120.00"), None),  # 60.00 + 40.00 + 20.00
        (DEFERRED, "Cr", usd("40.00"), CHANGE_REQUEST),  # billed ahead: no WIP of its own
        (WIP, "Cr", usd("60.00"), PROGRAM),  # 40.00 of the program's WIP remains
        (VAT, "Cr", usd("20.00"), None),
    ]


def test_issue_needs_the_position_of_every_obligation_it_bills() -> None:
    with pytest.raises(MissingObligationBalanceError):
        post_invoice_issue(
            "je-1", "INV-1", APRIL_10, {PROGRAM: usd("10.00")}, usd("0.00"), {}, OPEN
        )


def test_an_invoice_cannot_post_a_negative_net() -> None:
    with pytest.raises(NegativeDocumentAmountError):
        issue(usd("-10.00"), usd("0.00"), earned=usd("0.00"), billed=usd("0.00"))


def test_a_reverse_charged_invoice_posts_no_tax_line() -> None:
    entry = issue(usd("500.00"), usd("0.00"), earned=usd("0.00"), billed=usd("0.00"))
    assert rows(entry) == [
        (AR, "Dr", usd("500.00"), None),
        (DEFERRED, "Cr", usd("500.00"), PROGRAM),
    ]


# Revenue recognition -----------------------------------------------------------------------


def test_recognition_releases_deferred_revenue_first() -> None:
    # Billed 1,000.00, earned 300.00: deferred 700.00. Recognise 500.00.
    entry = recognise(usd("500.00"), earned=usd("300.00"), billed=usd("1000.00"))
    assert rows(entry) == [
        (DEFERRED, "Dr", usd("500.00"), PROGRAM),  # 500.00 ≤ 700.00 deferred
        (REVENUE, "Cr", usd("500.00"), PROGRAM),
    ]
    assert entry.source_document == "revenue-recognition:2026-04-10"


def test_recognition_beyond_deferred_revenue_accrues_unbilled_wip() -> None:
    # Deferred 700.00; recognise 900.00.
    entry = recognise(usd("900.00"), earned=usd("300.00"), billed=usd("1000.00"))
    assert rows(entry) == [
        (DEFERRED, "Dr", usd("700.00"), PROGRAM),  # all the deferred revenue there is
        (WIP, "Dr", usd("200.00"), PROGRAM),  # 900.00 − 700.00
        (REVENUE, "Cr", usd("900.00"), PROGRAM),
    ]


def test_a_downward_catch_up_reverses_wip_first_then_defers() -> None:
    # Earned 500.00, billed 300.00: WIP 200.00. The estimate falls: −350.00.
    entry = recognise(usd("-350.00"), earned=usd("500.00"), billed=usd("300.00"))
    # Afterwards earned 150.00 against 300.00 billed: deferred 150.00, no WIP.
    assert rows(entry) == [
        (REVENUE, "Dr", usd("350.00"), PROGRAM),
        (WIP, "Cr", usd("200.00"), PROGRAM),  # all of the WIP
        (DEFERRED, "Cr", usd("150.00"), PROGRAM),  # 350.00 − 200.00
    ]


def test_recognising_nothing_posts_nothing() -> None:
    with pytest.raises(NothingToPostError):
        recognise(usd("0.00"), earned=usd("0.00"), billed=usd("0.00"))


# Payment -----------------------------------------------------------------------------------


def test_a_payment_moves_receivables_to_cash() -> None:
    entry = post_payment("je-3", "PAY-1", APRIL_10, usd("1200.00"), OPEN)
    assert rows(entry) == [
        (CASH, "Dr", usd("1200.00"), None),
        (AR, "Cr", usd("1200.00"), None),
    ]
    assert entry.description == "Payment PAY-1"


def test_a_negative_payment_is_refused() -> None:
    with pytest.raises(NegativeDocumentAmountError):
        post_payment("je-3", "PAY-1", APRIL_10, usd("-1.00"), OPEN)


# Credit memo -------------------------------------------------------------------------------


def test_a_credit_memo_reverses_the_issue_it_credits() -> None:
    # After INV-1 (above): earned 300.00, billed 1,000.00, so deferred 700.00.
    # Credit the whole invoice: 1,000.00 net + 200.00 VAT.
    entry = credit(usd("1000.00"), usd("200.00"), earned=usd("300.00"), billed=usd("1000.00"))
    assert rows(entry) == [
        (DEFERRED, "Dr", usd("700.00"), PROGRAM),  # all of the deferred revenue
        (WIP, "Dr", usd("300.00"), PROGRAM),  # 1,000.00 − 700.00: earned, now unbilled again
        (VAT, "Dr", usd("200.00"), None),
        (AR, "Cr", usd("1200.00"), None),
    ]
    assert entry.description == "Credit memo CM-1"


def test_a_partial_credit_within_deferred_revenue_only_releases_deferred() -> None:
    entry = credit(usd("250.00"), usd("50.00"), earned=usd("300.00"), billed=usd("1000.00"))
    assert rows(entry) == [
        (DEFERRED, "Dr", usd("250.00"), PROGRAM),  # 250.00 ≤ 700.00
        (VAT, "Dr", usd("50.00"), None),
        (AR, "Cr", usd("300.00"), None),
    ]


# What a journal entry must be --------------------------------------------------------------


@pytest.mark.parametrize(
    ("debited", "credited", "refusal"),
    [
        (usd("100.00"), usd("99.99"), "does not balance"),
        (usd("100.005"), usd("100.005"), "minor units"),
        (usd("100.00"), Money.of("100.00", "EUR"), "one currency"),
    ],
    ids=["one cent short", "half a cent even when it balances", "dollars against euros"],
)
def test_an_entry_is_refused_unless_it_balances_in_whole_minor_units_of_one_currency(
    debited: Money, credited: Money, refusal: str
) -> None:
    lines = [JournalLine.debiting(AR, debited), JournalLine.crediting(REVENUE, credited)]
    with pytest.raises(UnbalancedJournalError, match=refusal):
        JournalEntry.balanced("je-x", APRIL_10, "a manual entry", lines, "manual")


def test_a_payment_of_a_fraction_of_a_cent_is_refused() -> None:
    with pytest.raises(UnbalancedJournalError):
        post_payment("je-3", "PAY-1", APRIL_10, usd("10.001"), OPEN)


def test_a_posting_mixing_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatchError):
        post_invoice_issue(
            "je-1",
            "INV-1",
            APRIL_10,
            {PROGRAM: usd("100.00")},
            Money.of("20.00", "EUR"),
            position(PROGRAM, usd("0.00"), usd("0.00")),
            OPEN,
        )


@pytest.mark.parametrize(
    ("debit", "credit"),
    [("100.00", "100.00"), ("0.00", "0.00"), ("-100.00", "0.00")],
    ids=["both sides", "neither side", "negative debit"],
)
def test_a_line_moves_a_positive_amount_on_exactly_one_side(debit: str, credit: str) -> None:
    odd = JournalLine(AR, usd(debit), usd(credit))
    with pytest.raises(UnbalancedJournalError, match="never both"):
        JournalEntry.balanced("je-x", APRIL_10, "odd line", [odd], "manual")


def test_an_entry_without_lines_is_not_posted() -> None:
    with pytest.raises(NothingToPostError):
        JournalEntry.balanced("je-x", APRIL_10, "nothing", [], "manual")


# The period lock ---------------------------------------------------------------------------

MARCH_CLOSED = PeriodLock(frozenset({Period.month(2026, 3)}))
MARCH_20 = date(2026, 3, 20)
DEFERRED_700 = position(PROGRAM, usd("300.00"), usd("1000.00"))

POSTINGS: dict[str, Callable[[date, PeriodLock], JournalEntry]] = {
    "invoice": lambda on, lock: post_invoice_issue(
        "je", "INV-1", on, {PROGRAM: usd("100.00")}, usd("20.00"), DEFERRED_700, lock
    ),
    "recognition": lambda on, lock: post_recognition(
        "je", on, {PROGRAM: usd("100.00")}, DEFERRED_700, lock
    ),
    "payment": lambda on, lock: post_payment("je", "PAY-1", on, usd("120.00"), lock),
    "credit memo": lambda on, lock: post_credit_memo(
        "je", "CM-1", on, {PROGRAM: usd("100.00")}, usd("20.00"), DEFERRED_700, lock
    ),
}


@pytest.mark.parametrize("posting", POSTINGS.values(), ids=POSTINGS.keys())
def test_nothing_dated_in_a_closed_period_is_posted(
    posting: Callable[[date, PeriodLock], JournalEntry],
) -> None:
    with pytest.raises(PeriodClosedError, match="2026-03"):
        posting(MARCH_20, MARCH_CLOSED)


@pytest.mark.parametrize("posting", POSTINGS.values(), ids=POSTINGS.keys())
def test_the_same_posting_dated_in_an_open_period_is_posted(
    posting: Callable[[date, PeriodLock], JournalEntry],
) -> None:
    entry = posting(APRIL_10, MARCH_CLOSED)
    assert entry.posted_on == APRIL_10


def test_the_period_lock_is_asked_before_anything_else() -> None:
    # Even a posting that would be refused for other reasons reports the closed period.
    with pytest.raises(PeriodClosedError):
        post_payment("je", "PAY-1", MARCH_20, usd("10.001"), MARCH_CLOSED)


# Currencies with no and with three minor units ---------------------------------------------


def test_a_yen_invoice_posts_whole_yen() -> None:
    # ¥250,000 earned and unbilled; invoice ¥1,000,000 net + 10 % tax ¥100,000.
    entry = issue(
        jpy("1000000"), jpy("100000"), earned=jpy("250000"), billed=jpy("0"), number="INV-JP-1"
    )
    assert rows(entry) == [
        (AR, "Dr", jpy("1100000"), None),  # 1,000,000 + 100,000
        (WIP, "Cr", jpy("250000"), PROGRAM),
        (DEFERRED, "Cr", jpy("750000"), PROGRAM),  # 1,000,000 − 250,000
        (VAT, "Cr", jpy("100000"), None),
    ]


def test_half_a_yen_is_refused() -> None:
    with pytest.raises(UnbalancedJournalError, match="JPY minor units"):
        post_payment("je-3", "PAY-JP-1", APRIL_10, jpy("1000.5"), OPEN)


def test_a_bahraini_dinar_invoice_and_recognition_post_to_the_fils() -> None:
    # Invoice BHD 1,234.567 net; 10 % VAT = 123.4567, rounded half-up at the document: 123.457.
    invoice = issue(
        bhd("1234.567"), bhd("123.457"), earned=bhd("0.000"), billed=bhd("0.000"), number="INV-BH-1"
    )
    assert rows(invoice) == [
        (AR, "Dr", bhd("1358.024"), None),  # 1,234.567 + 123.457
        (DEFERRED, "Cr", bhd("1234.567"), PROGRAM),  # nothing earned yet: all deferred
        (VAT, "Cr", bhd("123.457"), None),
    ]
    recognition = recognise(bhd("400.250"), earned=bhd("0.000"), billed=bhd("1234.567"))
    assert rows(recognition) == [
        (DEFERRED, "Dr", bhd("400.250"), PROGRAM),  # 400.250 ≤ 1,234.567
        (REVENUE, "Cr", bhd("400.250"), PROGRAM),
    ]


def test_half_a_fils_is_refused() -> None:
    with pytest.raises(UnbalancedJournalError, match="BHD minor units"):
        post_payment("je-3", "PAY-BH-1", APRIL_10, bhd("10.0005"), OPEN)


# A full cycle ------------------------------------------------------------------------------


def test_the_trial_balance_of_a_full_cycle_nets_receivables_to_what_is_still_owed() -> None:
    nothing = ObligationBalance.nothing_yet(PROGRAM, USD)
    # 1. March work earned 300.00 before anything was billed: Dr WIP 300 / Cr Revenue 300.
    earn = post_recognition("je-1", APRIL_10, {PROGRAM: usd("300.00")}, {PROGRAM: nothing}, OPEN)
    after_earn = nothing.after_recognition(usd("300.00"))  # earned 300, billed 0
    # 2. Invoice 1,000.00 + 200.00 VAT: Dr AR 1,200 / Cr WIP 300 / Cr Deferred 700 / Cr VAT 200.
    invoiced = post_invoice_issue(
        "je-2",
        "INV-1",
        APRIL_10,
        {PROGRAM: usd("1000.00")},
        usd("200.00"),
        {PROGRAM: after_earn},
        OPEN,
    )
    after_issue = after_earn.after_billing(usd("1000.00"))  # earned 300, billed 1,000
    # 3. Recognise 500.00 more: Dr Deferred 500 / Cr Revenue 500.
    recognised = post_recognition(
        "je-3", APRIL_10, {PROGRAM: usd("500.00")}, {PROGRAM: after_issue}, OPEN
    )
    after_recognise = after_issue.after_recognition(usd("500.00"))  # earned 800, billed 1,000
    # 4. The customer pays 600.00 on account: Dr Cash 600 / Cr AR 600.
    pay = post_payment("je-4", "PAY-1", APRIL_10, usd("600.00"), OPEN)
    # 5. A partial credit of 250.00 + 50.00 VAT: Cr AR 300 / Dr VAT 50 /
    #    Dr Deferred 200 (all that is left of it) / Dr WIP 50 (250 − 200).
    credited = post_credit_memo(
        "je-5",
        "CM-1",
        APRIL_10,
        {PROGRAM: usd("250.00")},
        usd("50.00"),
        {PROGRAM: after_recognise},
        OPEN,
    )
    after_credit = after_recognise.after_billing(usd("-250.00"))  # earned 800, billed 750

    balances = trial_balance([earn, invoiced, recognised, pay, credited])

    assert balances == {
        AR: usd("300.00"),  # 1,200 − 600 − 300: billed gross 900, paid 600
        WIP: usd("50.00"),  # 300 − 300 + 50
        DEFERRED: usd("0.00"),  # −700 + 500 + 200
        REVENUE: usd("-800.00"),  # credit balance: 300 + 500 earned
        VAT: usd("-150.00"),  # credit balance: 200 − 50
        CASH: usd("600.00"),
    }
    # The ledger agrees with the obligation's netted position.
    assert balances[WIP] == after_credit.unbilled_wip == usd("50.00")  # 800 − 750
    assert after_credit.deferred == usd("0.00")
    assert sum(m.amount for m in balances.values()) == 0


def test_the_trial_balance_lists_accounts_in_chart_order() -> None:
    entries = [
        post_payment("je-1", "PAY-1", APRIL_10, usd("10.00"), OPEN),
        recognise(usd("5.00"), earned=usd("0.00"), billed=usd("0.00")),
    ]
    assert list(trial_balance(entries)) == [AR, WIP, REVENUE, CASH]


def test_a_recognition_run_may_repeat_or_move_forward_but_not_go_back() -> None:
    journal = [
        recognise(usd("300.00"), earned=usd("0.00"), billed=usd("0.00")),
        issue(usd("100.00"), usd("0.00"), earned=usd("300.00"), billed=usd("0.00")),
    ]
    check_recognition_order(APRIL_10, journal)
    check_recognition_order(date(2026, 5, 31), journal)
    check_recognition_order(date(2020, 1, 31), journal[1:])  # an issue is not a recognition
    with pytest.raises(RecognitionOutOfOrderError, match="recognised through 2026-04-10"):
        check_recognition_order(date(2026, 3, 31), journal)
