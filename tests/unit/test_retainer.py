"""Retainer: oldest-first drawdown, capped rollover, expiry as breakage, overage in arrears.

The reference scenario (domain guide, section 9.4): a monthly retainer of 40 h for 4,000.00,
rollover of up to 20 h usable for two months, overage at 150.00 an hour.

    month  bought  carried in      used (carry+own)  over  carried out     broken
    Jan    40      -               25 (0 + 25)       0     Jan 15          -
    Feb    40      Jan 15          55 (15 + 40)      5     -               -
    Mar    40      -               10 (0 + 10)       0     Mar 20          Mar 10
    Apr    40      Mar 20          0                 0     Mar 20, Apr 20  Apr 20
    May    40      Mar 20, Apr 20  0                 0     Apr 20, May 20  Mar 20, May 20

Every figure below is worked out by hand, never by the code under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from domain.billing import (
    BilledLedger,
    Disposition,
    LineKind,
    ObligationBilling,
    ObligationHistory,
    SourceKind,
    SourceRef,
)
from domain.errors import InvalidTermsError
from domain.ids import ObligationId, ResourceId, Role, TimeEntryId
from domain.money import Currency, Money
from domain.obligation import BillingContext, billing_model_for
from domain.period import Period
from domain.retainer import (
    CarriedHours,
    EntryOverage,
    OveragePolicy,
    RetainerTerms,
    bill_retainer,
    recognise_retainer,
    retainer_ledger,
)
from domain.time_entry import TimeEntry
from tests.support.model_inputs import billing_context, committed, history_of, revenue_context

USD = Currency.of("USD")
RET = ObligationId("ret")
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
JAN, FEB, MAR, APR, MAY = (Period.month(2026, m) for m in range(1, 6))

REFERENCE = RetainerTerms(
    RET,
    "Advisory retainer",
    USD,
    fee_per_period=Decimal("4000.00"),
    hours_per_period=Decimal(40),
    start=date(2026, 1, 1),
    rollover_cap_hours=Decimal(20),
    rollover_periods=2,
    overage_rate=Decimal("150.00"),
)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), USD)


def h(hours: str | int) -> Decimal:
    return Decimal(hours)


def entry(entry_id: str, day: date, hours: str, *, approve: bool = True) -> TimeEntry:
    item = TimeEntry.submit(
        TimeEntryId(entry_id), RET, ResourceId("r1"), Role("consultant"), day, Decimal(hours)
    )
    if approve:
        item.approve("psa", at=AT)
    return item


def reference_entries() -> list[TimeEntry]:
    """Jan 25 h; Feb 60 h (the last two, same day, listed out of id order); Mar 10 h."""
    return [
        entry("jan-1", date(2026, 1, 5), "8"),
        entry("jan-2", date(2026, 1, 12), "8"),
        entry("jan-3", date(2026, 1, 20), "9"),  # Jan: 8 + 8 + 9 = 25
        entry("feb-1", date(2026, 2, 2), "8"),
        entry("feb-2", date(2026, 2, 9), "12"),
        entry("feb-3", date(2026, 2, 16), "12"),
        entry("feb-4", date(2026, 2, 23), "12"),
        entry("feb-5", date(2026, 2, 25), "8"),
        entry("feb-6b", date(2026, 2, 27), "4"),
        entry("feb-6a", date(2026, 2, 27), "4"),  # Feb: 8 + 12 + 12 + 12 + 8 + 4 + 4 = 60
        entry("mar-1", date(2026, 3, 10), "10"),
    ]


def history(*versions: tuple[date, RetainerTerms]) -> ObligationHistory[RetainerTerms]:
    return history_of(RET, *versions)


def context(
    month: Period, entries: Sequence[TimeEntry], ledger: BilledLedger | None = None
) -> BillingContext:
    return billing_context(month, USD, entries=entries, ledger=ledger)


def fee_source(period: Period) -> SourceRef:
    return SourceRef(SourceKind.RETAINER_PERIOD, f"ret:{period.key}")


def time_source(entry_id: str) -> SourceRef:
    return SourceRef(SourceKind.TIME_ENTRY, entry_id)


def carried(*items: tuple[Period, int]) -> tuple[CarriedHours, ...]:
    return tuple(CarriedHours(origin, Decimal(hours)) for origin, hours in items)


# --- the drawdown ------------------------------------------------------------------------------


def test_the_reference_drawdown_month_by_month() -> None:
    jan, feb, mar, apr, may = retainer_ledger(REFERENCE, reference_entries(), date(2026, 5, 31))

    # Jan: 25 of 40 used; 15 unused, under the 20 h cap, all carried.
    assert jan.used_from_current == h(25)
    assert jan.carried_out == carried((JAN, 15))
    assert jan.broken == ()

    # Feb: the 15 carried hours go first, then 40 of Feb's own: 15 + 40 = 55 of 60 used, 5 over.
    assert feb.carried_in == carried((JAN, 15))
    assert feb.used_from_carry == carried((JAN, 15))
    assert feb.used_from_current == h(40)
    assert feb.overage_hours == h(5)
    assert feb.carried_out == ()
    assert feb.broken == ()

    # Mar: 10 used, 30 unused: 20 carried (the cap), 10 broken.
    assert mar.carried_in == ()
    assert mar.used_from_current == h(10)
    assert mar.carried_out == carried((MAR, 20))
    assert mar.broken == carried((MAR, 10))

    # Apr: nothing used; Mar's 20 still alive (usable in Apr and May); of Apr's 40, 20 carry
    # and 20 break.
    assert apr.carried_in == carried((MAR, 20))
    assert apr.used_hours == h(0)
    assert apr.carried_out == carried((MAR, 20), (APR, 20))
    assert apr.broken == carried((APR, 20))

    # May: Mar's 20 reach the end of their two months and expire; of May's 40, 20 carry, 20 break.
    assert may.carried_in == carried((MAR, 20), (APR, 20))
    assert may.carried_out == carried((APR, 20), (MAY, 20))
    assert may.broken == carried((MAR, 20), (MAY, 20))
    assert may.broken_hours == h(40)


def test_overage_goes_to_the_entries_taken_last_by_work_date_then_id() -> None:
    feb = retainer_ledger(REFERENCE, reference_entries(), date(2026, 2, 28))[1]
    # Before 27 Feb: 15 carried + 8 + 12 + 12 + 12 + 8 − 15 = 37 of Feb's 40 used, 3 left.
    # 27 Feb, by id: feb-6a takes the 3 and is 1 h over; feb-6b (4 h) is all over: 1 + 4 = 5.
    assert feb.overage == (
        EntryOverage(TimeEntryId("feb-6a"), date(2026, 2, 27), h(1)),
        EntryOverage(TimeEntryId("feb-6b"), date(2026, 2, 27), h(4)),
    )


def test_hours_are_conserved_in_the_reference_scenario() -> None:
    balances = retainer_ledger(REFERENCE, reference_entries(), date(2026, 5, 31))
    # Bought 5 x 40 = 200 = used 25 + 55 + 10 = 90, broken 10 + 20 + 40 = 70, alive 20 + 20 = 40.
    assert sum(b.purchased for b in balances) == h(200)
    assert sum(b.used_hours for b in balances) == h(90)
    assert sum(b.broken_hours for b in balances) == h(70)
    assert balances[-1].balance == h(40)


def test_carried_hours_are_drawn_before_the_current_periods() -> None:
    entries = [entry("jan", date(2026, 1, 5), "20"), entry("feb", date(2026, 2, 5), "10")]
    _, feb, mar = retainer_ledger(REFERENCE, entries, date(2026, 3, 31))
    # Jan: 20 unused, 20 carried. Feb draws its 10 from Jan's carry (oldest first): 10 of Jan's
    # left; Feb's own 40 unused: 20 carried, 20 broken.
    assert feb.used_from_carry == carried((JAN, 10))
    assert feb.used_from_current == h(0)
    assert feb.carried_out == carried((JAN, 10), (FEB, 20))
    assert feb.broken == carried((FEB, 20))
    # Mar is Jan's second and last month: Jan's 10 expire at its end along with Mar's excess.
    assert mar.broken == carried((JAN, 10), (MAR, 20))


def test_an_open_period_decides_no_carry_or_breakage_yet() -> None:
    mar = retainer_ledger(REFERENCE, reference_entries(), date(2026, 3, 15))[-1]
    # 15 March: 10 of Mar's 40 used; 30 simply still available.
    assert not mar.closed
    assert (mar.carried_out, mar.broken) == ((), ())
    assert mar.balance == h(30)


def test_only_approved_billable_time_draws_the_balance() -> None:
    rejected = entry("rej", date(2026, 1, 6), "8", approve=False)
    rejected.reject("not_ours", at=AT)
    ignored = [
        entry("sub", date(2026, 1, 5), "8", approve=False),
        rejected,
        TimeEntry.submit(
            TimeEntryId("nb"),
            RET,
            ResourceId("r1"),
            Role("c"),
            date(2026, 1, 7),
            Decimal(8),
            billable=False,
        ),
    ]
    ignored[2].approve("psa", at=AT)
    counted = entry("ok", date(2026, 1, 8), "5")
    held = entry("held", date(2026, 1, 9), "3")
    held.hold(Decimal(1), "cap", at=AT)
    (jan,) = retainer_ledger(REFERENCE, [*ignored, counted, held], date(2026, 1, 31))
    # Only "ok" (5 h) and the held entry (3 h) count: 8 used.
    assert jan.used_from_current == h(8)


def test_a_retainer_that_ends_breaks_whatever_would_have_carried() -> None:
    ending = attrs.evolve(REFERENCE, end=date(2026, 2, 28))
    entries = [
        entry("jan-1", date(2026, 1, 5), "15"),
        entry("jan-2", date(2026, 1, 6), "15"),
        entry("mar", date(2026, 3, 5), "8"),
    ]
    balances = retainer_ledger(ending, entries, date(2026, 3, 31))
    # Only Jan and Feb exist. Jan uses 15 + 15 = 30 and carries 10; Feb uses nothing and is
    # the last period: Jan's 10 and all of Feb's 40 break. The March entry is outside it.
    assert [b.period for b in balances] == [JAN, FEB]
    assert balances[1].broken == carried((JAN, 10), (FEB, 40))
    assert balances[1].carried_out == ()


def test_a_mid_month_start_still_gives_a_full_first_month() -> None:
    mid = attrs.evolve(REFERENCE, start=date(2026, 1, 20))
    (jan,) = retainer_ledger(mid, [entry("early", date(2026, 1, 5), "8")], date(2026, 1, 31))
    assert jan.period == JAN
    assert jan.purchased == h(40)
    assert jan.used_from_current == h(8)


# --- billing -----------------------------------------------------------------------------------


def test_the_fee_is_billed_in_advance_and_overage_in_arrears_in_the_next_run() -> None:
    obligation = history((date(2026, 1, 1), REFERENCE))
    entries = reference_entries()
    ledger = BilledLedger()
    runs = {}
    for month in (JAN, FEB, MAR):
        runs[month] = bill_retainer(obligation, context(month, entries, ledger))
        ledger = committed(ledger, runs[month], f"INV-{month.key}")

    # Jan and Feb: the month's fee only (Feb's overage is not known until Feb is over).
    for month in (JAN, FEB):
        (fee,) = runs[month].lines
        assert (fee.kind, fee.amount, fee.service_period) == (
            LineKind.RETAINER_FEE,
            usd("4000.00"),
            month,
        )
        assert fee.allocations[0].source == fee_source(month)
    # Mar: Mar's fee, and Feb's 5 h overage x 150.00 = 750.00 (feb-6a 1 h = 150.00,
    # feb-6b 4 h = 600.00).
    fee, overage = runs[MAR].lines
    assert (fee.amount, fee.allocations[0].source) == (usd("4000.00"), fee_source(MAR))
    assert overage.kind is LineKind.RETAINER_OVERAGE
    assert overage.service_period == FEB
    assert (overage.quantity, overage.unit_price, overage.amount) == (
        h(5),
        usd("150.00"),
        usd("750.00"),
    )
    assert [(a.source, a.quantity, a.amount) for a in overage.allocations] == [
        (time_source("feb-6a"), h(1), usd("150.00")),
        (time_source("feb-6b"), h(4), usd("600.00")),
    ]


def test_a_rerun_on_its_own_output_proposes_nothing() -> None:
    obligation = history((date(2026, 1, 1), REFERENCE))
    # A first run in March catches up: Jan, Feb, Mar fees (3 x 4,000.00) and Feb's overage.
    first = bill_retainer(obligation, context(MAR, reference_entries()))
    assert [line.amount for line in first.lines] == [usd("4000.00")] * 3 + [usd("750.00")]
    ledger = committed(BilledLedger(), first, "INV-1")
    assert bill_retainer(obligation, context(MAR, reference_entries(), ledger)) == (
        ObligationBilling()
    )


def test_under_hold_the_overage_is_held_not_billed_until_released() -> None:
    held_policy = history(
        (date(2026, 1, 1), attrs.evolve(REFERENCE, overage_policy=OveragePolicy.HOLD))
    )
    entries = reference_entries()
    ledger = committed(BilledLedger(), bill_retainer(held_policy, context(FEB, entries)), "INV-FEB")

    march = bill_retainer(held_policy, context(MAR, entries, ledger))

    assert [line.kind for line in march.lines] == [LineKind.RETAINER_FEE]
    assert [(x.source, x.quantity, x.value, x.disposition, x.reason) for x in march.exclusions] == [
        (time_source("feb-6a"), h(1), usd("150.00"), Disposition.HELD, "retainer_overage_hold"),
        (time_source("feb-6b"), h(4), usd("600.00"), Disposition.HELD, "retainer_overage_hold"),
    ]

    # The firm records the hold on both entries, then releases feb-6b's 4 h for billing.
    by_id = {e.entry_id: e for e in entries}
    by_id[TimeEntryId("feb-6a")].hold(Decimal(1), "retainer_overage_hold", at=AT)
    by_id[TimeEntryId("feb-6b")].hold(Decimal(4), "retainer_overage_hold", at=AT)
    ledger = committed(ledger, march, "INV-MAR")
    assert bill_retainer(held_policy, context(MAR, entries, ledger)) == ObligationBilling()

    by_id[TimeEntryId("feb-6b")].release("controller", at=AT)
    april = bill_retainer(held_policy, context(APR, entries, ledger))
    # Apr fee, and feb-6b's released 4 h x 150.00 = 600.00; feb-6a stays held, so no exclusion.
    fee, overage = april.lines
    assert fee.allocations[0].source == fee_source(APR)
    assert [(a.source, a.quantity, a.amount) for a in overage.allocations] == [
        (time_source("feb-6b"), h(4), usd("600.00"))
    ]
    assert april.exclusions == ()


def test_written_off_overage_is_never_billed() -> None:
    obligation = history((date(2026, 1, 1), REFERENCE))
    entries = reference_entries()
    by_id = {e.entry_id: e for e in entries}
    by_id[TimeEntryId("feb-6b")].write_off(Decimal(4), "goodwill", at=AT, settled=Decimal(0))
    march = bill_retainer(obligation, context(MAR, entries))
    # Only feb-6a's 1 h x 150.00 = 150.00 is billed as overage.
    assert march.lines[-1].kind is LineKind.RETAINER_OVERAGE
    assert [(a.source, a.quantity) for a in march.lines[-1].allocations] == [
        (time_source("feb-6a"), h(1))
    ]


def test_a_change_order_prices_each_period_by_the_terms_in_force_when_it_starts() -> None:
    raised = attrs.evolve(REFERENCE, fee_per_period=Decimal("4400.00"))
    obligation = history((date(2026, 1, 1), REFERENCE), (date(2026, 3, 1), raised))
    billing = bill_retainer(obligation, context(MAR, []))
    # A catch-up run in March: Jan and Feb at v1's 4,000.00, Mar at v2's 4,400.00.
    assert [(line.amount, line.allocations[0].terms) for line in billing.lines] == [
        (usd("4000.00"), "contract v1"),
        (usd("4000.00"), "contract v1"),
        (usd("4400.00"), "contract v2"),
    ]


def test_the_model_is_registered_under_its_name() -> None:
    assert billing_model_for(REFERENCE).name == "retainer"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hours_per_period": Decimal(0)}, "positive number of hours"),
        ({"fee_per_period": Decimal("-1")}, "non-negative"),
        ({"fee_per_period": Decimal("0.001")}, "minor units"),
        ({"rollover_periods": 0}, "both a cap"),
        ({"end": date(2025, 12, 31)}, "ends before"),
        ({"overage_rate": Decimal(-1)}, "overage rate"),
    ],
)
def test_inconsistent_retainer_terms_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTermsError, match=message):
        attrs.evolve(REFERENCE, **changes)


# --- revenue -----------------------------------------------------------------------------------


def revenue(terms: RetainerTerms, as_of: date, entries: Sequence[TimeEntry]) -> Money:
    obligation = history((date(2026, 1, 1), terms))
    return recognise_retainer(obligation, revenue_context(as_of, USD, entries=entries))


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # Implied hourly value: 4,000.00 / 40 h = 100.00 an hour.
        (date(2026, 1, 31), "2500.00"),  # Jan: 25 h used x 100 = 2,500
        (date(2026, 2, 28), "8750.00"),  # + Feb 55 h x 100 = 5,500, + 5 h overage x 150 = 750
        (date(2026, 3, 15), "9750.00"),  # + Mar's 10 h used by 15 Mar x 100 = 1,000
        (date(2026, 3, 31), "10750.00"),  # + Mar's 10 h broken at month end x 100 = 1,000
        (date(2026, 4, 30), "12750.00"),  # + Apr's 20 h broken x 100 = 2,000
        (date(2026, 5, 31), "16750.00"),  # + Mar's 20 h expired + May's 20 h broken = 4,000
    ],
)
def test_a_rollover_retainer_earns_as_hours_are_used_or_broken(as_of: date, expected: str) -> None:
    assert revenue(REFERENCE, as_of, reference_entries()) == usd(expected)


def test_carried_hours_stay_deferred_until_used_or_expired() -> None:
    # Billed through May: 5 fees x 4,000.00 + 750.00 overage = 20,750.00; earned 16,750.00;
    # deferred 4,000.00 = the 40 h still alive x 100.00.
    billed = usd("20750.00")
    assert billed - revenue(REFERENCE, date(2026, 5, 31), reference_entries()) == usd("4000.00")


USE_IT_OR_LOSE_IT = attrs.evolve(REFERENCE, rollover_cap_hours=Decimal(0), rollover_periods=0)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 1, 31), "4000.00"),  # Jan in full
        (date(2026, 2, 14), "6000.00"),  # + 14/28 of 4,000 = 2,000; 20 h used, no overage yet
        # Feb in full: 8,000, + Feb's 60 − 40 = 20 h over (nothing carries) x 150 = 3,000.
        (date(2026, 2, 28), "11000.00"),
        # + 10/31 of 4,000 = 1,290.3225... → 1,290.32.
        (date(2026, 3, 10), "12290.32"),
    ],
)
def test_a_use_it_or_lose_it_retainer_earns_straight_line_by_day(
    as_of: date, expected: str
) -> None:
    assert revenue(USE_IT_OR_LOSE_IT, as_of, reference_entries()) == usd(expected)


def test_held_overage_is_not_earned_until_released() -> None:
    entries = reference_entries()
    held = attrs.evolve(REFERENCE, overage_policy=OveragePolicy.HOLD)
    # 2,500 + 5,500 used, and no overage: 8,000.00.
    assert revenue(held, date(2026, 2, 28), entries) == usd("8000.00")
    by_id = {e.entry_id: e for e in entries}
    by_id[TimeEntryId("feb-6b")].hold(Decimal(4), "retainer_overage_hold", at=AT)
    by_id[TimeEntryId("feb-6b")].release("controller", at=AT)
    # feb-6b's 4 released hours x 150 = 600: 8,600.00.
    assert revenue(held, date(2026, 2, 28), entries) == usd("8600.00")
