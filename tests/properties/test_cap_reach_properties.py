"""A batch whose bound stays within a blocking cap is one the exact, entry-by-entry admission
accepts in full: the shortcut never lets through an entry the cap would refuse."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.cap_reach import CandidateTime, RecordedTime, cap_out_of_reach
from domain.errors import CapExceededError
from domain.ids import RateCardId, Role
from domain.money import dsum
from domain.time_and_materials import (
    BlockingCapAdmission,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
)
from domain.time_entry import TimeEntry
from tests.support.builders import EUR, TM, contract, entry, rate_card

ROWS = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2", "r3"]),
        st.sampled_from(["consultant", "senior"]),
        st.integers(min_value=1, max_value=4),
        st.integers(min_value=1, max_value=40).map(lambda q: Decimal(q) / 4),
        st.booleans(),
    ),
    max_size=12,
)


def _entries(rows: list[tuple[str, str, int, Decimal, bool]], tag: str) -> list[TimeEntry]:
    return [
        entry(f"{tag}{n:02d}", date(2026, 3, day), str(h), role=role, resource=who, billable=b)
        for n, (who, role, day, h, b) in enumerate(rows)
    ]


def _recorded(entries: list[TimeEntry]) -> list[RecordedTime]:
    """The entries summed by role, work date and billable, as a store gives them."""
    groups: defaultdict[tuple[Role, date, bool], list[TimeEntry]] = defaultdict(list)
    for e in entries:
        groups[(e.role, e.work_date, e.billable)].append(e)
    return [
        RecordedTime(*key, len(found), dsum(e.hours for e in found))
        for key, found in groups.items()
    ]


@settings(max_examples=200, deadline=None)
@given(
    stored=ROWS,
    sent=ROWS,
    cap_hours=st.integers(min_value=1, max_value=200),
    cap_amount=st.one_of(st.none(), st.integers(min_value=100, max_value=40_000)),
    increment=st.sampled_from([None, Decimal("0.25"), Decimal("1")]),
    daily_cap=st.sampled_from([None, Decimal("6")]),
)
def test_a_batch_out_of_reach_of_the_cap_is_admitted_in_full_by_the_exact_rule(
    stored: list[tuple[str, str, int, Decimal, bool]],
    sent: list[tuple[str, str, int, Decimal, bool]],
    cap_hours: int,
    cap_amount: int | None,
    increment: Decimal | None,
    daily_cap: Decimal | None,
) -> None:
    cap = NotToExceed(
        hours=Decimal(cap_hours),
        amount=None if cap_amount is None else Decimal(cap_amount),
        policy=OveragePolicy.BLOCK,
    )
    terms = TimeAndMaterialsTerms(
        TM, "Advisory", EUR, RateCardId("RC"), billing_increment=increment,
        daily_cap_hours=daily_cap, cap=cap,
    )  # fmt: skip
    history = contract([terms]).obligation_history(TM)
    rates = {"consultant": "100", "senior": "150"}
    cards = {RateCardId("RC"): rate_card(versions=[(date(2026, 1, 1), rates)])}
    recorded, batch = _entries(stored, "s"), _entries(sent, "b")
    candidates = [
        CandidateTime(e.role, e.resource_id, e.work_date, e.billable, e.hours) for e in batch
    ]
    if not cap_out_of_reach(history, cards, _recorded(recorded), candidates):
        return
    admission = BlockingCapAdmission(history, cards, recorded)
    for e in batch:
        try:
            (admission.admit if e.billable else admission.record)(e)
        except CapExceededError:  # pragma: no cover - the property fails here
            raise AssertionError(f"{e.entry_id} was out of reach yet refused") from None


def test_a_batch_far_below_the_cap_is_out_of_reach_and_one_near_it_is_not() -> None:
    cap = NotToExceed(hours=Decimal(100), policy=OveragePolicy.BLOCK)
    history = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"), cap=cap)])
    tm = history.obligation_history(TM)
    cards = {RateCardId("RC"): rate_card()}
    stored = [RecordedTime(Role("consultant"), date(2026, 3, 2), True, 40, Decimal(40))]
    few = _candidates(20)
    many = _candidates(21)  # 40 h + 21 x 3 h = 103 h
    assert cap_out_of_reach(tm, cards, stored, few)
    assert not cap_out_of_reach(tm, cards, stored, many)


def test_time_that_cannot_be_priced_leaves_the_batch_to_the_exact_rule() -> None:
    cap = NotToExceed(hours=Decimal(1000), policy=OveragePolicy.BLOCK)
    history = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"), cap=cap)])
    tm = history.obligation_history(TM)
    cards = {RateCardId("RC"): rate_card()}
    unknown = entry("x", date(2026, 3, 2), "1", role="astronaut")
    assert not cap_out_of_reach(
        tm, cards, [RecordedTime(unknown.role, unknown.work_date, False, 1, Decimal(1))], []
    )
    sent = CandidateTime(unknown.role, unknown.resource_id, unknown.work_date, False, Decimal(1))
    assert not cap_out_of_reach(tm, cards, [], [sent])
    assert not cap_out_of_reach(tm, {}, [], _candidates(1))


def _candidates(count: int) -> list[CandidateTime]:
    e = entry("c", date(2026, 3, 3), "3")
    return [CandidateTime(e.role, e.resource_id, e.work_date, True, Decimal(3))] * count
