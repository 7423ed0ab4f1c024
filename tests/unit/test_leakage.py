"""Leakage, worked by hand: each cause, the value at risk, and each hour or amount given up
counted once, whichever way it was given up (ADR 0028). The rate card bills a consultant at
100.00 an hour."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.billing import BilledLedger, LedgerEntry, SourceKind, SourceRef
from domain.contract import Contract
from domain.errors import InvalidTermsError
from domain.ids import EngagementId, ExpenseId, MilestoneId, ObligationId
from domain.leakage import (
    AgeBucket,
    InvalidLeakageQueryError,
    LeakageCause,
    LeakageFigures,
    LeakageReport,
    WatchedObligation,
    leakage_report,
)
from domain.milestone import Milestone, MilestoneState
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency, Money
from domain.period import Period
from domain.revenue import recognised_to_date
from domain.time_and_materials import (
    ExpensePolicy,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
)
from domain.time_entry import AlreadySettledError, ExpenseItem, ItemState, TimeEntry
from tests.support.builders import AT, EUR, MARCH, TM, committed, contract, d, entry, rate_card, run
from tests.support.model_inputs import revenue_context

END_OF_MARCH = date(2026, 3, 31)
CARD = rate_card()


def tm(**kwargs: object) -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(TM, "Change request", EUR, CARD.rate_card_id, **kwargs)  # type: ignore[arg-type]


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def watched(c: Contract, engagement: str = "E1") -> list[WatchedObligation]:
    return [
        WatchedObligation(
            c.customer_id, EngagementId(engagement), c.contract_id, c.currency,
            c.obligation_history(oid),
        )
        for oid in c.obligation_ids()
    ]  # fmt: skip


def report(
    c: Contract,
    entries: list[TimeEntry] = (),  # type: ignore[assignment]
    ledger: BilledLedger | None = None,
    *,
    expenses: list[ExpenseItem] = (),  # type: ignore[assignment]
    milestones: list[Milestone] = (),  # type: ignore[assignment]
    credits: dict[str, date] | None = None,
    as_of: date = END_OF_MARCH,
    aged_days: int = 30,
    start: date | None = None,
    end: date | None = None,
) -> LeakageReport:
    return leakage_report(
        watched(c), {CARD.rate_card_id: CARD}, entries, expenses, milestones,
        ledger or BilledLedger(), credits or {},
        as_of=as_of, aged_days=aged_days, start=start, end=end,
    )  # fmt: skip


def only(found: LeakageReport) -> LeakageFigures:
    (figures,) = found.totals().values()
    return figures


def causes(figures: LeakageFigures) -> dict[str, Money]:
    return {c.value: m for c, m in figures.leakage.items() if not m.is_zero()}


def billed(entry_id: str, hours: str, amount: str, document: str = "INV-1") -> LedgerEntry:
    return LedgerEntry(
        document, TM, SourceRef(SourceKind.TIME_ENTRY, entry_id), d(hours), eur(amount)
    )


def write_off_credit(entry_id: str, hours: str, amount: str, document: str) -> LedgerEntry:
    return LedgerEntry(
        document,
        TM,
        SourceRef(SourceKind.TIME_ENTRY, entry_id),
        -d(hours),
        -eur(amount),
        write_off=True,
    )


def revenue(c: Contract, entries: list[TimeEntry], ledger: BilledLedger, day: date) -> Money:
    ctx = revenue_context(day, EUR, cards=[CARD], entries=entries, ledger=ledger)
    return recognised_to_date(c.obligation_history(TM), ctx)


# -- each cause ------------------------------------------------------------------------------


def test_hours_written_off_over_a_cap_are_leakage_over_cap() -> None:
    c = contract([tm(cap=NotToExceed(amount=d("1000"), policy=OveragePolicy.WRITE_OFF))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    proposal = run(MARCH, [c], [CARD], entries)
    (excluded,) = proposal.exclusions  # 2 h of e2 above the 1,000.00 cap
    entries[1].write_off_over_cap(excluded.quantity, excluded.reason, AT)
    figures = only(report(c, entries, committed(None, proposal)))
    assert causes(figures) == {"over_cap": eur("200.00")}
    assert figures.at_risk_total == eur("0.00")  # the 10 h under the cap are billed


def test_hours_written_off_by_hand_are_leakage_by_hand() -> None:
    c = contract([tm()])
    e1 = entry("e1", date(2026, 3, 2), "8")
    ledger = BilledLedger((billed("e1", "5", "500"),))
    e1.write_off(
        d("3"), "goodwill", AT, settled=ledger.settled(SourceRef(SourceKind.TIME_ENTRY, "e1"))
    )
    figures = only(report(c, [e1], ledger))
    assert causes(figures) == {"by_hand": eur("300.00")}
    assert figures.leakage_total == eur("300.00")


def test_a_write_off_credit_is_conceded_at_the_credited_value_in_the_month_it_was_issued() -> None:
    c = contract([tm()])
    e1 = entry("e1", date(2026, 3, 2), "8")
    ledger = BilledLedger((billed("e1", "8", "800"), write_off_credit("e1", "3", "300", "CM-1")))
    found = report(c, [e1], ledger, credits={"CM-1": date(2026, 4, 2)}, as_of=date(2026, 4, 30))
    ((key, figures),) = found.groups
    assert key.period == Period.month(2026, 4)
    assert causes(figures) == {"conceded": Money(d("300"), EUR)}


def test_an_amount_concession_is_conceded_and_releases_no_hours() -> None:
    c = contract([tm()])
    e1 = entry("e1", date(2026, 1, 5), "8")
    concession = LedgerEntry(
        "CM-2", TM, SourceRef(SourceKind.TIME_ENTRY, "e1"), d("0"), eur("-50.00"), write_off=True
    )
    ledger = BilledLedger((billed("e1", "8", "800"), concession))
    figures = only(report(c, [e1], ledger, credits={"CM-2": date(2026, 3, 10)}))
    assert causes(figures) == {"conceded": eur("50.00")}
    assert figures.at_risk_total == eur("0.00")  # no hour came back to unbilled


def expense(day: date, cost: str, expense_id: str = "x1") -> ExpenseItem:
    x = ExpenseItem.submit(
        ExpenseId(expense_id), TM, entry("r", day, "1").resource_id, "travel", day, eur(cost)
    )
    x.approve("psa", AT)
    return x


def test_an_expense_unbilled_past_its_window_expires_as_leakage_and_is_never_billed() -> None:
    c = contract([tm(expenses=ExpensePolicy(markup=d("0.10"), billing_window_days=30))])
    x1 = expense(date(2026, 3, 1), "200.00")
    # the 31 March run is within 30 days of 1 March: still billable, not leakage yet
    assert report(c, expenses=[x1]).groups == ()
    (invoice,) = run(MARCH, [c], [CARD], expenses=[x1]).invoices
    assert invoice.totals.net == eur("220.00")
    # not billed by then: from 1 April on it has expired, at cost x 1.10
    assert run(Period.month(2026, 4), [c], [CARD], expenses=[x1]).is_empty
    figures = only(report(c, expenses=[x1], as_of=date(2026, 4, 1)))
    assert causes(figures) == {"expired_expense": eur("220.00")}


def test_an_expense_without_a_window_never_expires() -> None:
    c = contract([tm(expenses=ExpensePolicy())])
    x1 = expense(date(2026, 1, 2), "200.00")
    assert report(c, expenses=[x1], as_of=date(2026, 12, 31)).groups == ()
    (invoice,) = run(Period.month(2026, 12), [c], [CARD], expenses=[x1]).invoices
    assert invoice.totals.net == eur("200.00")


def test_an_expense_window_is_never_negative() -> None:
    with pytest.raises(InvalidTermsError):
        ExpensePolicy(billing_window_days=-1)


# -- value at risk ---------------------------------------------------------------------------


def test_hours_held_over_a_cap_are_at_risk_not_leakage() -> None:
    c = contract([tm(cap=NotToExceed(hours=d("10"), policy=OveragePolicy.HOLD))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    proposal = run(MARCH, [c], [CARD], entries)
    (excluded,) = proposal.exclusions
    entries[1].hold(excluded.quantity, excluded.reason, AT)
    figures = only(report(c, entries, committed(None, proposal)))
    assert figures.leakage_total == eur("0.00")
    assert figures.held_over_cap == eur("200.00")


def test_unbilled_time_older_than_the_limit_is_at_risk_by_age_bucket() -> None:
    c = contract([tm()])
    entries = [
        entry("e1", date(2026, 1, 5), "8"),  # 85 days old on 31 March
        entry("e2", date(2026, 2, 20), "2"),  # 39 days
        entry("e3", date(2026, 3, 20), "1"),  # 11 days: not yet at risk after 30 days
    ]
    figures = only(report(c, entries))
    assert {b.value: m for b, m in figures.aged_unbilled.items() if not m.is_zero()} == {
        "61-90": eur("800.00"),
        "31-60": eur("200.00"),
    }
    everything = only(report(c, entries, aged_days=0))
    assert everything.aged_unbilled[AgeBucket.DAYS_1_30] == eur("100.00")
    assert everything.at_risk_total == eur("1100.00")


def test_a_milestone_accepted_and_not_invoiced_is_at_risk() -> None:
    terms = MilestoneTerms(
        ObligationId("ms"), "Program", EUR, d("90000"),
        (MilestoneSpec(MilestoneId("M1"), "Design", percentage=d("40")),
         MilestoneSpec(MilestoneId("M2"), "Build", percentage=d("60"))),
    )  # fmt: skip
    c = contract([terms])
    accepted = Milestone(
        MilestoneId("M1"), ObligationId("ms"), "Design", MilestoneState.ACCEPTED,
        accepted_on=date(2026, 3, 12),
    )  # fmt: skip
    planned = Milestone(MilestoneId("M2"), ObligationId("ms"), "Build", MilestoneState.PLANNED)
    figures = only(report(c, milestones=[accepted, planned]))
    assert figures.milestones_not_invoiced == eur("36000.00")
    invoiced = BilledLedger(
        (
            LedgerEntry(
                "INV-1", ObligationId("ms"), SourceRef(SourceKind.MILESTONE, "M1"), d("1"),
                eur("36000.00"),
            ),
        )
    )  # fmt: skip
    assert report(c, ledger=invoiced, milestones=[accepted, planned]).groups == ()


# -- each hour and amount counts once --------------------------------------------------------


def test_the_domain_refuses_to_write_off_hours_a_write_off_credit_already_gave_up() -> None:
    e1 = entry("e1", date(2026, 3, 2), "8")
    ledger = BilledLedger((billed("e1", "8", "800"), write_off_credit("e1", "3", "300", "CM-1")))
    settled = ledger.settled(SourceRef(SourceKind.TIME_ENTRY, "e1"))  # 5 billed + 3 credited off
    with pytest.raises(AlreadySettledError) as refused:
        e1.write_off(d("3"), "goodwill", AT, settled=settled)
    assert refused.value.code == "already_settled"
    assert (e1.written_off, e1.state) == (d("0"), ItemState.APPROVED)


def test_a_second_write_off_of_the_same_hours_is_refused_by_the_domain() -> None:
    e1 = entry("e1", date(2026, 3, 2), "8")
    e1.write_off(d("8"), "goodwill", AT, settled=d("0"))
    with pytest.raises(AlreadySettledError):
        e1.write_off(d("8"), "goodwill again", AT, settled=d("0"))
    assert e1.written_off == d("8")


def test_a_hand_write_off_and_a_write_off_credit_of_different_hours_both_count() -> None:
    c = contract([tm()])
    e1 = entry("e1", date(2026, 3, 2), "8")
    e1.write_off(d("2"), "training hours", AT, settled=d("0"))  # before the run
    ledger = BilledLedger((billed("e1", "6", "600"), write_off_credit("e1", "1", "100", "CM-1")))
    figures = only(report(c, [e1], ledger, credits={"CM-1": date(2026, 3, 30)}))
    assert causes(figures) == {"by_hand": eur("200.00"), "conceded": eur("100.00")}
    # revenue as incurred: 8 h x 100 less the 2 h and the 1 h given up
    assert revenue(c, [e1], ledger, END_OF_MARCH) == eur("500.00")


def test_hours_given_up_both_by_hand_and_by_credit_count_once_in_leakage_and_revenue() -> None:
    # An entry recorded before the domain refused it: 3 h credited off and written off by hand.
    c = contract([tm()])
    e1 = entry("e1", date(2026, 3, 2), "8")
    e1.written_off = d("3")
    ledger = BilledLedger((billed("e1", "8", "800"), write_off_credit("e1", "3", "300", "CM-1")))
    figures = only(report(c, [e1], ledger, credits={"CM-1": date(2026, 3, 30)}))
    assert causes(figures) == {"conceded": eur("300.00")}
    assert revenue(c, [e1], ledger, END_OF_MARCH) == eur("500.00")  # not 200.00


def test_revenue_subtracts_hours_written_off_by_hand_once() -> None:
    c = contract([tm()])
    e1 = entry("e1", date(2026, 3, 2), "8")
    e1.write_off(d("3"), "goodwill", AT, settled=d("0"))
    assert revenue(c, [e1], BilledLedger(), END_OF_MARCH) == eur("500.00")


# -- the report itself -----------------------------------------------------------------------


def test_each_currency_has_its_own_totals() -> None:
    usd = Currency.of("USD")
    eur_contract = contract([tm()])
    usd_terms = TimeAndMaterialsTerms(TM, "CR", usd, rate_card("USD").rate_card_id)
    usd_contract = contract([usd_terms], currency="USD", contract_id="C2")
    e1 = entry("e1", date(2026, 1, 5), "1")
    found = leakage_report(
        [*watched(eur_contract), *watched(usd_contract, "E2")],
        {CARD.rate_card_id: CARD}, [e1], [], [], BilledLedger(), {}, as_of=END_OF_MARCH,
    )  # fmt: skip
    totals = found.totals()
    assert sorted(c.code for c in totals) == ["EUR", "USD"]
    assert totals[EUR].at_risk_total == eur("100.00")
    assert totals[usd].at_risk_total == Money(d("100.00"), usd)


def test_a_date_range_keeps_what_is_dated_inside_it() -> None:
    c = contract([tm()])
    entries = [entry("e1", date(2026, 1, 5), "8"), entry("e2", date(2026, 2, 5), "2")]
    found = report(c, entries, start=date(2026, 2, 1), end=date(2026, 2, 28))
    ((key, figures),) = found.groups
    assert (key.period, figures.at_risk_total) == (Period.month(2026, 2), eur("200.00"))


@pytest.mark.parametrize(
    ("start", "end", "aged_days"),
    [
        (None, date(2026, 4, 1), 30),  # after the as-of date
        (date(2026, 3, 5), date(2026, 3, 4), 30),  # ends before it starts
        (None, None, -1),
    ],
)
def test_a_report_over_an_impossible_range_is_refused(
    start: date | None, end: date | None, aged_days: int
) -> None:
    with pytest.raises(InvalidLeakageQueryError) as refused:
        report(contract([tm()]), start=start, end=end, aged_days=aged_days)
    assert refused.value.code == "invalid_leakage_query"


def test_the_report_never_adds_currencies() -> None:
    with pytest.raises(Exception, match="never added"):
        LeakageFigures.nothing(EUR).plus(LeakageFigures.nothing(Currency.of("USD")))


def test_the_causes_are_the_four_the_guide_names() -> None:
    assert [c.value for c in LeakageCause] == ["over_cap", "by_hand", "conceded", "expired_expense"]
