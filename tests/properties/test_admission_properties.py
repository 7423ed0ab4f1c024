"""Whatever a batch holds and in whatever order it arrives, what admission accepts never takes
a person's day over 24 hours nor an obligation's billed amount over a cap that blocks: the
set-wise shortcuts (rules decided once per key, the cap's bound read first) let nothing
through that the rules refuse."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.admission import TimeAdmission, billing_order
from domain.errors import DomainError
from domain.ids import ObligationId, RateCardId
from domain.money import Currency, dsum
from domain.plausibility import PlausibilityPolicy
from domain.time_and_materials import (
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
    price_entries,
)
from domain.time_entry import TimeEntry
from tests.support.admission import FakeScope, active_engagement, time
from tests.support.builders import contract, entry, rate_card

EUR = Currency.of("EUR")
TODAY = date(2026, 3, 31)
CARD = rate_card(versions=((date(2026, 1, 1), {"consultant": "100", "senior": "150"}),))
ROWS = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2"]),
        st.sampled_from(["consultant", "senior"]),
        st.integers(min_value=1, max_value=3),
        st.integers(min_value=1, max_value=48).map(lambda q: Decimal(q) / 4),
        st.booleans(),
    ),
    max_size=10,
)


def _billed(terms: TimeAndMaterialsTerms, entries: list[TimeEntry]) -> Decimal:
    history = contract([terms]).obligation_history(ObligationId("tm"))
    priced = price_entries(history, {CARD.rate_card_id: CARD}, entries)
    return dsum(p.billable_hours * p.rate.amount for p in priced)


def _days(entries: list[TimeEntry]) -> dict[tuple[str, date], Decimal]:
    days: defaultdict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for e in entries:
        days[(e.resource_id, e.work_date)] += e.hours
    return days


@settings(max_examples=150, deadline=None)
@given(stored=ROWS, sent=ROWS, cap=st.integers(min_value=0, max_value=6_000))
def test_what_admission_accepts_stays_within_the_day_and_the_blocking_cap(
    stored: list[tuple[str, str, int, Decimal, bool]],
    sent: list[tuple[str, str, int, Decimal, bool]],
    cap: int,
) -> None:
    terms = TimeAndMaterialsTerms(
        ObligationId("tm"),
        "T&M",
        EUR,
        RateCardId("RC"),
        cap=NotToExceed(amount=Decimal(cap), policy=OveragePolicy.BLOCK),
    )
    recorded = [
        entry(f"s{n}", date(2026, 3, day), str(h), role=role, resource=who, billable=b)
        for n, (who, role, day, h, b) in enumerate(stored)
    ]
    assume(_billed(terms, recorded) <= cap)
    assume(all(h <= 24 for h in _days(recorded).values()))
    scope = FakeScope([active_engagement("E1", "C1")], [contract([terms])], [CARD], (), recorded)
    batch = [
        time(f"n{n}", date(2026, 3, day), str(h), role=role, resource=who, billable=b)
        for n, (who, role, day, h, b) in enumerate(sent)
    ]
    admission = TimeAdmission(scope, PlausibilityPolicy(), TODAY, scope.days(), batch)
    accepted: list[TimeEntry] = []
    refusals: set[str] = set()
    for _, raw in billing_order(enumerate(batch)):
        try:
            accepted.append(admission.admit(raw))
        except DomainError as refusal:
            refusals.add(refusal.code)
    assert refusals <= {"cap_exceeded", "day_over_24_hours"}
    assert _billed(terms, recorded + accepted) <= cap
    assert all(h <= 24 for h in _days(recorded + accepted).values())


@settings(max_examples=200, deadline=None)
@given(
    sent=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(1, 4)), max_size=12
    )
)
def test_a_batch_is_taken_by_work_date_then_id_whatever_order_it_came_in(
    sent: list[tuple[str, int]],
) -> None:
    batch = list(enumerate(time(who, date(2026, 3, day), "1") for who, day in sent))
    ordered = billing_order(batch)
    assert [p for p, _ in ordered] == [
        p for p, _ in sorted(batch, key=lambda found: (found[1].work_date, found[1].entry_id))
    ]
