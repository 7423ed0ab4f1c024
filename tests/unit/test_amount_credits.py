"""Concessions (ADR 0027): a credit memo line credits an amount as well as a quantity. An
amount returns no hours; it is written off (leakage) unless the request says it releases.
Over-crediting is refused the same way in both forms. Figures worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.billing import LineKind, SourceKind, SourceRef
from domain.credit_memo import CreditMemo, CreditRequest
from domain.credit_plan import CreditRequestError
from domain.errors import OverCreditError
from domain.ids import CreditMemoId, RateCardId, Role
from domain.invoice import Invoice, InvoiceState
from domain.money import Money
from domain.period import Period
from domain.ratecard import RateCardVersion
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import TimeEntry
from tests.support.builders import EUR, TM, contract, d, entry, rate_card
from tests.support.credit_books import Books

MARCH, APRIL = Period.month(2026, 3), Period.month(2026, 4)
E1 = SourceRef(SourceKind.TIME_ENTRY, "e1")
E2 = SourceRef(SourceKind.TIME_ENTRY, "e2")


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def advisory() -> tuple[Books, Invoice, list[TimeEntry]]:
    """One T&M line: e1 8 h and e2 4 h at 100.00 = 1,200.00 net, 240.00 VAT, 1,440.00 gross."""
    books = Books()
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    (invoice,) = books.bill(MARCH, [c], [], [rate_card()], entries)
    return books, invoice, entries


def rerun(books: Books, entries: list[TimeEntry]) -> bool:
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    return books.preview(APRIL, [c], [], [rate_card()], entries).is_empty


def test_an_amount_credit_takes_value_and_no_hours_spread_over_the_line() -> None:
    books, invoice, entries = advisory()
    memo = books.credit(invoice, [CreditRequest(1, amount=d("150.00"))])
    # 150.00 over 800.00 and 400.00: 100.00 and 50.00, no quantity
    assert [(a.source, a.quantity, a.amount) for a in memo.lines[0].allocations] == [
        (E1, d("0"), eur("100.00")),
        (E2, d("0"), eur("50.00")),
    ]
    assert (memo.totals.net, memo.totals.tax, memo.totals.gross) == (
        eur("150.00"),
        eur("30.00"),
        eur("180.00"),
    )
    assert memo.lines[0].kind is LineKind.TIME
    assert rerun(books, entries)  # no hour returns to unbilled


def test_an_amount_credit_is_a_concession_unless_it_says_it_releases() -> None:
    books, invoice, _ = advisory()
    conceded = books.credit(invoice, [CreditRequest(1, E1, amount=d("80.00"))])
    released = books.credit(invoice, [CreditRequest(1, E1, amount=d("20.00"), releases=True)])
    assert [e.write_off for e in conceded.ledger_entries()] == [True]
    assert [e.write_off for e in released.ledger_entries()] == [False]
    assert all(e.credit for e in [*conceded.ledger_entries(), *released.ledger_entries()])
    assert books.ledger.standing(E1).conceded == d("80.00")
    assert books.ledger.standing(E1).released == d("20.00")


def test_a_releasing_amount_credit_on_time_is_a_price_correction_that_returns_no_hours() -> None:
    books, invoice, entries = advisory()
    books.credit(invoice, [CreditRequest(1, amount=d("300.00"), releases=True)])
    assert books.ledger.billed_quantity(E1) == d("8")
    assert rerun(books, entries)


def test_an_amount_beyond_what_the_line_has_left_is_refused() -> None:
    books, invoice, _ = advisory()
    books.credit(invoice, [CreditRequest(1, E1, d("6"))])  # 600.00 of e1 taken back
    with pytest.raises(OverCreditError):
        books.credit(invoice, [CreditRequest(1, E1, amount=d("200.01"))])
    with pytest.raises(OverCreditError):
        books.credit(invoice, [CreditRequest(1, amount=d("600.01"))])
    assert invoice.amount_credited == eur("720.00")  # refusals changed nothing


def test_a_quantity_after_an_amount_takes_its_share_of_the_value_that_is_left() -> None:
    books, invoice, _ = advisory()
    books.credit(invoice, [CreditRequest(1, E1, amount=d("400.00"))])
    # e1: 8 h worth 400.00 left; 4 h take half of it
    memo = books.credit(invoice, [CreditRequest(1, E1, d("4"))])
    assert [(a.quantity, a.amount) for a in memo.lines[0].allocations] == [(d("4"), eur("200.00"))]
    last = books.credit(invoice, [CreditRequest(1, E1)])
    assert [(a.quantity, a.amount) for a in last.lines[0].allocations] == [(d("4"), eur("200.00"))]
    with pytest.raises(OverCreditError):
        books.credit(invoice, [CreditRequest(1, E1, amount=d("0.01"))])


def test_hours_whose_value_was_conceded_in_full_cannot_be_credited_for_nothing() -> None:
    books, invoice, _ = advisory()
    books.credit(invoice, [CreditRequest(1, E2, amount=d("400.00"))])
    with pytest.raises(OverCreditError):
        books.credit(invoice, [CreditRequest(1, E2, d("1"))])
    # the whole line takes what is left: e1 only
    memo = books.credit(invoice, [CreditRequest(1)])
    assert [(a.source, a.quantity) for a in memo.lines[0].allocations] == [(E1, d("8"))]


def test_two_requests_in_one_memo_never_take_more_than_the_line_together() -> None:
    _, invoice, _ = advisory()
    with pytest.raises(OverCreditError):
        CreditMemo.against(
            CreditMemoId("CM-9"), invoice,
            [CreditRequest(1, amount=d("1000.00")), CreditRequest(1, amount=d("200.01"))],
            "too much", "ar-clerk",
        )  # fmt: skip
    assert invoice.credit_reservations == {}
    # an amount and then every hour: the hours take only the 200.00 that is left
    memo = CreditMemo.against(
        CreditMemoId("CM-9"), invoice,
        [CreditRequest(1, amount=d("1000.00")), CreditRequest(1, E1), CreditRequest(1, E2)],
        "all of it", "ar-clerk",
    )  # fmt: skip
    assert memo.totals.net == eur("1200.00")


def test_an_invoice_and_credits_by_amount_and_quantity_that_take_everything_net_to_zero() -> None:
    books, invoice, _ = advisory()
    memos = [
        books.credit(invoice, [CreditRequest(1, amount=d("333.33"))]),
        books.credit(invoice, [CreditRequest(1, E2, d("1.5"))]),
        books.credit(invoice, [CreditRequest(1)]),
    ]
    assert sum((m.totals.gross.amount for m in memos), Decimal(0)) == invoice.totals.gross.amount
    assert sum((m.totals.tax.amount for m in memos), Decimal(0)) == invoice.totals.tax.amount
    assert invoice.state is InvoiceState.CREDITED


def test_a_request_names_a_quantity_or_an_amount_not_both() -> None:
    with pytest.raises(CreditRequestError, match="not both"):
        CreditRequest(1, E1, d("1"), d("100.00"))


def test_only_an_amount_credit_says_whether_it_releases() -> None:
    with pytest.raises(CreditRequestError, match="releases"):
        CreditRequest(1, E1, d("1"), releases=True)


def test_a_credited_amount_is_positive_and_in_whole_minor_units() -> None:
    _, invoice, _ = advisory()
    with pytest.raises(CreditRequestError, match="positive"):
        CreditRequest(1, amount=d("0"))
    with pytest.raises(CreditRequestError, match="minor units"):
        CreditMemo.against(
            CreditMemoId("CM-9"), invoice, [CreditRequest(1, amount=d("10.005"))], "x", "ar"
        )


def test_a_credited_quantity_is_positive_with_or_without_a_source() -> None:
    _, invoice, _ = advisory()
    for source in (E1, None):
        for quantity in ("0", "-1"):
            request = CreditRequest(1, source, d(quantity))
            with pytest.raises(CreditRequestError, match="quantity is positive"):
                CreditMemo.against(CreditMemoId("CM-9"), invoice, [request], "x", "ar")
    assert invoice.creditable(1, E1) == (d("8"), d("800.00"))


def test_a_write_off_memo_cannot_release_an_amount() -> None:
    _, invoice, _ = advisory()
    with pytest.raises(CreditRequestError, match="releases nothing"):
        CreditMemo.against(
            CreditMemoId("CM-9"), invoice,
            [CreditRequest(1, amount=d("10.00"), releases=True)], "x", "ar", write_off=True,
        )  # fmt: skip


def test_a_rate_change_dated_back_after_a_concession_reprices_the_hours_and_keeps_it() -> None:
    books = Books()
    card = rate_card()
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 20), "4")]
    (invoice,) = books.bill(MARCH, [c], [], [card], entries)
    books.credit(invoice, [CreditRequest(1, E2, amount=d("100.00"))])  # 400.00 → 300.00
    books.credit(invoice, [CreditRequest(1, E2, d("2"))])  # 2 h take half of 300.00
    card.publish(RateCardVersion(2, date(2026, 3, 15), EUR, {Role("consultant"): d("120")}))
    (adjustment,) = books.preview(APRIL, [c], [], [card], entries).adjustments
    # e2's 2 h still billed: 2 × (120 − 100) = 40.00; the concession is not billed back
    assert adjustment.totals.net == eur("40.00")


def test_credited_hours_carry_two_decimals_like_the_hours_billed() -> None:
    books, invoice, _ = advisory()
    for request in (CreditRequest(1, E1, quantity=d("0.0000000001")),
                    CreditRequest(1, quantity=d("1.005"))):  # fmt: skip
        with pytest.raises(CreditRequestError, match=r"finer than 0\.01 h"):
            books.credit(invoice, [request])
    memo = books.credit(invoice, [CreditRequest(1, E1, quantity=d("0.25"))])
    assert memo.totals.net == eur("25.00")
