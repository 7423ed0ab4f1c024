"""Credits on scheduled fees (ADR 0026): a credit on a milestone or installment changes that
part only. A write-off credit is forgiven; a releasing credit is billed again on the same part;
no other milestone, installment or holdback moves, before or after the last one is billed.

Every figure is worked out by hand in the comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from domain.billing import LineKind, SourceKind, SourceRef
from domain.billing_run import BillingProposal
from domain.contract import Contract
from domain.credit_memo import CreditRequest
from domain.credit_plan import UncreditableLineError
from domain.fixed_fee import FixedFeeTerms, Installment
from domain.ids import InstallmentId, MilestoneId, ObligationId
from domain.invoice import Invoice
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Money
from domain.period import Period
from domain.revenue import recognised_to_date
from domain.time_entry import TimeEntry
from tests.support.builders import AT, EUR, contract, d, entry
from tests.support.credit_books import Books
from tests.support.model_inputs import revenue_context

MARCH, APRIL, MAY = Period.month(2026, 3), Period.month(2026, 4), Period.month(2026, 5)
PROGRAM = ObligationId("program")
FF = ObligationId("ff")


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def program() -> Contract:
    # 100,000.00 in four 25 % milestones, 10 % retention, m4 final.
    return contract(
        [
            MilestoneTerms(
                PROGRAM, "Program", EUR, d("100000.00"),
                tuple(
                    MilestoneSpec(MilestoneId(f"m{n}"), f"Phase {n}", percentage=d("25"),
                                  final=n == 4)
                    for n in range(1, 5)
                ),
                retention_percent=d("10"),
            )
        ]
    )  # fmt: skip


def milestones(*accepted: int) -> list[Milestone]:
    ms = [Milestone.plan(MilestoneId(f"m{n}"), PROGRAM, f"Phase {n}", AT) for n in range(1, 5)]
    for n in accepted:
        accept(ms[n - 1], date(2026, 3, n))
    return ms


def accept(m: Milestone, day: date) -> None:
    m.complete("signed deliverable", day, AT)
    m.accept("client-sponsor", day, AT)


def line_no(invoice: Invoice, kind: LineKind, source_id: str) -> int:
    for line in invoice.lines:
        if line.kind is kind and line.allocations[0].source.source_id == source_id:
            return line.line_no
    raise AssertionError(f"no {kind} line for {source_id}")


def billed(proposal: BillingProposal) -> list[tuple[LineKind, str, Decimal, Money]]:
    """(kind, source, quantity, amount) of every proposed line."""
    assert not proposal.blocked
    return [
        (line.kind, str(line.allocations[0].source), line.quantity, line.amount)
        for invoice in proposal.invoices
        for line in invoice.lines
    ]


def revenue(books: Books, c: Contract, ms: Sequence[Milestone], as_of: date) -> Money:
    ctx = revenue_context(as_of, EUR, milestones=ms, ledger=books.ledger)
    return recognised_to_date(c.obligation_history(c.obligation_ids()[0]), ctx)


def all_billed() -> tuple[Books, Contract, list[Milestone], Invoice]:
    books, c, ms = Books(), program(), milestones(1, 2, 3, 4)
    (invoice,) = books.bill(MARCH, [c], ms)
    return books, c, ms, invoice


# --- milestones ---------------------------------------------------------------------------------


def test_a_partial_release_on_one_milestone_never_makes_the_later_milestones_bill_more() -> None:
    books, c, ms = Books(), program(), milestones(1)
    (march,) = books.bill(MARCH, [c], ms)
    # Half of m1 credited and released: 0.5 × 25,000.00 = 12,500.00.
    m1 = SourceRef(SourceKind.MILESTONE, "m1")
    books.credit(march, [CreditRequest(line_no(march, LineKind.MILESTONE, "m1"), m1, d("0.5"))])
    accept(ms[1], date(2026, 4, 2))
    # m2 bills its own 25,000.00 less 2,500.00 held; m1 bills again exactly the 12,500.00 it
    # released, on the same milestone, with no second holdback.
    assert billed(books.preview(APRIL, [c], ms)) == [
        (LineKind.MILESTONE, "milestone:m1", d("0.5"), eur("12500.00")),
        (LineKind.MILESTONE, "milestone:m2", d("1"), eur("25000.00")),
        (LineKind.RETENTION_WITHHELD, "retention:m2:withheld", d("1"), eur("-2500.00")),
    ]


def test_a_concession_on_one_milestone_is_forgiven_and_moves_nothing_else() -> None:
    books, c, ms = Books(), program(), milestones(1)
    (march,) = books.bill(MARCH, [c], ms)
    books.credit(march, [CreditRequest(1, amount=d("5000.00"))])
    accept(ms[1], date(2026, 4, 2))
    assert billed(books.preview(APRIL, [c], ms)) == [
        (LineKind.MILESTONE, "milestone:m2", d("1"), eur("25000.00")),
        (LineKind.RETENTION_WITHHELD, "retention:m2:withheld", d("1"), eur("-2500.00")),
    ]
    # m1 earns 25,000.00 − 5,000.00 forgiven; m2 its full 25,000.00.
    assert revenue(books, c, ms, date(2026, 4, 30)) == eur("45000.00")


def test_a_concession_after_the_last_milestone_is_billed_blocks_nothing_and_bills_nothing() -> None:
    books, c, ms, invoice = all_billed()
    books.credit(invoice, [CreditRequest(line_no(invoice, LineKind.MILESTONE, "m2"),
                                         amount=d("1000.00"))])  # fmt: skip
    assert books.preview(APRIL, [c], ms).is_empty
    assert revenue(books, c, ms, date(2026, 4, 30)) == eur("99000.00")


def test_a_partial_write_off_after_the_last_milestone_is_billed_leaves_every_run_unblocked() -> (
    None
):
    books, c, ms, invoice = all_billed()
    m2 = SourceRef(SourceKind.MILESTONE, "m2")
    m2_line = line_no(invoice, LineKind.MILESTONE, "m2")
    books.credit(invoice, [CreditRequest(m2_line, m2, d("0.5"))], write_off=True)
    proposal = books.preview(APRIL, [c], ms)
    assert (proposal.blocked, proposal.is_empty) == ((), True)
    # 12,500.00 of m2 forgiven
    assert revenue(books, c, ms, date(2026, 4, 30)) == eur("87500.00")


def test_a_release_after_the_last_milestone_bills_exactly_that_amount_on_that_milestone() -> None:
    books, c, ms, invoice = all_billed()
    m3 = line_no(invoice, LineKind.MILESTONE, "m3")
    books.credit(invoice, [CreditRequest(m3, amount=d("1000.00"), releases=True)])
    assert billed(books.preview(APRIL, [c], ms)) == [
        (LineKind.MILESTONE, "milestone:m3", d("0"), eur("1000.00")),
    ]
    # A releasing credit is not a concession: revenue stays the whole fee.
    assert revenue(books, c, ms, date(2026, 4, 30)) == eur("100000.00")
    books.bill(APRIL, [c], ms)
    assert books.preview(MAY, [c], ms).is_empty


def test_a_milestone_released_in_full_is_billed_again_without_a_second_holdback() -> None:
    books, c, ms, invoice = all_billed()
    books.credit(invoice, [CreditRequest(line_no(invoice, LineKind.MILESTONE, "m3"))])
    assert billed(books.preview(APRIL, [c], ms)) == [
        (LineKind.MILESTONE, "milestone:m3", d("1"), eur("25000.00")),
    ]


def test_a_released_retention_credited_back_is_released_again_and_a_forgiven_one_is_not() -> None:
    books, c, ms, invoice = all_billed()
    r1 = line_no(invoice, LineKind.RETENTION_RELEASE, "m1:released")
    r2 = line_no(invoice, LineKind.RETENTION_RELEASE, "m2:released")
    books.credit(invoice, [CreditRequest(r1, amount=d("500.00"), releases=True)])
    books.credit(invoice, [CreditRequest(r2, amount=d("300.00"))])
    assert billed(books.preview(APRIL, [c], ms)) == [
        (LineKind.RETENTION_RELEASE, "retention:m1:released", d("0"), eur("500.00")),
    ]
    # The 300.00 of m2's retention forgiven is revenue m2 will never earn.
    assert revenue(books, c, ms, date(2026, 4, 30)) == eur("99700.00")


def test_a_withheld_retention_line_cannot_be_credited() -> None:
    _, _, _, invoice = all_billed()
    withheld = line_no(invoice, LineKind.RETENTION_WITHHELD, "m1:withheld")
    with pytest.raises(UncreditableLineError):
        Books().credit(invoice, [CreditRequest(withheld)])


def test_a_release_credit_on_one_milestone_leaves_the_revenue_of_the_others_alone() -> None:
    books, c, ms = Books(), program(), milestones(1)
    (march,) = books.bill(MARCH, [c], ms)
    books.credit(march, [CreditRequest(1, amount=d("7000.00"), releases=True)])
    accept(ms[1], date(2026, 4, 2))
    assert revenue(books, c, ms, date(2026, 4, 30)) == eur("50000.00")


# --- fixed fee installments ---------------------------------------------------------------------


def fixed_fee(estimate: str | None = None) -> Contract:
    # 1,000.00 in two halves due 15 January and 15 February.
    return contract(
        [
            FixedFeeTerms(
                FF, "Build", EUR, d("1000.00"),
                (
                    Installment(InstallmentId("i1"), date(2026, 1, 15), percentage=d("50")),
                    Installment(InstallmentId("i2"), date(2026, 2, 15), percentage=d("50")),
                ),
                None if estimate is None else d(estimate),
            )
        ]
    )  # fmt: skip


def ff_revenue(books: Books, c: Contract, as_of: date, entries: Sequence[TimeEntry] = ()) -> Money:
    ctx = revenue_context(as_of, EUR, entries=entries, ledger=books.ledger)
    return recognised_to_date(c.obligation_history(FF), ctx)


def test_a_release_on_an_installment_after_the_last_one_bills_exactly_that_amount() -> None:
    books, c = Books(), fixed_fee()
    (march,) = books.bill(MARCH, [c])
    books.credit(march, [CreditRequest(1, amount=d("100.00"), releases=True)])
    assert billed(books.preview(APRIL, [c])) == [
        (LineKind.INSTALLMENT, "installment:i1", d("0"), eur("100.00")),
    ]
    books.bill(APRIL, [c])
    assert books.preview(MAY, [c]).is_empty


def test_a_concession_on_an_installment_is_forgiven_and_reduces_its_revenue_only() -> None:
    books, c = Books(), fixed_fee()
    (march,) = books.bill(MARCH, [c])
    books.credit(march, [CreditRequest(2, amount=d("100.00"))])
    assert books.preview(APRIL, [c]).is_empty
    # i1 500.00 + i2 (500.00 − 100.00 forgiven)
    assert ff_revenue(books, c, date(2026, 3, 31)) == eur("900.00")


def test_percent_complete_revenue_is_earned_on_the_fee_less_what_was_forgiven() -> None:
    books, c = Books(), fixed_fee(estimate="100")
    (march,) = books.bill(MARCH, [c])
    books.credit(march, [CreditRequest(1, amount=d("200.00"))])
    worked = [entry("t1", date(2026, 3, 2), "20", obligation="ff")]
    # 20 h of 100 h: 20 % of (1,000.00 − 200.00) = 160.00
    assert ff_revenue(books, c, date(2026, 3, 31), worked) == eur("160.00")
