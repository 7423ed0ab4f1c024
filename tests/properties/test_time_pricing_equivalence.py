"""T&M pricing bills exactly what the straightforward walk bills.

The billing path prices, walks the cap and groups lines over tuples in one pass; the reference
below is the plain statement of the same rules (each entry rated alone under `rate_in_force`,
each person's day trimmed in id order, the cap walked entry by entry). Over random terms,
entries, months, holds, write-offs and releases, both give the same lines, allocations and
exclusions, to the Decimal's representation (`repr`), in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing import (
    Allocation,
    BilledLedger,
    Disposition,
    Exclusion,
    LineKind,
    ObligationHistory,
    ProposedLine,
    SourceKind,
    SourceRef,
)
from domain.money import EXACT, Money
from domain.obligation import BillingContext
from domain.ratecard import RateCard
from domain.time_and_materials import (
    OveragePolicy,
    TimeAndMaterialsTerms,
    bill_time_and_materials,
    price_entries,
    rate_in_force,
    round_to_increment,
)
from domain.time_entry import TimeEntry
from tests.properties.test_billing_properties import (
    MONTHS,
    _card,
    decide_on_exclusions,
    deliveries,
)
from tests.support.builders import committed, contract, run
from tests.support.model_inputs import billing_context

ZERO = Decimal(0)
QUANTUM = Decimal("0.000001")
REASONS = {
    OveragePolicy.HOLD: (Disposition.HELD, "over_cap_hold"),
    OveragePolicy.WRITE_OFF: (Disposition.WRITTEN_OFF, "over_cap_write_off"),
    OveragePolicy.BLOCK: (Disposition.HELD, "over_cap_blocked"),
}


def _reference_pricing(
    history: ObligationHistory[TimeAndMaterialsTerms],
    card: RateCard,
    entries: list[TimeEntry],
    settled: dict[str, Decimal],
) -> list[tuple[TimeEntry, Decimal, Money, str]]:
    """Each entry rated alone, then each person's day trimmed to the daily cap in id order."""
    cards = {card.rate_card_id: card}
    used: defaultdict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for e in entries:
        if e.billable:
            used[(e.resource_id, e.work_date)] += settled[e.entry_id]
    priced = {}
    for e in sorted(entries, key=lambda x: (x.resource_id, x.work_date, x.entry_id)):
        terms, rate, label = rate_in_force(history, cards, e)
        hours = round_to_increment(e.hours, terms) if e.billable else ZERO
        if terms.daily_cap_hours is not None and hours > 0:
            key = (e.resource_id, e.work_date)
            already = min(hours, settled[e.entry_id])
            more = max(ZERO, min(hours - already, terms.daily_cap_hours - used[key]))
            used[key] += more
            hours = EXACT.add(already, more)
        priced[e.entry_id] = (e, hours, rate, label)
    return [priced[e.entry_id] for e in sorted(entries, key=lambda x: (x.work_date, x.entry_id))]


def _reference_bill(
    history: ObligationHistory[TimeAndMaterialsTerms], ctx: BillingContext, card: RateCard
) -> tuple[list[ProposedLine], list[Exclusion]]:
    """The time lines and exclusions of one run, walked entry by entry."""
    oid, cur, ledger = history.obligation_id, ctx.currency, ctx.ledger
    entries = [
        e
        for e in ctx.time_entries
        if e.obligation_id == oid and e.is_billable_state and e.work_date <= ctx.period.end
    ]
    settled = {
        e.entry_id: EXACT.add(
            EXACT.add(
                EXACT.add(ZERO, ledger.settled(SourceRef(SourceKind.TIME_ENTRY, e.entry_id))),
                e.held,
            ),
            e.written_off,
        )
        for e in entries
    }
    cap = history.latest_by(ctx.period.end).terms.cap
    amount_left = None if cap is None or cap.amount is None else EXACT.subtract(
        cap.amount, ledger.obligation_billed_time_value(oid))  # fmt: skip
    hours_left = None if cap is None or cap.hours is None else EXACT.subtract(
        cap.hours, ledger.obligation_billed_hours(oid))  # fmt: skip
    groups: dict[tuple[bool, str, Decimal, str], list[tuple[str, Decimal, Decimal, bool]]] = {}
    exclusions = []

    def bill(
        e: TimeEntry, hours: Decimal, amount: Decimal, over: bool, freed: bool, at: Money, lab: str
    ) -> None:
        nonlocal amount_left, hours_left
        groups.setdefault((over, e.role, at.amount, lab), []).append(
            (e.entry_id, hours, amount, freed)
        )
        hours_left = None if hours_left is None else EXACT.subtract(hours_left, hours)
        amount_left = None if amount_left is None else EXACT.subtract(amount_left, amount)

    for e, billable, rate_money, label in _reference_pricing(history, card, entries, settled):
        open_hours = EXACT.subtract(billable, settled[e.entry_id])
        if open_hours <= 0:
            continue
        rate = rate_money.amount
        released = min(open_hours, e.released)
        if released > 0:
            bill(e, released, EXACT.multiply(released, rate), True, True, rate_money, label)
            open_hours = EXACT.subtract(open_hours, released)
            if open_hours <= 0:
                continue
        fit, fit_amount = open_hours, EXACT.multiply(open_hours, rate)
        if hours_left is not None and fit > hours_left:
            fit = max(ZERO, hours_left)
            fit_amount = EXACT.multiply(fit, rate)
        if amount_left is not None and fit_amount > amount_left:
            fit_amount = max(ZERO, amount_left)
            fit = EXACT.divide(fit_amount, rate).quantize(QUANTUM, ROUND_HALF_UP, EXACT)
        over = EXACT.subtract(open_hours, fit)
        if fit > 0:
            bill(e, fit, fit_amount, False, False, rate_money, label)
        if over <= 0:
            continue
        over_amount = EXACT.subtract(EXACT.multiply(open_hours, rate), fit_amount)
        policy = cap.policy if cap is not None else OveragePolicy.BILL
        if policy is OveragePolicy.BILL:
            bill(e, over, over_amount, True, False, rate_money, label)
            continue
        disposition, reason = REASONS[policy]
        ref = SourceRef(SourceKind.TIME_ENTRY, e.entry_id)
        exclusions.append(Exclusion(oid, ref, over, Money(over_amount, cur), disposition, reason))
    lines = []
    for (over, role, rate, label), group in sorted(groups.items(), key=lambda kv: kv[0]):
        allocations = [
            Allocation(SourceRef(SourceKind.TIME_ENTRY, i), h, Money(a, cur), label)
            for i, h, a, _ in group
        ]
        flags = () if not over else ("approved_over_cap",) if all(g[3] for g in group) else (
            "over_cap",)  # fmt: skip
        name = f"{history.latest.terms.name}: {role}" + (" (over cap)" if over else "")
        kind = LineKind.TIME_OVER_CAP if over else LineKind.TIME
        line = ProposedLine.from_allocations(
            oid, kind, name, Money(rate, cur), allocations, flags=flags
        )
        lines.append(line)
    return lines, exclusions


@settings(max_examples=150, deadline=None)
@given(deliveries(), st.randoms(use_true_random=False))
def test_the_billing_path_bills_what_the_plain_walk_bills(data, rng) -> None:  # type: ignore[no-untyped-def]
    terms, entries, code = data
    c = contract([terms], currency=code)
    history = c.obligation_history(terms.obligation_id)
    card = _card(code)
    ledger = BilledLedger()
    for month in MONTHS:
        ctx = billing_context(month, terms.currency, cards=[card], entries=entries, ledger=ledger)
        billed = bill_time_and_materials(history, ctx)
        lines, exclusions = _reference_bill(history, ctx, card)
        assert repr(billed.lines) == repr(tuple(lines))
        assert repr(billed.exclusions) == repr(tuple(exclusions))
        settled = {e.entry_id: e.held + e.written_off for e in entries}
        priced = price_entries(history, ctx.rate_cards, entries, lambda e, s=settled: s[e.entry_id])
        expected = _reference_pricing(history, card, entries, settled)
        assert [(p.entry.entry_id, repr(p.billable_hours), p.rate, p.terms_label) for p in priced] \
            == [(e.entry_id, repr(h), rate, label) for e, h, rate, label in expected]  # fmt: skip
        proposal = run(month, [c], [card], entries, ledger=ledger)
        ledger = committed(ledger, proposal)
        # the controller approves some held hours beyond the cap, which bill first next month
        decide_on_exclusions(entries, proposal, release=lambda: rng.random() < 0.5)
