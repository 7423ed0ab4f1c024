"""Invariants of the schedule-driven billing models (fixed fee, retainer, recurring).

- installments always sum exactly to the fee, whatever was billed before a fee change;
- retainer hours are conserved (bought = used + carried and still alive + broken) and no
  balance goes negative;
- a billing run re-run on its own output proposes nothing;
- results do not depend on the ambient decimal context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from functools import partial
from typing import TypeVar

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.billing import (
    BilledLedger,
    ObligationBilling,
    ObligationHistory,
)
from domain.fixed_fee import (
    FeeBelowBilledError,
    FixedFeeTerms,
    Installment,
    bill_fixed_fee,
    installment_amounts,
)
from domain.ids import InstallmentId, ObligationId, ResourceId, Role, TimeEntryId
from domain.money import Currency, Money
from domain.obligation import BillingContext, billing_model_for
from domain.period import Period
from domain.recurring import RecurringTerms, bill_recurring, recognise_recurring
from domain.retainer import (
    RETAINER_OVERAGE_POLICIES,
    OveragePolicy,
    RetainerTerms,
    bill_retainer,
    recognise_retainer,
    retainer_ledger,
)
from domain.time_entry import TimeEntry
from tests.support.model_inputs import billing_context, committed, history_of, revenue_context
from tests.support.strategies import splits

T = TypeVar("T")
AT = datetime(2026, 1, 1, tzinfo=UTC)
OBLIGATION = ObligationId("o")
FIRST_MONTH = Period.month(2026, 1)
MONTHS = [FIRST_MONTH]
for _ in range(11):
    MONTHS.append(MONTHS[-1].next())

currencies = st.sampled_from([Currency.of("USD"), Currency.of("JPY"), Currency.of("BHD")])
days_in_2026 = st.integers(0, 364).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
quarter_hours = st.integers(1, 48).map(lambda q: Decimal(q) / 4)


@st.composite
def fixed_fees(draw: st.DrawFn) -> FixedFeeTerms:
    """Random schedules: 1 to 12 installments by percentage (basis points) or by amount."""
    currency = draw(currencies)
    count = draw(st.integers(1, 12))
    due = sorted(draw(st.lists(days_in_2026, min_size=count, max_size=count)))
    ids = [InstallmentId(f"i{n}") for n in range(count)]
    if draw(st.booleans()):
        fee = draw(st.integers(0, 10**10))
        percentages = [Decimal(bp).scaleb(-2) for bp in draw(splits(10_000, count))]
        installments = tuple(
            Installment(i, d, percentage=p) for i, d, p in zip(ids, due, percentages, strict=True)
        )
    else:
        fee = draw(st.integers(count, 10**10))
        amounts = [Money.from_minor(m, currency).amount for m in draw(splits(fee, count))]
        installments = tuple(
            Installment(i, d, amount=a) for i, d, a in zip(ids, due, amounts, strict=True)
        )
    return FixedFeeTerms(
        OBLIGATION,
        "Program",
        currency,
        Money.from_minor(fee, currency).amount,
        installments,
        draw(st.none() | st.integers(1, 2000).map(Decimal)),
    )


def history(*versions: tuple[date, T]) -> ObligationHistory[T]:
    return history_of(OBLIGATION, *versions)


def context(
    month: Period, currency: Currency, entries: Sequence[TimeEntry], ledger: BilledLedger
) -> BillingContext:
    return billing_context(month, currency, entries=entries, ledger=ledger)


# --- installments ------------------------------------------------------------------------------


@given(terms=fixed_fees(), data=st.data())
def test_installments_always_sum_to_the_fee_after_any_prior_billing_and_fee_change(
    terms: FixedFeeTerms, data: st.DataObject
) -> None:
    currency = terms.currency
    ids = [i.installment_id for i in terms.installments]
    billed_ids = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids) - 1))
    billed = {i: Money.from_minor(data.draw(st.integers(0, 10**9)), currency) for i in billed_ids}
    billed_minor = sum(m.minor for m in billed.values())
    new_fee = Money.from_minor(billed_minor + data.draw(st.integers(0, 10**10)), currency)
    changed = FixedFeeTerms(
        terms.obligation_id, terms.name, currency, new_fee.amount, _as_percentages(terms)
    )

    schedule = installment_amounts(changed, billed)

    assert sum(m.minor for m in schedule.values()) == new_fee.minor
    assert all(schedule[i] == amount for i, amount in billed.items())
    assert all(m.minor >= 0 for m in schedule.values())
    assert list(schedule) == ids


def _as_percentages(terms: FixedFeeTerms) -> tuple[Installment, ...]:
    """The same schedule as weights that stay valid whatever the new fee is."""
    if terms.installments[0].percentage is not None:
        return terms.installments
    return tuple(
        Installment(i.installment_id, i.due_date, percentage=p)
        for i, p in zip(terms.installments, _percent_split(len(terms.installments)), strict=True)
    )


def _percent_split(count: int) -> list[Decimal]:
    base, extra = divmod(10_000, count)
    return [Decimal(base + (1 if n < extra else 0)).scaleb(-2) for n in range(count)]


@given(terms=fixed_fees(), shortfall=st.integers(1, 10**6))
def test_a_fee_below_what_is_billed_is_always_refused(terms: FixedFeeTerms, shortfall: int) -> None:
    first = terms.installments[0].installment_id
    billed = Money.from_minor(Money(terms.fee, terms.currency).minor + shortfall, terms.currency)
    with pytest.raises(FeeBelowBilledError):
        installment_amounts(terms, {first: billed})


@given(terms=fixed_fees(), raise_by=st.integers(0, 10**8), change_month=st.integers(1, 11))
@settings(deadline=None)
def test_monthly_runs_with_a_raise_bill_the_new_fee_exactly_and_reruns_propose_nothing(
    terms: FixedFeeTerms, raise_by: int, change_month: int
) -> None:
    currency = terms.currency
    new_fee = Money.from_minor(Money(terms.fee, currency).minor + raise_by, currency)
    raised = FixedFeeTerms(OBLIGATION, terms.name, currency, new_fee.amount, _as_percentages(terms))
    # A raise after the last installment is billed has nowhere to go (the run says so).
    assume(raise_by == 0 or raised.installments[-1].due_date >= MONTHS[change_month].start)
    obligation = history((date(2026, 1, 1), terms), (MONTHS[change_month].start, raised))
    ledger = BilledLedger()
    for month in MONTHS:
        billing = bill_fixed_fee(obligation, context(month, currency, (), ledger))
        ledger = committed(ledger, billing, month.key)
        assert bill_fixed_fee(obligation, context(month, currency, (), ledger)) == (
            ObligationBilling()
        )
    assert sum(e.amount.minor for e in ledger.entries) == new_fee.minor


# --- retainer ----------------------------------------------------------------------------------


@st.composite
def retainers(draw: st.DrawFn, *, finished_with_rollover: bool = False) -> RetainerTerms:
    """Random retainers; `finished_with_rollover` draws ones that roll over, end and bill."""
    hours = draw(quarter_hours.map(lambda q: q * 2))
    caps = [hours / 4, hours / 2, hours, hours * 2]
    cap = draw(st.sampled_from(caps if finished_with_rollover else [Decimal(0), *caps]))
    periods = 0 if cap == 0 else draw(st.integers(1, 3))
    start = draw(st.integers(0, 60).map(lambda n: date(2026, 1, 1) + timedelta(days=n)))
    ends = st.integers(0, 200).map(lambda n: start + timedelta(days=n))
    end = draw(ends if finished_with_rollover else st.none() | ends)
    policies = [OveragePolicy.BILL] if finished_with_rollover else list(RETAINER_OVERAGE_POLICIES)
    return RetainerTerms(
        OBLIGATION,
        "Retainer",
        Currency.of("USD"),
        fee_per_period=Money.from_minor(draw(st.integers(0, 10**7)), Currency.of("USD")).amount,
        hours_per_period=hours,
        start=start,
        end=end,
        rollover_cap_hours=cap,
        rollover_periods=periods,
        overage_rate=Decimal(draw(st.integers(0, 30_000))).scaleb(-2),
        overage_policy=draw(st.sampled_from(policies)),
    )


@st.composite
def time_entries(draw: st.DrawFn) -> list[TimeEntry]:
    entries = []
    for n in range(draw(st.integers(0, 40))):
        entry = TimeEntry.submit(
            TimeEntryId(f"t{n:02}"),
            OBLIGATION,
            ResourceId("r"),
            Role("c"),
            draw(st.integers(0, 240).map(lambda d: date(2026, 1, 1) + timedelta(days=d))),
            draw(quarter_hours),
        )
        state = draw(st.sampled_from(["approved", "approved", "approved", "submitted", "rejected"]))
        if state == "approved":
            entry.approve("psa", at=AT)
        elif state == "rejected":
            entry.reject("no", at=AT)
        entries.append(entry)
    return entries


@given(terms=retainers(), entries=time_entries(), through=days_in_2026)
def test_retainer_hours_are_conserved_and_no_balance_goes_negative(
    terms: RetainerTerms, entries: list[TimeEntry], through: date
) -> None:
    balances = retainer_ledger(terms, entries, through)
    used = broken = bought = Decimal(0)
    for index, b in enumerate(balances):
        for hours in (b.used_from_current, b.overage_hours, b.balance, b.broken_hours):
            assert hours >= 0
        assert all(c.hours > 0 for c in (*b.carried_in, *b.carried_out, *b.broken))
        assert b.used_from_current <= b.purchased
        if b.closed:
            # Within a period: what came in and was bought = used + carried out + broken.
            assert b.carried_in_hours + b.purchased == (
                b.used_hours + b.carried_out_hours + b.broken_hours
            )
            for c in b.carried_out:
                origin = next(i for i, p in enumerate(balances) if p.period == c.origin)
                assert c.hours <= terms.rollover_cap_hours
                assert index - origin < terms.rollover_periods  # still inside its N periods
        counted = [
            e.hours
            for e in entries
            if e.is_billable_state and b.period.contains(e.work_date) and e.work_date <= through
        ]
        assert b.used_hours + b.overage_hours == sum(counted, Decimal(0))
        assert b.overage_hours == sum((o.hours for o in b.overage), Decimal(0))
        used, broken, bought = used + b.used_hours, broken + b.broken_hours, bought + b.purchased
    alive = balances[-1].balance if balances else Decimal(0)
    assert bought == used + alive + broken


@given(terms=retainers(), entries=time_entries())
@settings(deadline=None)
def test_monthly_retainer_runs_bill_each_fee_once_and_reruns_propose_nothing(
    terms: RetainerTerms, entries: list[TimeEntry]
) -> None:
    obligation = history((date(2026, 1, 1), terms))
    ledger = BilledLedger()
    for month in MONTHS:
        billing = bill_retainer(obligation, context(month, terms.currency, entries, ledger))
        ledger = committed(ledger, billing, month.key)
        again = bill_retainer(obligation, context(month, terms.currency, entries, ledger))
        assert again.lines == ()
        assert again.exclusions == billing.exclusions
    sources = [e.source for e in ledger.entries]
    assert len(sources) == len(set(sources))  # nothing billed twice


@given(terms=retainers(finished_with_rollover=True), entries=time_entries())
@settings(deadline=None)
def test_a_finished_rollover_retainer_earns_exactly_its_fees_and_billed_overage(
    terms: RetainerTerms, entries: list[TimeEntry]
) -> None:
    assert terms.end is not None
    after = Period.month_of(terms.end).next()
    obligation = history((date(2026, 1, 1), terms))
    billing = bill_retainer(obligation, context(after, terms.currency, entries, BilledLedger()))
    earned = recognise_retainer(
        obligation,
        revenue_context(after.end, terms.currency, entries=entries),
    )
    # Every bought hour is used or broken by then, so revenue = fees + overage (to the cent).
    exact = sum((a.amount.amount for line in billing.lines for a in line.allocations), Decimal(0))
    assert earned == Money(exact, terms.currency).quantized()


# --- recurring ---------------------------------------------------------------------------------


@st.composite
def recurring(draw: st.DrawFn) -> RecurringTerms:
    currency = draw(currencies)
    start = draw(days_in_2026)
    end = draw(st.none() | st.integers(0, 400).map(lambda n: start + timedelta(days=n)))
    amount = Money.from_minor(draw(st.integers(0, 10**9)), currency).amount
    return RecurringTerms(OBLIGATION, "Service", currency, amount, start, end)


@given(terms=recurring())
@settings(deadline=None)
def test_monthly_recurring_runs_reruns_propose_nothing_and_revenue_catches_up_with_billing(
    terms: RecurringTerms,
) -> None:
    obligation = history((date(2026, 1, 1), terms))
    ledger = BilledLedger()
    for month in MONTHS:
        billing = bill_recurring(obligation, context(month, terms.currency, (), ledger))
        ledger = committed(ledger, billing, month.key)
        assert bill_recurring(obligation, context(month, terms.currency, (), ledger)) == (
            ObligationBilling()
        )
    last = MONTHS[-1].end
    if terms.service_end is not None and terms.service_end <= last:
        earned = recognise_recurring(
            obligation,
            revenue_context(last, terms.currency),
        )
        assert earned.minor == sum(e.amount.minor for e in ledger.entries)


# --- the ambient decimal context does not matter -------------------------------------------------


def _under_round_down(compute: Callable[[], T]) -> T:
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        return compute()


@given(
    fee=fixed_fees(),
    retainer=retainers(),
    service=recurring(),
    entries=time_entries(),
    month=st.sampled_from(MONTHS),
    as_of=days_in_2026,
)
@settings(deadline=None)
def test_results_are_identical_when_the_ambient_rounding_is_round_down(
    fee: FixedFeeTerms,
    retainer: RetainerTerms,
    service: RecurringTerms,
    entries: list[TimeEntry],
    month: Period,
    as_of: date,
) -> None:
    runs: list[Callable[[], object]] = []
    for terms in (fee, retainer, service):
        model = billing_model_for(terms)
        obligation = history((date(2026, 1, 1), terms))
        billing_ctx = context(month, terms.currency, entries, BilledLedger())
        revenue_ctx = revenue_context(as_of, terms.currency, entries=entries)
        runs.append(partial(model.bill, obligation, billing_ctx))
        runs.append(partial(model.recognise, obligation, revenue_ctx))
    for run in runs:
        assert _under_round_down(run) == run()
