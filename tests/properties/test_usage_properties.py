"""Usage billing keeps its promises whatever arrives when (docs/adr/0051): after any order of
reports, corrections and runs, a month has billed exactly max(its usage value, its minimum)
(within a cap that writes off), a re-run proposes nothing, graduated value grows with the
units, and how the units are split across records does not change what a month bills."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing import (
    BilledLedger,
    ObligationBilling,
    ObligationHistory,
    SourceRef,
    TermsInForce,
)
from domain.delivery_kinds import DeliveryRecords
from domain.ids import ObligationId
from domain.money import Currency, Money, dsum
from domain.overage import OveragePolicy
from domain.period import Period
from domain.usage import (
    USAGE_MINIMUM,
    USAGE_RECORD,
    TierPricing,
    UsageCap,
    UsageRecord,
    UsageTerms,
    UsageTier,
    bill_usage,
    rerate_usage,
)
from domain.usage_tiers import tiered_value
from tests.support.model_inputs import billing_context, committed_documents

USD = Currency.of("USD")
API = ObligationId("api")
MONTHS = {m: Period.month(2026, m) for m in (3, 4, 5)}

QUANTITIES = st.integers(min_value=0, max_value=30_000).map(lambda c: Decimal(c).scaleb(-2))
CENTS = st.integers(min_value=0, max_value=50_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def tiers(draw: st.DrawFn) -> tuple[UsageTier, ...]:
    edges = sorted(draw(st.sets(st.integers(min_value=1, max_value=400), max_size=3)))
    prices = draw(
        st.lists(
            st.integers(min_value=0, max_value=50_000).map(lambda p: Decimal(p).scaleb(-4)),
            min_size=len(edges) + 1,
            max_size=len(edges) + 1,
        )
    )
    bounds = [Decimal(0), *(Decimal(e) for e in edges)]
    ups: list[Decimal | None] = [*bounds[1:], None]
    return tuple(UsageTier(a, p, u) for a, u, p in zip(bounds, ups, prices, strict=True))


@st.composite
def usage_terms(draw: st.DrawFn) -> UsageTerms:
    minimum = draw(st.none() | CENTS)
    cap = None
    if draw(st.booleans()):
        policy = draw(st.sampled_from([OveragePolicy.BILL, OveragePolicy.WRITE_OFF]))
        amount = draw(CENTS)
        if minimum is not None and amount < minimum:
            amount = minimum
        cap = UsageCap(amount, policy)
    return UsageTerms(
        API,
        "API calls",
        USD,
        "calls",
        draw(tiers()),
        date(2026, 3, 1),
        pricing=draw(st.sampled_from(TierPricing)),
        minimum_per_period=minimum,
        cap=cap,
    )


@attrs.frozen
class Report:
    """The metering system reports a record (again, under the same id: a correction)."""

    record_id: str
    month: int
    day: int
    quantity: Decimal


@attrs.frozen
class Run:
    """Finance runs and commits billing for a month."""

    month: int


REPORT = st.builds(
    Report,
    st.sampled_from(["r1", "r2", "r3", "r4"]),
    st.sampled_from([3, 4]),
    st.integers(min_value=1, max_value=28),
    QUANTITIES,
)
RUN = st.builds(Run, st.sampled_from([3, 4, 5]))


def history(terms: UsageTerms) -> ObligationHistory[UsageTerms]:
    return ObligationHistory(API, (TermsInForce(date(2026, 3, 1), 1, terms),))


def committed(
    terms: UsageTerms, month: Period, records: list[UsageRecord], ledger: BilledLedger, doc: str
) -> BilledLedger:
    """The ledger once a run's invoice and its credits against earlier documents are committed;
    a run on that ledger proposes nothing."""
    ctx = billing_context(month, USD, ledger=ledger, delivery=DeliveryRecords.of(records))
    billing, credits = bill_usage(history(terms), ctx), rerate_usage(history(terms), ctx)
    documents = [(doc, billing.lines)]
    documents += [(f"{original}/credit/{doc}", tuple(lines)) for original, lines in credits.items()]
    after = committed_documents(ledger, documents)
    if billing.lines or credits:
        again = attrs.evolve(ctx, ledger=after)
        assert bill_usage(history(terms), again) == ObligationBilling()
        assert rerate_usage(history(terms), again) == {}
    return after


def billed_for(ledger: BilledLedger, month: Period, records: list[UsageRecord]) -> Decimal:
    sources = [
        SourceRef(USAGE_RECORD, r.record_id) for r in records if month.contains(r.occurred_on)
    ]
    sources.append(SourceRef(USAGE_MINIMUM, f"api:{month.key}"))
    return dsum(ledger.billed_value(s) for s in sources)


def owed_for(terms: UsageTerms, month: Period, records: list[UsageRecord]) -> Decimal:
    """max(usage value, minimum), the usage valued on the month's total units in one go (not
    record by record), and kept within a cap that writes the rest off."""
    units = dsum(r.quantity for r in records if month.contains(r.occurred_on))
    value = Money(tiered_value(terms.tiers, terms.pricing, units), USD).quantized().amount
    if terms.cap is not None and terms.cap.policy is OveragePolicy.WRITE_OFF:
        value = min(value, terms.cap.amount_per_period)
    return max(value, terms.minimum_per_period or Decimal(0))


@settings(max_examples=150, deadline=None)
@given(terms=usage_terms(), steps=st.lists(REPORT | RUN, max_size=14))
def test_after_every_run_each_ended_month_has_billed_exactly_what_it_owes(
    terms: UsageTerms, steps: list[Report | Run]
) -> None:
    reported: dict[str, UsageRecord] = {}
    ledger = BilledLedger()
    for n, step in enumerate([*steps, Run(5)]):
        if isinstance(step, Report):
            reported[step.record_id] = UsageRecord(
                step.record_id, API, date(2026, step.month, step.day), step.quantity, "calls"
            )
            continue
        period = MONTHS[step.month]
        records = list(reported.values())
        ledger = committed(terms, period, records, ledger, f"D{n}")
        for month in MONTHS.values():
            if month.end <= period.end:
                assert billed_for(ledger, month, records) == owed_for(terms, month, records)


@settings(max_examples=200, deadline=None)
@given(bands=tiers(), less=QUANTITIES, more=QUANTITIES)
def test_graduated_value_never_falls_as_units_grow(
    bands: tuple[UsageTier, ...], less: Decimal, more: Decimal
) -> None:
    low, high = sorted((less, more))
    graduated = TierPricing.GRADUATED
    assert tiered_value(bands, graduated, low) <= tiered_value(bands, graduated, high)


@settings(max_examples=150, deadline=None)
@given(
    terms=usage_terms(),
    parts=st.lists(QUANTITIES, min_size=1, max_size=6),
    days=st.lists(st.integers(min_value=1, max_value=31), min_size=6, max_size=6),
)
def test_splitting_the_same_units_across_records_does_not_change_what_a_month_bills(
    terms: UsageTerms, parts: list[Decimal], days: list[int]
) -> None:
    march = MONTHS[3]
    whole = [UsageRecord("all", API, date(2026, 3, 15), dsum(parts), "calls")]
    split = [
        UsageRecord(f"p{n}", API, date(2026, 3, day), part, "calls")
        for n, (part, day) in enumerate(zip(parts, days, strict=False))
    ]

    def month_total(records: list[UsageRecord]) -> Decimal:
        return billed_for(committed(terms, march, records, BilledLedger(), "D"), march, records)

    assert month_total(split) == month_total(whole)
    assert month_total(whole) == owed_for(terms, march, whole)
