"""An engagement's balances as of a month end: books from the journal, backlog where the terms
fix a value, cost and margin from the delivery cost rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from application.balances import contract_value, engagement_balances
from application.errors import NotFoundError
from domain.billing import ObligationHistory, TermsInForce
from domain.fixed_fee import FixedFeeTerms, Installment
from domain.ids import ExpenseId, InstallmentId, InvoiceId, ObligationId, ResourceId
from domain.money import Money
from domain.period import Period
from domain.recurring import RecurringTerms
from domain.retainer import RetainerTerms
from domain.time_and_materials import NotToExceed, OveragePolicy
from tests.unit.application.conftest import EUR, TM, App, set_up_tm_contract, time_entry

MARCH = Period.month(2026, 3)


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def balances(app: App, as_of: date):  # type: ignore[no-untyped-def]
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        return engagement_balances(uow, "E1", as_of)


def billed_and_recognised(app: App) -> None:
    """12 h at 100 billed and issued in March (8 h costed at 60, 4 h without a cost rate),
    one 50.00 expense (a cost, not billed: the contract has no expense policy), revenue
    recognised for March."""
    cap = NotToExceed(amount=Decimal("5000"), policy=OveragePolicy.HOLD)
    set_up_tm_contract(app, cap=cap)
    app.do(
        c.RecordTimeEntries(
            (
                time_entry("t1", date(2026, 3, 2), "8", cost_rate=Decimal("60")),
                time_entry("t2", date(2026, 3, 3), "4"),
            )
        )
    )
    app.do(
        c.RecordExpenses(
            (
                c.ExpenseInput(
                    ExpenseId("x1"), "E1", TM, ResourceId("r1"), "travel",  # type: ignore[arg-type]
                    date(2026, 3, 4), eur("50.00"),
                ),
            )
        )
    )  # fmt: skip
    (invoice_id,) = app.do(c.RunBilling(MARCH, dry_run=False), actor="clerk").invoice_ids
    app.do(c.ApproveInvoice(InvoiceId(invoice_id)), actor="lead")
    app.do(c.IssueInvoice(InvoiceId(invoice_id), date(2026, 3, 31)), actor="lead")
    app.do(c.RecogniseRevenue(MARCH), actor="revenue-job")


def test_balances_read_the_journal_and_cost_the_delivery(app: App) -> None:
    billed_and_recognised(app)
    found = balances(app, MARCH.end)
    (tm,) = found.obligations
    assert (tm.model, tm.name) == ("time_and_materials", "Advisory")
    # the contract bills no expenses (no expense policy): 12 h x 100 billed and earned
    assert (found.recognised, found.billed) == (eur("1200.00"), eur("1200.00"))
    assert (found.unbilled_wip, found.deferred) == (eur("0.00"), eur("0.00"))
    assert tm.contract_value == eur("5000")  # the not-to-exceed amount
    assert found.backlog == eur("3800.00")
    assert found.cost == eur("530.00")  # 8 h x 60 + the 50.00 expense
    assert found.uncosted_hours == Decimal("4")  # never guessed
    assert found.margin == eur("670.00")
    assert found.margin_percent == Decimal("55.8")  # 670 / 1,200 = 55.83 %


def test_nothing_posted_after_the_date_counts(app: App) -> None:
    billed_and_recognised(app)
    february = balances(app, date(2026, 2, 28))
    assert (february.recognised, february.billed) == (eur("0"), eur("0"))
    assert february.cost == eur("0.00")
    assert february.margin_percent is None  # nothing recognised yet


def test_work_recognised_but_not_billed_is_wip_and_uncapped_time_has_no_backlog(
    app: App,
) -> None:
    set_up_tm_contract(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "3"),)))
    app.do(c.RecogniseRevenue(MARCH), actor="revenue-job")
    found = balances(app, MARCH.end)
    assert (found.recognised, found.billed) == (eur("300.00"), eur("0"))
    assert (found.unbilled_wip, found.deferred) == (eur("300.00"), eur("0"))
    assert found.obligations[0].backlog is None
    assert found.backlog is None  # open-ended: no total is better than a partial one


def test_an_unknown_engagement_is_not_found(app: App) -> None:
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow, pytest.raises(NotFoundError):
        engagement_balances(uow, "nope", MARCH.end)


def history(terms: object) -> ObligationHistory[object]:
    return ObligationHistory(ObligationId("o"), (TermsInForce(date(2026, 1, 1), 1, terms),))


def test_contract_value_of_terms_that_fix_one() -> None:
    fixed = FixedFeeTerms(
        ObligationId("o"), "Programme", EUR, Decimal("9000.00"),
        (Installment(InstallmentId("i1"), date(2026, 3, 31), percentage=Decimal("100")),),
    )  # fmt: skip
    assert contract_value(history(fixed), MARCH.end) == eur("9000.00")
    # 16 Jan to 15 Mar at 3,100.00 a month: 16/31 of January, February, 15/31 of March
    managed = RecurringTerms(
        ObligationId("o"), "Managed", EUR, Decimal("3100.00"), date(2026, 1, 16), date(2026, 3, 15)
    )
    assert contract_value(history(managed), MARCH.end) == eur("6200.00")  # 1,600 + 3,100 + 1,500
    retainer = RetainerTerms(
        ObligationId("o"), "Retainer", EUR, Decimal("4000.00"), Decimal(40),
        date(2026, 1, 1), date(2026, 6, 30),
    )  # fmt: skip
    assert contract_value(history(retainer), MARCH.end) == eur("24000.00")
    open_ended = RetainerTerms(
        ObligationId("o"), "Retainer", EUR, Decimal("4000.00"), Decimal(40), date(2026, 1, 1)
    )
    assert contract_value(history(open_ended), MARCH.end) is None
