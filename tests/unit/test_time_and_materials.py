"""Time and materials, worked by hand: rates on the work date, increments, daily caps,
expenses, and not-to-exceed caps crossed mid-entry under each overage policy."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.billing import Disposition, LineKind, SourceKind, SourceRef
from domain.errors import CapExceededError
from domain.ids import ExpenseId, RateCardId, ResourceId
from domain.money import Money
from domain.period import Period
from domain.time_and_materials import (
    ExpensePolicy,
    IncrementRounding,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
    admit_time_entry,
    round_to_increment,
)
from domain.time_entry import ExpenseItem
from tests.support.builders import AT, EUR, MARCH, TM, committed, contract, d, entry, rate_card, run
from tests.support.model_inputs import revenue_context


def tm(**kwargs: object) -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(TM, "Change request", EUR, RateCardId("RC"), **kwargs)  # type: ignore[arg-type]


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def test_each_entry_is_rated_by_the_rate_card_version_in_force_on_its_work_date() -> None:
    card = rate_card(
        versions=[
            (date(2026, 1, 1), {"consultant": "100", "senior": "150"}),
            (date(2026, 3, 15), {"consultant": "110", "senior": "150"}),
        ],
        overrides={"r9": "200"},
    )
    entries = [
        entry("e1", date(2026, 3, 10), "8"),  # v1: 8 x 100 = 800
        entry("e2", date(2026, 3, 20), "8"),  # v2: 8 x 110 = 880
        entry("e3", date(2026, 3, 20), "4", role="senior"),  # 4 x 150 = 600
        entry("e4", date(2026, 3, 5), "2", resource="r9"),  # override: 2 x 200 = 400
    ]
    proposal = run(MARCH, [contract([tm()])], [card], entries)
    (invoice,) = proposal.invoices
    by_amount = sorted(
        (line.quantity, line.unit_price.amount, line.amount) for line in invoice.lines
    )
    assert by_amount == [
        (d("2"), d("200"), eur("400.00")),
        (d("4"), d("150"), eur("600.00")),
        (d("8"), d("100"), eur("800.00")),
        (d("8"), d("110"), eur("880.00")),
    ]
    assert invoice.totals.net == eur("2680.00")  # 800 + 880 + 600 + 400
    assert invoice.totals.tax == eur("536.00")  # 20 % of 2680
    assert invoice.totals.gross == eur("3216.00")


def test_billing_increments_round_each_entry_up_or_to_nearest() -> None:
    up = tm(billing_increment=d("0.25"), increment_rounding=IncrementRounding.UP)
    nearest = tm(billing_increment=d("0.25"), increment_rounding=IncrementRounding.NEAREST)
    assert round_to_increment(d("1.1"), up) == d("1.25")
    assert round_to_increment(d("1.0"), up) == d("1.00")
    assert round_to_increment(d("1.1"), nearest) == d("1.00")
    assert round_to_increment(d("1.125"), nearest) == d("1.25")  # exactly half: up


def test_time_on_a_non_billable_task_is_never_billed() -> None:
    entries = [
        entry("e1", date(2026, 3, 2), "3"),
        entry("e2", date(2026, 3, 2), "5", billable=False),
    ]
    (invoice,) = run(MARCH, [contract([tm()])], [rate_card()], entries).invoices
    assert invoice.totals.net == eur("300.00")  # only e1: 3 x 100
    sources = {a.source.source_id for line in invoice.lines for a in line.allocations}
    assert sources == {"e1"}


def test_hours_above_the_daily_cap_per_person_are_not_billable() -> None:
    entries = [
        entry("e1", date(2026, 3, 2), "6"),
        entry("e2", date(2026, 3, 2), "4"),  # only 2 h left under the 8 h cap
        entry("e3", date(2026, 3, 2), "5", resource="r2"),  # another person, own cap
    ]
    (invoice,) = run(
        MARCH, [contract([tm(daily_cap_hours=d("8"))])], [rate_card()], entries
    ).invoices
    billed = {a.source.source_id: a.quantity for line in invoice.lines for a in line.allocations}
    assert billed == {"e1": d("6"), "e2": d("2"), "e3": d("5")}
    assert invoice.totals.net == eur("1300.00")  # 13 h x 100


def test_expenses_bill_at_cost_plus_markup_within_the_category_cap() -> None:
    terms = tm(expenses=ExpensePolicy(markup=d("0.10"), category_caps={"travel": d("500")}))
    expenses = []
    for n, (day, cost) in enumerate([(2, "300.00"), (3, "400.00")], 1):
        x = ExpenseItem.submit(
            ExpenseId(f"x{n}"), TM, ResourceId("r1"), "travel", date(2026, 3, day), eur(cost)
        )
        x.approve("psa", AT)
        expenses.append(x)
    proposal = run(MARCH, [contract([terms])], [rate_card()], expenses=expenses)
    (invoice,) = proposal.invoices
    (line,) = invoice.lines
    # billed cost 300 + 200 (the cap), x 1.10 = 550.00
    assert line.kind is LineKind.EXPENSE
    assert line.amount == eur("550.00")
    (excluded,) = proposal.exclusions
    assert excluded.disposition is Disposition.WRITTEN_OFF
    assert excluded.reason == "expense_category_cap"
    assert excluded.quantity == d("200.00")  # the 400 expense bills only 200 of its cost


def _cap_run(policy: OveragePolicy, rate: str = "100"):  # type: ignore[no-untyped-def]
    terms = tm(cap=NotToExceed(amount=d("1000"), policy=policy))
    card = rate_card(versions=[(date(2026, 1, 1), {"consultant": rate})])
    entries = [entry("e1", date(2026, 3, 2), "6"), entry("e2", date(2026, 3, 3), "6")]
    return terms, card, entries, run(MARCH, [contract([terms])], [card], entries)


def test_a_cap_crossed_mid_entry_with_bill_policy_bills_the_overage_and_flags_it() -> None:
    *_, proposal = _cap_run(OveragePolicy.BILL)
    (invoice,) = proposal.invoices
    under, over = invoice.lines
    # e1 6 h = 600, e2 splits: 4 h = 400 reaches the 1000 cap, 2 h = 200 above it
    assert (under.kind, under.quantity, under.amount) == (LineKind.TIME, d("10"), eur("1000.00"))
    assert (over.kind, over.quantity, over.amount) == (
        LineKind.TIME_OVER_CAP,
        d("2"),
        eur("200.00"),
    )
    assert over.flags == ("over_cap",)
    assert proposal.exclusions == ()


@pytest.mark.parametrize(
    ("policy", "disposition", "reason"),
    [
        (OveragePolicy.HOLD, Disposition.HELD, "over_cap_hold"),
        (OveragePolicy.WRITE_OFF, Disposition.WRITTEN_OFF, "over_cap_write_off"),
        (OveragePolicy.BLOCK, Disposition.HELD, "over_cap_blocked"),
    ],
)
def test_a_cap_crossed_mid_entry_splits_the_entry_at_the_cap(
    policy: OveragePolicy, disposition: Disposition, reason: str
) -> None:
    *_, proposal = _cap_run(policy)
    (invoice,) = proposal.invoices
    (line,) = invoice.lines
    assert line.amount == eur("1000.00")
    e2 = next(a for a in line.allocations if a.source.source_id == "e2")
    assert e2.quantity == d("4")
    (excluded,) = proposal.exclusions
    assert (excluded.source, excluded.quantity, excluded.value) == (
        SourceRef(SourceKind.TIME_ENTRY, "e2"),
        d("2"),
        eur("200"),
    )
    assert (excluded.disposition, excluded.reason) == (disposition, reason)


def test_the_block_policy_refuses_the_entry_that_would_cross_the_cap_at_ingestion() -> None:
    terms, card, (e1, e2), _ = _cap_run(OveragePolicy.BLOCK)
    c = contract([terms])
    history = c.obligation_history(TM)
    admit_time_entry(history, {card.rate_card_id: card}, [], e1)  # 600 <= 1000
    with pytest.raises(CapExceededError, match="over its cap"):
        admit_time_entry(history, {card.rate_card_id: card}, [e1], e2)  # 1200 > 1000


def test_an_amount_cap_that_does_not_divide_the_rate_is_hit_to_the_cent() -> None:
    *_, proposal = _cap_run(OveragePolicy.HOLD, rate="150")
    (invoice,) = proposal.invoices
    (line,) = invoice.lines
    # e1 6 h x 150 = 900; e2 fills the last 100.00: 100 / 150 = 0.666667 h (to the micro-hour)
    assert line.amount == eur("1000.00")
    e2 = next(a for a in line.allocations if a.source.source_id == "e2")
    assert (e2.quantity, e2.amount) == (d("0.666667"), eur("100"))
    (held,) = proposal.exclusions
    # the rest of e2: 6 - 0.666667 = 5.333333 h, worth 6 x 150 - 100 = 800
    assert (held.quantity, held.value) == (d("5.333333"), eur("800"))
    assert e2.quantity + held.quantity == d("6")  # no hour lost or invented


def test_held_overage_waits_for_a_decision_and_bills_once_released() -> None:
    terms, card, entries, proposal = _cap_run(OveragePolicy.HOLD)
    ledger = committed(None, proposal)
    e2 = entries[1]
    e2.hold(d("2"), "over_cap_hold", AT)
    again = run(MARCH, [contract([terms])], [card], entries, ledger=ledger)
    assert again.is_empty
    e2.release("finance-lead", AT)
    released = run(MARCH, [contract([terms])], [card], entries, ledger=ledger)
    (invoice,) = released.invoices
    (line,) = invoice.lines
    assert (line.kind, line.quantity, line.amount) == (
        LineKind.TIME_OVER_CAP,
        d("2"),
        eur("200.00"),
    )
    assert line.flags == ("approved_over_cap",)
    ledger = committed(ledger, released)
    assert run(MARCH, [contract([terms])], [card], entries, ledger=ledger).is_empty


def test_written_off_overage_is_never_billed_later() -> None:
    terms, card, entries, proposal = _cap_run(OveragePolicy.WRITE_OFF)
    ledger = committed(None, proposal)
    entries[1].write_off_over_cap(d("2"), "over_cap_write_off", AT)
    assert run(MARCH, [contract([terms])], [card], entries, ledger=ledger).is_empty


def test_an_hours_cap_splits_the_crossing_entry_by_hours() -> None:
    terms = tm(cap=NotToExceed(hours=d("10"), policy=OveragePolicy.HOLD))
    entries = [entry("e1", date(2026, 3, 2), "7"), entry("e2", date(2026, 3, 3), "7")]
    proposal = run(MARCH, [contract([terms])], [rate_card()], entries)
    (line,) = proposal.invoices[0].lines
    assert (line.quantity, line.amount) == (d("10"), eur("1000.00"))  # 7 + 3 h
    assert proposal.exclusions[0].quantity == d("4")


def test_cap_consumption_carries_across_billing_periods() -> None:
    terms = tm(cap=NotToExceed(amount=d("1000"), policy=OveragePolicy.HOLD))
    card = rate_card()
    march = [entry("e1", date(2026, 3, 2), "8")]  # 800
    april = [entry("e2", date(2026, 4, 1), "5")]  # only 200 left: 2 h
    first = run(MARCH, [contract([terms])], [card], march)
    ledger = committed(None, first)
    second = run(Period.month(2026, 4), [contract([terms])], [card], march + april, ledger=ledger)
    (line,) = second.invoices[0].lines
    assert (line.quantity, line.amount) == (d("2"), eur("200.00"))
    assert second.exclusions[0].quantity == d("3")


def test_work_dated_after_the_period_waits_for_its_own_run() -> None:
    entries = [entry("e1", date(2026, 3, 31), "1"), entry("e2", date(2026, 4, 1), "1")]
    (invoice,) = run(MARCH, [contract([tm()])], [rate_card()], entries).invoices
    assert [a.source.source_id for a in invoice.lines[0].allocations] == ["e1"]


def test_running_again_on_its_own_output_proposes_nothing() -> None:
    card = rate_card()
    entries = [entry(f"e{n}", date(2026, 3, n), "7.5") for n in range(1, 10)]
    c = contract([tm(billing_increment=d("0.5"))])
    first = run(MARCH, [c], [card], entries)
    assert first.invoices
    assert run(MARCH, [c], [card], entries, ledger=committed(None, first)).is_empty


def test_revenue_is_recognised_as_incurred_less_what_write_off_credits_gave_up() -> None:
    from domain.billing import BilledLedger, LedgerEntry
    from domain.time_and_materials import recognise_time_and_materials

    card = rate_card()
    c = contract([tm()])
    entries = (entry("e1", date(2026, 3, 2), "6"), entry("e2", date(2026, 3, 9), "4"))
    history = c.obligation_history(TM)
    as_of = date(2026, 3, 31)
    ctx = revenue_context(as_of, EUR, cards=[card], entries=entries)
    assert recognise_time_and_materials(history, ctx) == eur("1000.00")  # 10 h x 100
    e2 = SourceRef(SourceKind.TIME_ENTRY, "e2")
    ledger = BilledLedger(
        (
            LedgerEntry("INV-1", TM, e2, d("4"), eur("400")),
            LedgerEntry("CN-1", TM, e2, d("-2"), eur("-200"), write_off=True),
        )
    )
    ctx = revenue_context(as_of, EUR, cards=[card], entries=entries, ledger=ledger)
    assert recognise_time_and_materials(history, ctx) == eur("800.00")  # 200 given up
