"""Fixed fee: installments that always sum to the fee, change orders, percent-complete revenue.

Every expected figure is worked out by hand in the comments, never by the code under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.billing import (
    BilledLedger,
    LedgerEntry,
    LineKind,
    ObligationBilling,
    ObligationHistory,
    SourceKind,
    SourceRef,
)
from domain.errors import InvalidTermsError
from domain.fixed_fee import (
    FeeBelowBilledError,
    FixedFeeTerms,
    Installment,
    UnscheduledFeeError,
    bill_fixed_fee,
    installment_amounts,
    recognise_fixed_fee,
)
from domain.ids import InstallmentId, ObligationId, ResourceId, Role, TimeEntryId
from domain.money import Currency, Money
from domain.obligation import BillingContext, billing_model_for
from domain.period import Period
from domain.time_entry import TimeEntry
from tests.support.model_inputs import billing_context, committed, history_of, revenue_context

USD = Currency.of("USD")
JPY = Currency.of("JPY")
FF = ObligationId("ff")
AT = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), USD)


def pct(iid: str, due: date, percentage: str) -> Installment:
    return Installment(InstallmentId(iid), due, percentage=Decimal(percentage))


def fixed(iid: str, due: date, amount: str) -> Installment:
    return Installment(InstallmentId(iid), due, amount=Decimal(amount))


def terms(
    fee: str,
    installments: Sequence[Installment],
    currency: Currency = USD,
    estimate: str | None = None,
) -> FixedFeeTerms:
    return FixedFeeTerms(
        FF,
        "Transformation program",
        currency,
        Decimal(fee),
        tuple(installments),
        None if estimate is None else Decimal(estimate),
    )


def history(*versions: tuple[date, FixedFeeTerms]) -> ObligationHistory[FixedFeeTerms]:
    return history_of(FF, *versions)


def context(
    month: Period, ledger: BilledLedger | None = None, entries: Sequence[TimeEntry] = ()
) -> BillingContext:
    return billing_context(month, USD, entries=entries, ledger=ledger)


def entry(entry_id: str, day: date, hours: str, *, billable: bool = True) -> TimeEntry:
    item = TimeEntry.submit(
        TimeEntryId(entry_id),
        FF,
        ResourceId("r1"),
        Role("consultant"),
        day,
        Decimal(hours),
        billable=billable,
    )
    item.approve("psa", at=AT)
    return item


def source(iid: str) -> SourceRef:
    return SourceRef(SourceKind.INSTALLMENT, iid)


HALVES = (pct("i1", date(2026, 1, 15), "50"), pct("i2", date(2026, 2, 15), "50"))


# --- the schedule ------------------------------------------------------------------------------


def test_two_fifty_percent_installments_of_an_odd_amount_sum_to_the_fee() -> None:
    # 1000.01 = 100001 cents; each half is 50000.5 cents; floors 50000 + 50000 leave 1 cent,
    # and with equal remainders the first installment by order gets it: 500.01 + 500.00.
    schedule = installment_amounts(terms("1000.01", HALVES), {})
    assert schedule == {InstallmentId("i1"): usd("500.01"), InstallmentId("i2"): usd("500.00")}


def test_both_halves_billed_in_one_run_have_no_minus_one_cent_final_invoice() -> None:
    billing = bill_fixed_fee(
        history((date(2026, 1, 1), terms("1000.01", HALVES))), context(Period.month(2026, 2))
    )
    # Both installments fall due by 28 February: 500.01 then 500.00, total exactly 1000.01.
    assert [line.amount for line in billing.lines] == [usd("500.01"), usd("500.00")]
    assert all(line.kind is LineKind.INSTALLMENT for line in billing.lines)
    assert all(line.quantity == Decimal(1) for line in billing.lines)
    assert [line.unit_price for line in billing.lines] == [usd("500.01"), usd("500.00")]


def test_a_jpy_fee_splits_in_whole_yen_by_largest_remainder() -> None:
    thirds = (
        pct("a", date(2026, 1, 31), "33.33"),
        pct("b", date(2026, 2, 28), "33.33"),
        pct("c", date(2026, 3, 31), "33.34"),
    )
    # JPY has no minor units. 1000 yen x 33.33 % = 333.3, 333.3; x 33.34 % = 333.4.
    # Floors 333 + 333 + 333 = 999 leave 1 yen; the largest remainder (0.4) is c's: 333/333/334.
    schedule = installment_amounts(terms("1000", thirds, JPY), {})
    assert [m.amount for m in schedule.values()] == [Decimal(333), Decimal(333), Decimal(334)]
    assert all(m.currency == JPY for m in schedule.values())


def test_fixed_amount_installments_bill_exactly_their_amounts() -> None:
    schedule = installment_amounts(
        terms(
            "1000.00",
            (fixed("i1", date(2026, 1, 1), "250.00"), fixed("i2", date(2026, 2, 1), "750.00")),
        ),
        {},
    )
    assert schedule == {InstallmentId("i1"): usd("250.00"), InstallmentId("i2"): usd("750.00")}


def test_a_change_order_raising_the_fee_reallocates_only_the_unbilled_installments() -> None:
    three = (
        pct("i1", date(2026, 1, 15), "40"),
        pct("i2", date(2026, 2, 15), "30"),
        pct("i3", date(2026, 3, 15), "30"),
    )
    # v1: 10,000.00 → i1 = 40 % = 4,000.00, billed in January.
    # v2 (from 1 February): 10,000.01. What is left: 10,000.01 − 4,000.00 = 6,000.01 = 600001
    # cents over i2 and i3 weighted 30:30 → 300000.5 each; the tie goes to i2 by order:
    # i2 = 3,000.01, i3 = 3,000.00; i1 keeps its 4,000.00. Total 10,000.01.
    v1, v2 = terms("10000.00", three), terms("10000.01", three)
    obligation = history((date(2026, 1, 1), v1), (date(2026, 2, 1), v2))
    january = bill_fixed_fee(obligation, context(Period.month(2026, 1)))
    assert [line.amount for line in january.lines] == [usd("4000.00")]
    ledger = committed(BilledLedger(), january, "INV-1")

    february = bill_fixed_fee(obligation, context(Period.month(2026, 2), ledger))

    assert [line.amount for line in february.lines] == [usd("3000.01")]
    assert february.lines[0].allocations[0].source == source("i2")
    assert february.lines[0].allocations[0].terms == "contract v2"
    assert installment_amounts(v2, {InstallmentId("i1"): usd("4000.00")}) == {
        InstallmentId("i1"): usd("4000.00"),
        InstallmentId("i2"): usd("3000.01"),
        InstallmentId("i3"): usd("3000.00"),
    }


def test_a_fee_lowered_below_what_is_billed_needs_a_credit_memo() -> None:
    # 4,000.00 billed; the fee is cut to 3,000.00: 1,000.00 must be credited, not re-allocated.
    with pytest.raises(FeeBelowBilledError, match="credit memo") as raised:
        installment_amounts(terms("3000.00", HALVES), {InstallmentId("i1"): usd("4000.00")})
    assert raised.value.code == "fee_below_billed"


def test_a_fee_lowered_below_billed_is_refused_by_the_billing_run_too() -> None:
    obligation = history(
        (date(2026, 1, 1), terms("8000.00", HALVES)), (date(2026, 2, 1), terms("3000.00", HALVES))
    )
    january = bill_fixed_fee(obligation, context(Period.month(2026, 1)))
    ledger = committed(BilledLedger(), january, "INV-1")  # i1 = 50 % of 8,000.00 = 4,000.00
    with pytest.raises(FeeBelowBilledError):
        bill_fixed_fee(obligation, context(Period.month(2026, 2), ledger))


def test_a_fee_lowered_to_exactly_what_is_billed_leaves_nothing_for_the_rest() -> None:
    # 4,000.00 billed, fee cut to 4,000.00: i2 gets 4,000.00 − 4,000.00 = 0.00.
    schedule = installment_amounts(terms("4000.00", HALVES), {InstallmentId("i1"): usd("4000.00")})
    assert schedule[InstallmentId("i2")] == usd("0.00")


def test_a_raise_with_every_installment_billed_asks_for_a_new_installment() -> None:
    billed = {InstallmentId("i1"): usd("500.00"), InstallmentId("i2"): usd("500.00")}
    with pytest.raises(UnscheduledFeeError, match="add an installment"):
        installment_amounts(terms("1200.00", HALVES), billed)


# --- billing -----------------------------------------------------------------------------------


def test_only_installments_due_by_the_period_end_are_billed() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.00", HALVES)))
    january = bill_fixed_fee(obligation, context(Period.month(2026, 1)))
    # i1 is due 15 January, i2 15 February: January bills i1 only, 50 % of 1,000.00 = 500.00.
    assert [line.allocations[0].source for line in january.lines] == [source("i1")]
    assert january.lines[0].amount == usd("500.00")
    assert (
        january.lines[0].description
        == "Transformation program: installment i1 (50 %) due 2026-01-15"
    )


def test_a_rerun_on_its_own_output_proposes_nothing() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.01", HALVES)))
    month = Period.month(2026, 3)
    first = bill_fixed_fee(obligation, context(month))
    assert len(first.lines) == 2
    again = bill_fixed_fee(obligation, context(month, committed(BilledLedger(), first, "INV-1")))
    assert again == ObligationBilling()


def test_time_on_a_fixed_fee_is_costed_not_billed() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.00", HALVES)))
    billing = bill_fixed_fee(
        obligation, context(Period.month(2026, 1), entries=[entry("t1", date(2026, 1, 5), "8")])
    )
    assert {line.kind for line in billing.lines} == {LineKind.INSTALLMENT}
    assert all(a.source.kind is SourceKind.INSTALLMENT for a in billing.lines[0].allocations)


def test_a_released_installment_is_billed_again_and_a_written_off_one_is_not() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.00", HALVES)))
    ledger = BilledLedger().plus(
        [
            LedgerEntry("INV-1", FF, source("i1"), Decimal(1), usd("500.00")),
            LedgerEntry("INV-1", FF, source("i2"), Decimal(1), usd("500.00")),
            # CM-1 releases i1 (back to unbilled); CM-2 writes i2 off (settled for good).
            LedgerEntry("CM-1", FF, source("i1"), Decimal(-1), usd("-500.00"), credit=True),
            LedgerEntry("CM-2", FF, source("i2"), Decimal(-1), usd("-500.00"), write_off=True),
        ]
    )
    billing = bill_fixed_fee(obligation, context(Period.month(2026, 3), ledger))
    # i2 keeps its 500.00 (written off, forgiven); i1 gets 1,000.00 − 500.00 = 500.00 again.
    assert [(line.allocations[0].source, line.amount) for line in billing.lines] == [
        (source("i1"), usd("500.00"))
    ]


def test_the_model_is_registered_under_its_name() -> None:
    assert billing_model_for(terms("1000.00", HALVES)).name == "fixed_fee"


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fee", "installments", "message"),
    [
        ("1000.00", (pct("a", date(2026, 1, 1), "50"), pct("b", date(2026, 2, 1), "49")), "100"),
        ("1000.00", (fixed("a", date(2026, 1, 1), "500.00"),), "not the fee"),
        ("-1.00", (pct("a", date(2026, 1, 1), "100"),), "negative"),
        ("10.001", (pct("a", date(2026, 1, 1), "100"),), "minor units"),
        ("1000.00", (pct("a", date(2026, 1, 1), "50"), pct("a", date(2026, 2, 1), "50")), "repeat"),
        (
            "1000.00",
            (pct("a", date(2026, 1, 1), "50"), fixed("b", date(2026, 2, 1), "500.00")),
            "not both",
        ),
        ("1000.00", (), "needs installments"),
    ],
)
def test_inconsistent_schedules_are_refused(
    fee: str, installments: tuple[Installment, ...], message: str
) -> None:
    with pytest.raises(InvalidTermsError, match=message):
        terms(fee, installments)


def test_an_installment_has_exactly_one_of_a_percentage_or_an_amount() -> None:
    with pytest.raises(InvalidTermsError, match="exactly one"):
        Installment(InstallmentId("x"), date(2026, 1, 1))
    with pytest.raises(InvalidTermsError, match="exactly one"):
        Installment(InstallmentId("x"), date(2026, 1, 1), Decimal(50), Decimal(500))


def test_an_estimate_at_completion_must_be_positive() -> None:
    with pytest.raises(InvalidTermsError, match="estimate"):
        terms("1000.00", HALVES, estimate="0")


# --- revenue -----------------------------------------------------------------------------------


def revenue(
    obligation: ObligationHistory[FixedFeeTerms], as_of: date, entries: Sequence[TimeEntry]
) -> Money:
    return recognise_fixed_fee(obligation, revenue_context(as_of, USD, entries=entries))


def test_revenue_is_percent_complete_by_hours_with_catch_up_after_an_estimate_change() -> None:
    v1 = terms("10000.00", HALVES, estimate="100")
    v2 = terms("10000.00", HALVES, estimate="160")  # rebaselined from 1 April
    obligation = history((date(2026, 1, 1), v1), (date(2026, 4, 1), v2))
    march = [entry("m1", date(2026, 3, 10), "24"), entry("m2", date(2026, 3, 20), "16")]
    april = [entry("a1", date(2026, 4, 8), "24"), entry("a2", date(2026, 4, 22), "16")]
    # 31 March: 40 h of 100 h = 40 % of 10,000.00 = 4,000.00.
    assert revenue(obligation, date(2026, 3, 31), march + april) == usd("4000.00")
    # 30 April: 80 h of the new 160 h = 50 % = 5,000.00 cumulative (April earns 1,000.00:
    # 40 h alone at the new estimate would be 2,500.00, the catch-up takes back 1,500.00).
    assert revenue(obligation, date(2026, 4, 30), march + april) == usd("5000.00")


def test_revenue_follows_a_fee_change_cumulatively() -> None:
    v1 = terms("10000.00", HALVES, estimate="100")
    v2 = terms("12000.00", HALVES, estimate="100")
    obligation = history((date(2026, 1, 1), v1), (date(2026, 4, 1), v2))
    hours = [entry("m1", date(2026, 3, 10), "24"), entry("m2", date(2026, 3, 20), "16")]
    # 40 % of 10,000.00 = 4,000.00 in March; the same 40 % of the new 12,000.00 = 4,800.00.
    assert revenue(obligation, date(2026, 3, 31), hours) == usd("4000.00")
    assert revenue(obligation, date(2026, 4, 1), hours) == usd("4800.00")


def test_revenue_rounds_half_up_to_the_cent() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.01", HALVES, estimate="8")))
    # 4 h of 8 h = 50 % of 1,000.01 = 500.005 → 500.01 half-up.
    assert revenue(obligation, date(2026, 1, 31), [entry("t", date(2026, 1, 5), "4")]) == usd(
        "500.01"
    )


def test_revenue_is_capped_at_the_fee_when_hours_overrun_the_estimate() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.00", HALVES, estimate="10")))
    hours = [entry("t1", date(2026, 1, 5), "8"), entry("t2", date(2026, 1, 6), "8")]
    # 16 h of 10 h would be 160 %; capped at 100 % = 1,000.00.
    assert revenue(obligation, date(2026, 1, 31), hours) == usd("1000.00")


def test_revenue_counts_approved_time_of_any_billable_flag_and_ignores_the_rest() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.00", HALVES, estimate="20")))
    submitted = TimeEntry.submit(
        TimeEntryId("s"), FF, ResourceId("r1"), Role("c"), date(2026, 1, 5), Decimal(8)
    )
    rejected = TimeEntry.submit(
        TimeEntryId("r"), FF, ResourceId("r1"), Role("c"), date(2026, 1, 5), Decimal(8)
    )
    rejected.reject("wrong_project", at=AT)
    elsewhere = TimeEntry.submit(
        TimeEntryId("o"), ObligationId("other"), ResourceId("r1"), Role("c"), date(2026, 1, 5),
        Decimal(8),
    )  # fmt: skip
    elsewhere.approve("psa", at=AT)
    counted = [
        entry("b", date(2026, 1, 5), "3"),
        entry("n", date(2026, 1, 6), "2", billable=False),
        entry("late", date(2026, 2, 1), "8"),  # after as_of
    ]
    # Only b and n count: 5 h of 20 h = 25 % of 1,000.00 = 250.00.
    assert revenue(
        obligation, date(2026, 1, 31), [submitted, rejected, elsewhere, *counted]
    ) == usd("250.00")


def test_without_an_estimate_revenue_follows_the_installments_due() -> None:
    obligation = history((date(2026, 1, 1), terms("1000.01", HALVES)))
    # By 31 January only i1 is due: 500.01; by 15 February both: 1,000.01.
    assert revenue(obligation, date(2026, 1, 14), []) == usd("0.00")
    assert revenue(obligation, date(2026, 1, 31), []) == usd("500.01")
    assert revenue(obligation, date(2026, 2, 15), []) == usd("1000.01")
