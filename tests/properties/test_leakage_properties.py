"""Leakage properties: whatever was billed, credited (releasing, writing off, by amount),
written off by hand or held, the approved value splits exactly into what documents kept,
what was given up and what is still open or held; no hour is counted twice, and revenue
loses exactly what leakage counts (ADR 0028)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing import BilledLedger, LedgerEntry, SourceKind, SourceRef
from domain.errors import DomainError
from domain.ids import EngagementId
from domain.leakage import WatchedObligation, leakage_report
from domain.money import EXACT, Money, dsum
from domain.revenue import recognised_to_date
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import ItemState, TimeEntry
from tests.support.builders import AT, EUR, TM, contract, entry, rate_card
from tests.support.model_inputs import revenue_context

CARD = rate_card(versions=[(date(2026, 1, 1), {"consultant": "100", "senior": "137.25"})])
RATES = {"consultant": Decimal("100"), "senior": Decimal("137.25")}
AS_OF = date(2026, 6, 30)
QUARTER = Decimal("0.25")


def quarters(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: EXACT.multiply(Decimal(n), QUARTER))


@st.composite
def entry_story(draw: st.DrawFn, n: int) -> tuple[TimeEntry, list[LedgerEntry]]:
    """One entry: billed, then perhaps credited (written off, released, by amount), then
    perhaps part of what is still open written off by hand or held."""
    hours = draw(quarters(1, 48))
    role = draw(st.sampled_from(sorted(RATES)))
    rate = RATES[role]
    day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 170)))
    item = entry(f"e{n}", day, str(hours), role=role)
    ref = SourceRef(SourceKind.TIME_ENTRY, item.entry_id)
    ledger: list[LedgerEntry] = []
    billed = draw(st.sampled_from([Decimal(0), hours]) | quarters(0, int(hours / QUARTER)))
    if billed > 0:
        ledger.append(LedgerEntry(f"INV-{n}", TM, ref, billed, Money(billed * rate, EUR)))
        off = draw(quarters(0, int(billed / QUARTER)))
        if off > 0:
            ledger.append(
                LedgerEntry(f"CM-{n}-w", TM, ref, -off, Money(-off * rate, EUR), write_off=True)
            )
        back = draw(quarters(0, int((billed - off) / QUARTER)))
        if back > 0:
            ledger.append(LedgerEntry(f"CM-{n}-r", TM, ref, -back, Money(-back * rate, EUR)))
        kept = billed - off - back
        cents = draw(st.integers(0, int(kept * rate * 100)))
        if cents > 0:
            concession = Money(-Decimal(cents) / 100, EUR)
            ledger.append(LedgerEntry(f"CM-{n}-a", TM, ref, Decimal(0), concession, write_off=True))
    settled = BilledLedger(tuple(ledger)).settled(ref)
    still_open = item.open_quantity(settled)
    decision = draw(st.sampled_from(["none", "write_off", "hold"]))
    if still_open > 0 and decision != "none":
        quantity = draw(quarters(1, int(still_open / QUARTER)))
        if decision == "hold":
            item.hold(quantity, "over the cap", AT)
        else:
            item.write_off(quantity, "goodwill", AT, settled=settled)
    return item, ledger


@st.composite
def stories(draw: st.DrawFn) -> tuple[list[TimeEntry], BilledLedger]:
    count = draw(st.integers(1, 6))
    entries, ledger = [], []
    for n in range(count):
        item, more = draw(entry_story(n))
        entries.append(item)
        ledger.extend(more)
    return entries, BilledLedger(tuple(ledger))


def approved_value(entries: list[TimeEntry]) -> Decimal:
    return dsum(EXACT.multiply(e.hours, RATES[e.role]) for e in entries)


@settings(max_examples=150, deadline=None)
@given(stories())
def test_approved_value_splits_into_billed_given_up_held_and_open(
    story: tuple[list[TimeEntry], BilledLedger],
) -> None:
    entries, ledger = story
    c = contract([TimeAndMaterialsTerms(TM, "CR", EUR, CARD.rate_card_id)])
    watched = [
        WatchedObligation(c.customer_id, EngagementId("E1"), c.contract_id, EUR,
                          c.obligation_history(TM))
    ]  # fmt: skip
    found = leakage_report(
        watched, {CARD.rate_card_id: CARD}, entries, [], [], ledger, {},
        as_of=AS_OF, aged_days=0,
    )  # fmt: skip
    leakage = dsum(f.leakage_total.amount for _, f in found.groups)
    at_risk = dsum(f.at_risk_total.amount for _, f in found.groups)
    held = dsum(f.held_over_cap.amount for _, f in found.groups)
    kept = dsum(e.amount.amount for e in ledger.entries)  # net of every credit
    # each approved hour is billed and kept, given up, held or open, exactly once
    assert EXACT.add(kept, EXACT.add(leakage, at_risk)) == approved_value(entries)
    # revenue as incurred loses exactly what leakage counts (held hours earn nothing yet)
    ctx = revenue_context(AS_OF, EUR, cards=[CARD], entries=entries, ledger=ledger)
    earned = recognised_to_date(c.obligation_history(TM), ctx)
    expected = EXACT.subtract(approved_value(entries), EXACT.add(leakage, held))
    assert earned == Money(expected, EUR).quantized()


@settings(max_examples=100, deadline=None)
@given(stories(), quarters(1, 8))
def test_no_hour_is_written_off_by_hand_beyond_what_is_still_open(
    story: tuple[list[TimeEntry], BilledLedger], beyond: Decimal
) -> None:
    entries, ledger = story
    for item in entries:
        if item.state is ItemState.HELD:
            continue  # a hold is written off whole, a rule of its own
        settled = ledger.settled(SourceRef(SourceKind.TIME_ENTRY, item.entry_id))
        too_much = EXACT.add(max(item.open_quantity(settled), Decimal(0)), beyond)
        before = (item.state, item.written_off, item.held, item.revision)
        with pytest.raises(DomainError):
            item.write_off(too_much, "goodwill", AT, settled=settled)
        assert (item.state, item.written_off, item.held, item.revision) == before
