"""Recurring fees: monthly in advance, partial months prorated by day, straight-line revenue.

Every expected figure is worked out by hand in the comments, never by the code under test.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

import attrs
import pytest

from domain.billing import (
    BilledLedger,
    LineKind,
    ObligationBilling,
    ObligationHistory,
    SourceKind,
    SourceRef,
)
from domain.errors import InvalidTermsError
from domain.ids import ObligationId
from domain.money import Currency, Money
from domain.obligation import BillingContext, billing_model_for
from domain.period import Period
from domain.recurring import RecurringTerms, bill_recurring, recognise_recurring
from tests.support.model_inputs import billing_context, committed, history_of, revenue_context

USD = Currency.of("USD")
BHD = Currency.of("BHD")
MS = ObligationId("ms")

# Service from 10 April (a 30-day month) to 20 June, 3,000.00 a month.
MANAGED = RecurringTerms(
    MS, "Managed service", USD, Decimal("3000.00"), date(2026, 4, 10), date(2026, 6, 20)
)
APR, MAY, JUN, JUL = (Period.month(2026, m) for m in (4, 5, 6, 7))


def usd(amount: str) -> Money:
    return Money(Decimal(amount), USD)


def history(*versions: tuple[date, RecurringTerms]) -> ObligationHistory[RecurringTerms]:
    return history_of(MS, *versions)


def context(month: Period, ledger: BilledLedger | None = None) -> BillingContext:
    return billing_context(month, USD, ledger=ledger)


def source(month: Period) -> SourceRef:
    return SourceRef(SourceKind.RECURRING_PERIOD, f"ms:{month.key}")


def revenue(terms: RecurringTerms, as_of: date) -> Money:
    obligation = history((date(2026, 1, 1), terms))
    return recognise_recurring(obligation, revenue_context(as_of, terms.currency))


def test_a_partial_first_month_is_prorated_by_days() -> None:
    billing = bill_recurring(history((date(2026, 4, 1), MANAGED)), context(APR))
    # 10 to 30 April = 21 of 30 days: 3,000.00 x 21 / 30 = 2,100.00.
    (line,) = billing.lines
    assert (line.kind, line.amount, line.quantity) == (
        LineKind.RECURRING,
        usd("2100.00"),
        Decimal(1),
    )
    assert line.service_period == Period(date(2026, 4, 10), date(2026, 4, 30))
    assert line.allocations[0].source == source(APR)
    assert line.description == "Managed service: 2026-04, 2026-04-10 to 2026-04-30 (21/30 days)"


def test_each_month_is_billed_in_advance_once_and_a_rerun_proposes_nothing() -> None:
    obligation = history((date(2026, 4, 1), MANAGED))
    ledger = BilledLedger()
    amounts = []
    for month in (APR, MAY, JUN, JUL):
        billing = bill_recurring(obligation, context(month, ledger))
        amounts.append([line.amount for line in billing.lines])
        ledger = committed(ledger, billing, f"INV-{month.key}")
        assert bill_recurring(obligation, context(month, ledger)) == ObligationBilling()
    # Apr 2,100.00; May in full 3,000.00; 1 to 20 June = 20 of 30 days: 2,000.00; July nothing.
    assert amounts == [[usd("2100.00")], [usd("3000.00")], [usd("2000.00")], []]


def test_a_late_first_run_catches_up_every_month_started() -> None:
    billing = bill_recurring(history((date(2026, 4, 1), MANAGED)), context(JUN))
    assert [(line.allocations[0].source, line.amount) for line in billing.lines] == [
        (source(APR), usd("2100.00")),
        (source(MAY), usd("3000.00")),
        (source(JUN), usd("2000.00")),
    ]


def test_nothing_is_billed_before_the_service_starts() -> None:
    assert bill_recurring(history((date(2026, 1, 1), MANAGED)), context(Period.month(2026, 3))) == (
        ObligationBilling()
    )


def test_bhd_prorations_round_half_up_to_three_decimals() -> None:
    fils = RecurringTerms(
        MS, "Hosting", BHD, Decimal("1000.000"), date(2026, 3, 10), date(2026, 6, 20)
    )
    billing = bill_recurring(history((date(2026, 3, 1), fils)), context(JUN))
    # March: 10 to 31 = 22 of 31 days: 1,000.000 x 22 / 31 = 709.6774... → 709.677.
    # April and May in full: 1,000.000. June: 20 of 30 days = 666.6666... → 666.667.
    assert [line.amount for line in billing.lines] == [
        Money(Decimal(a), BHD) for a in ("709.677", "1000.000", "1000.000", "666.667")
    ]


def test_an_exact_half_cent_rounds_up_whatever_the_ambient_context() -> None:
    half = RecurringTerms(MS, "Support", USD, Decimal("100.01"), date(2026, 4, 16))
    # 16 to 30 April = 15 of 30 days: 100.01 / 2 = 50.005 → 50.01 half-up (not 50.00).
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        (line,) = bill_recurring(history((date(2026, 4, 1), half)), context(APR)).lines
    assert line.amount == usd("50.01")


def test_an_open_ended_service_bills_every_month_started() -> None:
    open_ended = attrs.evolve(MANAGED, service_end=None)
    billing = bill_recurring(history((date(2026, 4, 1), open_ended)), context(JUL))
    # Apr 2,100.00, then May, Jun, Jul in full.
    assert [line.amount for line in billing.lines] == [usd("2100.00")] + [usd("3000.00")] * 3


def test_a_price_change_applies_from_the_month_it_takes_effect() -> None:
    raised = attrs.evolve(MANAGED, amount_per_period=Decimal("3300.00"))
    obligation = history((date(2026, 4, 1), MANAGED), (date(2026, 5, 1), raised))
    billing = bill_recurring(obligation, context(JUN))
    # Apr at v1: 2,100.00; May at v2: 3,300.00; June at v2: 20/30 x 3,300.00 = 2,200.00.
    assert [(line.amount, line.allocations[0].terms) for line in billing.lines] == [
        (usd("2100.00"), "contract v1"),
        (usd("3300.00"), "contract v2"),
        (usd("2200.00"), "contract v2"),
    ]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 4, 9), "0.00"),  # before the service
        (date(2026, 4, 20), "1100.00"),  # 10 to 20 April = 11 days: 3,000 x 11 / 30
        (date(2026, 4, 30), "2100.00"),  # April's 21 days, what April billed
        (date(2026, 5, 15), "3551.61"),  # + 3,000 x 15 / 31 = 1,451.6129... → 1,451.61
        (date(2026, 5, 31), "5100.00"),  # + May in full
        (date(2026, 6, 30), "7100.00"),  # + June's 20 days: 2,000.00; the service has ended
        (date(2026, 9, 30), "7100.00"),  # nothing after the end: earned = billed
    ],
)
def test_revenue_is_straight_line_by_day_over_the_service(as_of: date, expected: str) -> None:
    assert revenue(MANAGED, as_of) == usd(expected)


def test_the_model_is_registered_under_its_name() -> None:
    assert billing_model_for(MANAGED).name == "recurring"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_per_period": Decimal("-1.00")}, "negative"),
        ({"amount_per_period": Decimal("1.001")}, "minor units"),
        ({"service_end": date(2026, 4, 9)}, "ends before"),
    ],
)
def test_inconsistent_recurring_terms_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTermsError, match=message):
        attrs.evolve(MANAGED, **changes)
