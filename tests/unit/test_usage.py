"""Usage-based billing: tiered units per calendar month, a monthly minimum, late usage and
corrections trued up month by month, revenue as usage occurs (docs/adr/0051).

Every expected figure is worked out by hand in the comments, never by the code under test.
The tiers used throughout, unless a test says otherwise (graduated):
    units 0 to 100 at 1.00, above 100 up to 1,000 at 0.80, above 1,000 at 0.50.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

import attrs
import pytest

from domain.billing import (
    BilledLedger,
    Disposition,
    LedgerEntry,
    LineKind,
    ObligationBilling,
    ObligationHistory,
    SourceRef,
)
from domain.delivery_kinds import DeliveryRecords, delivery_kind
from domain.errors import InvalidTermsError
from domain.ids import ObligationId
from domain.money import Currency, Money
from domain.obligation import BillingContext, RevenueContext, billing_model_for
from domain.overage import OveragePolicy
from domain.period import Period
from domain.usage import (
    USAGE,
    USAGE_CORRECTION_LINE,
    USAGE_LINE,
    USAGE_MINIMUM,
    USAGE_MINIMUM_LINE,
    USAGE_RECORD,
    InvalidUsageRecordError,
    TierPricing,
    UsageCap,
    UsageRecord,
    UsageTerms,
    UsageTier,
    UsageUnitMismatchError,
    bill_usage,
    recognise_usage,
    rerate_usage,
    usage_contract_value,
)
from tests.support.model_inputs import (
    billing_context,
    committed_documents,
    history_of,
    revenue_context,
)

USD = Currency.of("USD")
API = ObligationId("api")
MAR, APR, MAY = (Period.month(2026, m) for m in (3, 4, 5))

TIERS = (
    UsageTier(Decimal(0), Decimal("1.00"), Decimal(100)),
    UsageTier(Decimal(100), Decimal("0.80"), Decimal(1000)),
    UsageTier(Decimal(1000), Decimal("0.50")),
)
CALLS = UsageTerms(API, "API calls", USD, "calls", TIERS, date(2026, 3, 1))
WITH_MINIMUM = attrs.evolve(CALLS, minimum_per_period=Decimal("150.00"))


def usd(amount: str) -> Money:
    return Money(Decimal(amount), USD)


def used(record_id: str, day: int, quantity: str, month: int = 3) -> UsageRecord:
    return UsageRecord(record_id, API, date(2026, month, day), Decimal(quantity), "calls")


def history(*versions: tuple[date, UsageTerms]) -> ObligationHistory[UsageTerms]:
    return history_of(API, *versions)


def context(
    period: Period, records: list[UsageRecord], ledger: BilledLedger | None = None
) -> BillingContext:
    return billing_context(period, USD, ledger=ledger, delivery=DeliveryRecords.of(records))


def earning(
    as_of: date, records: list[UsageRecord], ledger: BilledLedger | None = None
) -> RevenueContext:
    return revenue_context(as_of, USD, ledger=ledger, delivery=DeliveryRecords.of(records))


def bill(
    terms: UsageTerms,
    period: Period,
    records: list[UsageRecord],
    ledger: BilledLedger | None = None,
) -> ObligationBilling:
    return bill_usage(history((date(2026, 3, 1), terms)), context(period, records, ledger))


def credits(
    terms: UsageTerms,
    period: Period,
    records: list[UsageRecord],
    ledger: BilledLedger,
) -> dict[str, list[tuple[LineKind, Decimal, Money]]]:
    """What the run takes back, by the document it credits: (kind, quantity, amount) per line."""
    taken_back = rerate_usage(history((date(2026, 3, 1), terms)), context(period, records, ledger))
    return {
        document: [(line.kind, line.quantity, line.amount) for line in lines]
        for document, lines in taken_back.items()
    }


def committed(
    ledger: BilledLedger,
    terms: UsageTerms,
    period: Period,
    records: list[UsageRecord],
    document: str,
) -> BilledLedger:
    """The ledger once a run's invoice (as `document`) and its credits are committed."""
    obligation, ctx = history((date(2026, 3, 1), terms)), context(period, records, ledger)
    documents = [(document, bill_usage(obligation, ctx).lines)]
    documents += [
        (f"{original}/credit/{document}", tuple(lines))
        for original, lines in rerate_usage(obligation, ctx).items()
    ]
    return committed_documents(ledger, documents)


def billed_for(ledger: BilledLedger, month: Period, records: list[UsageRecord]) -> Money:
    """What the ledger holds for a month: its records' values and its shortfall."""
    sources = [
        SourceRef(USAGE_RECORD, r.record_id) for r in records if month.contains(r.occurred_on)
    ]
    sources.append(SourceRef(USAGE_MINIMUM, f"api:{month.key}"))
    total = Money.zero(USD)
    for source in sources:
        total = total + Money(ledger.billed_value(source), USD)
    return total


def lines_of(billing: ObligationBilling) -> list[tuple[LineKind, Decimal, Money]]:
    return [(line.kind, line.quantity, line.amount) for line in billing.lines]


def shortfall_source(month: Period) -> SourceRef:
    return SourceRef(USAGE_MINIMUM, f"api:{month.key}")


# --- tiers ---------------------------------------------------------------------------------


def test_graduated_tiers_price_each_band_at_its_own_price() -> None:
    billing = bill(CALLS, MAR, [used("u1", 4, "250")])
    # 100 x 1.00 + 150 x 0.80 = 100.00 + 120.00 = 220.00.
    assert lines_of(billing) == [(USAGE_LINE, Decimal(250), usd("220.00"))]
    (line,) = billing.lines
    assert line.description == "API calls: 250 calls, 2026-03"
    assert line.service_period == MAR
    assert [(a.source.source_id, a.quantity, a.amount) for a in line.allocations] == [
        ("u1", Decimal(250), usd("220.00"))
    ]


@pytest.mark.parametrize(
    ("pricing", "quantity", "expected"),
    [
        (TierPricing.GRADUATED, "100", "100.00"),  # exactly the edge: all in the first band
        (TierPricing.GRADUATED, "101", "100.80"),  # 100 x 1.00 + 1 x 0.80
        (TierPricing.VOLUME, "100", "100.00"),  # exactly the edge stays in the first band
        (TierPricing.VOLUME, "101", "80.80"),  # every unit at 0.80 once past the edge
        (TierPricing.VOLUME, "1000", "800.00"),  # the second band's upper edge: 1,000 x 0.80
        (TierPricing.VOLUME, "1000.5", "500.25"),  # past it: 1,000.5 x 0.50
        (TierPricing.GRADUATED, "1000.5", "820.25"),  # 100 + 900 x 0.80 + 0.5 x 0.50
    ],
)
def test_a_quantity_exactly_at_a_band_edge_is_priced_by_the_lower_band(
    pricing: TierPricing, quantity: str, expected: str
) -> None:
    terms = attrs.evolve(CALLS, pricing=pricing)
    assert [line.amount for line in bill(terms, MAR, [used("u1", 4, quantity)]).lines] == [
        usd(expected)
    ]


def test_volume_tiers_price_every_unit_at_the_band_the_month_reaches() -> None:
    terms = attrs.evolve(CALLS, pricing=TierPricing.VOLUME)
    billing = bill(terms, MAR, [used("u1", 2, "100"), used("u2", 9, "150")])
    # 250 in the month: every unit at 0.80 = 200.00; u1 80.00, u2 120.00.
    (line,) = billing.lines
    assert line.amount == usd("200.00")
    assert [a.amount for a in line.allocations] == [usd("80.00"), usd("120.00")]


def test_graduated_records_fill_the_bands_in_date_order() -> None:
    billing = bill(CALLS, MAR, [used("u2", 9, "90"), used("u1", 2, "60")])
    # u1 (2 March) takes 60 of the first band: 60.00; u2 the last 40 of it and 50 of the
    # second: 40.00 + 40.00 = 80.00. The month: 140.00 = 100 + 40 x 0.80.
    (line,) = billing.lines
    assert [(a.source.source_id, a.amount) for a in line.allocations] == [
        ("u1", usd("60.00")),
        ("u2", usd("80.00")),
    ]


def test_the_month_is_rounded_once_and_shared_out_by_largest_remainder() -> None:
    tenth_of_a_cent = UsageTier(Decimal(0), Decimal("0.0125"))
    terms = attrs.evolve(CALLS, tiers=(tenth_of_a_cent,))
    records = [used("u1", 1, "1"), used("u2", 2, "1"), used("u3", 3, "1")]
    # 3 x 0.0125 = 0.0375, rounded half-up once: 0.04. Four cents over three equal shares of
    # 1.333... cents: one each, the cent left over to the first.
    (line,) = bill(terms, MAR, records).lines
    assert line.amount == usd("0.04")
    assert [a.amount for a in line.allocations] == [usd("0.02"), usd("0.01"), usd("0.01")]
    assert line.unit_price == usd("0.013333")  # the average price, shown to the millionth


def test_the_ambient_decimal_context_changes_nothing() -> None:
    tenth_of_a_cent = UsageTier(Decimal(0), Decimal("0.0125"))
    terms = attrs.evolve(CALLS, tiers=(tenth_of_a_cent,), minimum_per_period=Decimal("0.05"))
    records = [used("u1", 1, "1"), used("u2", 2, "1"), used("u3", 3, "1")]
    expected = bill(terms, MAR, records)
    with localcontext() as ctx:
        ctx.rounding, ctx.prec = ROUND_DOWN, 6
        again = bill(terms, MAR, records)
    # 0.0375 rounds half-up to 0.04 (not down to 0.03); the shortfall is 0.05 - 0.04 = 0.01.
    assert again == expected
    assert lines_of(again) == [
        (USAGE_LINE, Decimal(3), usd("0.04")),
        (USAGE_MINIMUM_LINE, Decimal(1), usd("0.01")),
    ]


# --- the minimum ---------------------------------------------------------------------------


def test_a_month_below_the_minimum_bills_the_shortfall_on_its_own_line() -> None:
    billing = bill(WITH_MINIMUM, MAR, [used("u1", 4, "60")])
    # Usage 60 x 1.00 = 60.00; the minimum 150.00 asks 90.00 more.
    assert lines_of(billing) == [
        (USAGE_LINE, Decimal(60), usd("60.00")),
        (USAGE_MINIMUM_LINE, Decimal(1), usd("90.00")),
    ]
    shortfall = billing.lines[1]
    assert shortfall.allocations[0].source == shortfall_source(MAR)
    assert shortfall.description == "API calls: minimum commitment 2026-03, shortfall"


def test_a_month_above_the_minimum_bills_its_usage_only() -> None:
    # 220.00 of usage is more than the 150.00 minimum.
    assert lines_of(bill(WITH_MINIMUM, MAR, [used("u1", 4, "250")])) == [
        (USAGE_LINE, Decimal(250), usd("220.00"))
    ]


def test_a_month_with_no_usage_bills_the_whole_minimum() -> None:
    assert lines_of(bill(WITH_MINIMUM, MAR, [])) == [
        (USAGE_MINIMUM_LINE, Decimal(1), usd("150.00"))
    ]


def test_the_shortfall_waits_for_the_month_to_end() -> None:
    half_month = Period(date(2026, 3, 1), date(2026, 3, 15))
    # Usage to the 15th bills; the minimum is not due before 31 March.
    assert lines_of(bill(WITH_MINIMUM, half_month, [used("u1", 4, "60")])) == [
        (USAGE_LINE, Decimal(60), usd("60.00"))
    ]


def test_a_partial_first_month_owes_its_share_of_the_minimum_by_days() -> None:
    terms = attrs.evolve(WITH_MINIMUM, service_start=date(2026, 3, 10))
    # 10 to 31 March = 22 of 31 days: 150.00 x 22 / 31 = 106.4516... → 106.45.
    billing = bill(terms, MAR, [])
    assert lines_of(billing) == [(USAGE_MINIMUM_LINE, Decimal(1), usd("106.45"))]
    assert billing.lines[0].service_period == MAR


def test_usage_reported_after_the_shortfall_was_billed_takes_it_back() -> None:
    first = [used("u1", 4, "60")]
    ledger = committed(BilledLedger(), WITH_MINIMUM, MAR, first, "INV-03")
    late = [*first, used("u2", 20, "50")]
    # u2's 50 units on top of 60: 40 x 1.00 + 10 x 0.80 = 48.00. March's usage is now 108.00,
    # its shortfall 42.00 instead of 90.00: the April invoice bills the 48.00 and a credit
    # against INV-03 takes 48.00 of its shortfall back. April (no usage) owes its 150.00.
    assert lines_of(bill(WITH_MINIMUM, APR, late, ledger)) == [
        (USAGE_LINE, Decimal(50), usd("48.00")),
        (USAGE_MINIMUM_LINE, Decimal(1), usd("150.00")),
    ]
    assert credits(WITH_MINIMUM, APR, late, ledger) == {
        "INV-03": [(USAGE_MINIMUM_LINE, Decimal(0), usd("-48.00"))]
    }
    (taken_back,) = rerate_usage(
        history((date(2026, 3, 1), WITH_MINIMUM)), context(APR, late, ledger)
    )["INV-03"]
    assert taken_back.description == "API calls: minimum commitment 2026-03, shortfall taken back"
    ledger = committed(ledger, WITH_MINIMUM, APR, late, "INV-04")
    assert billed_for(ledger, MAR, late) == usd("150.00")
    # 100 more on 25 March: 100 x 0.80 = 80.00. March's usage 188.00 passes the minimum:
    # the 42.00 of shortfall left is taken back in full, its unit with it.
    later = [*late, used("u3", 25, "100")]
    assert lines_of(bill(WITH_MINIMUM, APR, later, ledger)) == [
        (USAGE_LINE, Decimal(100), usd("80.00"))
    ]
    assert credits(WITH_MINIMUM, APR, later, ledger) == {
        "INV-03": [(USAGE_MINIMUM_LINE, Decimal(-1), usd("-42.00"))]
    }
    ledger = committed(ledger, WITH_MINIMUM, APR, later, "INV-04b")
    assert billed_for(ledger, MAR, later) == usd("188.00")
    assert bill(WITH_MINIMUM, APR, later, ledger) == ObligationBilling()
    assert credits(WITH_MINIMUM, APR, later, ledger) == {}


# --- corrections ---------------------------------------------------------------------------


def test_a_correction_before_billing_simply_bills_the_corrected_quantity() -> None:
    # The store keeps the latest revision of a record: 60 corrected to 80 bills 80.00.
    assert lines_of(bill(CALLS, MAR, [used("u1", 4, "80")])) == [
        (USAGE_LINE, Decimal(80), usd("80.00"))
    ]


def test_an_upward_correction_after_billing_bills_the_extra_units_only() -> None:
    ledger = committed(BilledLedger(), WITH_MINIMUM, MAR, [used("u1", 4, "60")], "INV-03")
    corrected = [used("u1", 4, "80")]
    # March: 60.00 + 90.00 billed. u1 now 80: 20 more units, 20.00, on the next invoice (with
    # April's 150.00 minimum); the shortfall is 70.00 now: 20.00 of it credited back.
    assert lines_of(bill(WITH_MINIMUM, APR, corrected, ledger))[0] == (
        USAGE_LINE,
        Decimal(20),
        usd("20.00"),
    )
    assert credits(WITH_MINIMUM, APR, corrected, ledger) == {
        "INV-03": [(USAGE_MINIMUM_LINE, Decimal(0), usd("-20.00"))]
    }


def test_a_downward_correction_after_billing_is_credited_against_its_invoice() -> None:
    ledger = committed(BilledLedger(), CALLS, MAR, [used("u1", 4, "250")], "INV-03")
    corrected = [used("u1", 4, "100")]
    # 250 billed at 220.00 on INV-03; u1 corrected to 100: 100.00. 150 units and 120.00 are
    # taken back by a credit against INV-03; nothing is invoiced.
    assert bill(CALLS, APR, corrected, ledger) == ObligationBilling()
    taken_back = rerate_usage(history((date(2026, 3, 1), CALLS)), context(APR, corrected, ledger))
    (line,) = taken_back["INV-03"]
    assert (line.kind, line.quantity, line.amount) == (
        USAGE_CORRECTION_LINE,
        Decimal(-150),
        usd("-120.00"),
    )
    assert line.description == "API calls: correction of 2026-03 usage"
    assert [(a.source.source_id, a.quantity, a.amount) for a in line.allocations] == [
        ("u1", Decimal(-150), usd("-120.00"))
    ]
    ledger = committed(ledger, CALLS, APR, corrected, "INV-04")
    assert ledger.settled(SourceRef(USAGE_RECORD, "u1")) == Decimal(100)
    assert billed_for(ledger, MAR, corrected) == usd("100.00")


def test_a_downward_correction_below_the_minimum_bills_the_shortfall_again() -> None:
    ledger = committed(BilledLedger(), WITH_MINIMUM, MAR, [used("u1", 4, "250")], "I-1")
    corrected = [used("u1", 4, "100")]
    # 220.00 billed, no shortfall. Now 100.00 of usage: 120.00 credited, 50.00 of shortfall.
    assert lines_of(bill(WITH_MINIMUM, MAR, corrected, ledger)) == [
        (USAGE_MINIMUM_LINE, Decimal(1), usd("50.00"))
    ]
    assert credits(WITH_MINIMUM, MAR, corrected, ledger) == {
        "I-1": [(USAGE_CORRECTION_LINE, Decimal(-150), usd("-120.00"))]
    }


def test_a_record_corrected_to_zero_gives_its_bands_to_the_records_after_it() -> None:
    first = [used("u1", 2, "60"), used("u2", 9, "90")]
    ledger = committed(BilledLedger(), CALLS, MAR, first, "INV-03")
    corrected = [used("u1", 2, "0"), used("u2", 9, "90")]
    # Billed: u1 60.00, u2 80.00. u1 now 0: its 60 units and 60.00 are credited; u2 alone is
    # 90 x 1.00 = 90.00, 10.00 more than it billed, for no extra unit. The month: 90.00.
    (line,) = bill(CALLS, APR, corrected, ledger).lines
    assert [(a.source.source_id, a.quantity, a.amount) for a in line.allocations] == [
        ("u2", Decimal(0), usd("10.00"))
    ]
    assert credits(CALLS, APR, corrected, ledger) == {
        "INV-03": [(USAGE_CORRECTION_LINE, Decimal(-60), usd("-60.00"))]
    }


def test_a_rerun_on_the_committed_ledger_proposes_nothing() -> None:
    records = [used("u1", 2, "60"), used("u2", 9, "90"), used("u3", 3, "5", month=4)]
    ledger = BilledLedger()
    for month in (MAR, APR, MAY):
        ledger = committed(ledger, WITH_MINIMUM, month, records, f"INV-{month.key}")
        assert bill(WITH_MINIMUM, month, records, ledger) == ObligationBilling()
        assert credits(WITH_MINIMUM, month, records, ledger) == {}
    # March 140.00 + 10.00 of shortfall; April 5.00 + 145.00; May 150.00 of shortfall.
    assert [billed_for(ledger, m, records) for m in (MAR, APR, MAY)] == [usd("150.00")] * 3


def test_a_record_in_another_unit_is_refused() -> None:
    tickets = UsageRecord("t1", API, date(2026, 3, 4), Decimal(3), "tickets")
    with pytest.raises(UsageUnitMismatchError, match="t1 counts tickets"):
        bill(CALLS, MAR, [tickets])


def test_a_price_change_applies_from_the_month_it_takes_effect() -> None:
    cheaper = attrs.evolve(CALLS, tiers=(UsageTier(Decimal(0), Decimal("0.50")),))
    obligation = history((date(2026, 3, 1), CALLS), (date(2026, 4, 1), cheaper))
    records = [used("u1", 31, "10"), used("u2", 1, "10", month=4)]
    ctx = context(APR, records)
    # March at v1: 10 x 1.00; April at v2: 10 x 0.50.
    assert [
        (line.amount, line.allocations[0].terms) for line in bill_usage(obligation, ctx).lines
    ] == [
        (usd("10.00"), "contract v1"),
        (usd("5.00"), "contract v2"),
    ]


def test_a_backdated_price_change_re_values_a_billed_month_like_a_correction() -> None:
    records = [used("u1", 10, "10")]
    ledger = committed(BilledLedger(), CALLS, MAR, records, "INV-03")
    cheaper = attrs.evolve(CALLS, tiers=(UsageTier(Decimal(0), Decimal("0.50")),))
    # Approved in April, effective 1 March: March's 10 units are worth 5.00, not the 10.00
    # INV-03 billed. The 5.00 is credited against INV-03, no unit with it.
    obligation = history((date(2026, 3, 1), CALLS), (date(2026, 3, 1), cheaper))
    ctx = context(APR, records, ledger)
    assert bill_usage(obligation, ctx) == ObligationBilling()
    (line,) = rerate_usage(obligation, ctx)["INV-03"]
    assert (line.kind, line.quantity, line.amount) == (
        USAGE_CORRECTION_LINE,
        Decimal(0),
        usd("-5.00"),
    )
    assert line.allocations[0].terms == "contract v2"


# --- caps ----------------------------------------------------------------------------------


def test_a_cap_that_bills_overage_flags_the_line() -> None:
    terms = attrs.evolve(CALLS, cap=UsageCap(Decimal("200.00"), OveragePolicy.BILL))
    # 300 units: 100.00 + 200 x 0.80 = 260.00, over the 200.00 cap: billed, flagged.
    (line,) = bill(terms, MAR, [used("u1", 4, "300")]).lines
    assert (line.amount, line.flags) == (usd("260.00"), ("over_cap",))


def test_a_cap_that_writes_off_splits_the_crossing_record_and_reports_the_rest() -> None:
    terms = attrs.evolve(CALLS, cap=UsageCap(Decimal("200.00"), OveragePolicy.WRITE_OFF))
    records = [used("u1", 2, "150"), used("u2", 9, "150")]
    billing = bill(terms, MAR, records)
    # u1: 100.00 + 50 x 0.80 = 140.00, under the cap. u2: 150 x 0.80 = 120.00, of which the
    # 60.00 left under the cap bills; its units split in proportion: 75 within, 75 above.
    # The units all show on the line (the ones above at no value); 60.00 is written off.
    (line,) = billing.lines
    assert (line.quantity, line.amount, line.flags) == (Decimal(300), usd("200.00"), ("over_cap",))
    (excluded,) = billing.exclusions
    assert (excluded.source.source_id, excluded.quantity, excluded.value) == (
        "u2",
        Decimal(75),
        usd("60.00"),
    )
    assert (excluded.disposition, excluded.reason) == (
        Disposition.WRITTEN_OFF,
        "over_cap_write_off",
    )
    ledger = committed(BilledLedger(), terms, MAR, records, "INV-03")
    assert bill(terms, MAR, records, ledger) == ObligationBilling()


# --- revenue and contract value -------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 2, 28), "0.00"),  # before the service
        (date(2026, 3, 10), "60.00"),  # u1's 60 units
        (date(2026, 3, 30), "140.00"),  # + u2: 40.00 + 50 x 0.80
        (date(2026, 3, 31), "150.00"),  # March has ended: the 10.00 shortfall is earned
        (date(2026, 4, 15), "155.00"),  # + April's 5 units so far; April's minimum not yet
        (date(2026, 4, 30), "300.00"),  # + April's 145.00 of shortfall
    ],
)
def test_revenue_is_earned_as_usage_occurs_and_the_shortfall_when_the_month_ends(
    as_of: date, expected: str
) -> None:
    records = [used("u1", 2, "60"), used("u2", 20, "90"), used("u3", 3, "5", month=4)]
    ctx = earning(as_of, records)
    assert recognise_usage(history((date(2026, 3, 1), WITH_MINIMUM)), ctx) == usd(expected)


def test_a_bounded_service_is_worth_its_minimums() -> None:
    bounded = attrs.evolve(WITH_MINIMUM, service_end=date(2026, 5, 15))
    on = date(2026, 3, 31)
    # March 150.00 + April 150.00 + 1 to 15 May, 15 of 31 days: 72.5806... → 72.58.
    assert usage_contract_value(history((date(2026, 3, 1), bounded)), on) == usd("372.58")
    assert usage_contract_value(history((date(2026, 3, 1), WITH_MINIMUM)), on) is None
    no_minimum = attrs.evolve(CALLS, service_end=date(2026, 5, 15))
    assert usage_contract_value(history((date(2026, 3, 1), no_minimum)), on) is None


def test_the_model_is_registered_with_its_kinds_and_its_re_rating() -> None:
    model = billing_model_for(CALLS)
    assert (model.name, model.consumes, model.rerate) == ("usage", (USAGE,), rerate_usage)
    assert model.source_kinds == (USAGE_RECORD, USAGE_MINIMUM)
    assert model.line_kinds == (USAGE_LINE, USAGE_CORRECTION_LINE, USAGE_MINIMUM_LINE)
    assert delivery_kind("usage").record_type is UsageRecord


# --- refusals ------------------------------------------------------------------------------


def tier(above: str, up_to: str | None, price: str) -> UsageTier:
    return UsageTier(Decimal(above), Decimal(price), None if up_to is None else Decimal(up_to))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tiers": ()}, "at least one tier"),
        ({"tiers": (tier("10", None, "1"),)}, "starts at zero"),
        ({"tiers": (tier("0", "100", "1"), tier("120", None, "1"))}, "not at 120"),
        ({"tiers": (tier("0", "100", "1"), tier("90", None, "1"))}, "not at 90"),
        ({"tiers": (tier("0", "0", "1"), tier("0", None, "1"))}, "must end above it"),
        ({"tiers": (tier("0", "100", "1"), tier("100", "50", "1"))}, "must end above it"),
        ({"tiers": (tier("0", None, "-0.01"),)}, "negative"),
        ({"tiers": (tier("0", "100", "1"),)}, "no upper end"),
        ({"unit": " "}, "name the unit"),
        ({"service_end": date(2026, 2, 1)}, "ends before"),
        ({"minimum_per_period": Decimal("-1.00")}, "cannot be negative"),
        ({"minimum_per_period": Decimal("100.005")}, "minor units"),
        ({"cap": UsageCap(Decimal("100.00"))}, "below the minimum"),
        ({"cap": UsageCap(Decimal("900.00"), OveragePolicy.HOLD)}, "not hold"),
        ({"cap": UsageCap(Decimal("900.00"), OveragePolicy.BLOCK)}, "not block"),
    ],
)
def test_inconsistent_usage_terms_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTermsError, match=message):
        attrs.evolve(WITH_MINIMUM, **changes)


@pytest.mark.parametrize(
    ("record_id", "quantity", "unit", "message"),
    [
        ("", "1", "calls", "needs its id"),
        ("u1", "-1", "calls", "zero or more"),
        ("u1", "1", "", "names no unit"),
    ],
)
def test_an_inconsistent_usage_record_is_refused(
    record_id: str, quantity: str, unit: str, message: str
) -> None:
    with pytest.raises(InvalidUsageRecordError, match=message):
        UsageRecord(record_id, API, date(2026, 3, 1), Decimal(quantity), unit)


def test_a_write_off_credit_settles_the_usage_for_good_and_a_releasing_one_bills_it_again() -> None:
    records = [used("u1", 4, "250")]
    ledger = committed(BilledLedger(), CALLS, MAR, records, "INV-03")
    u1 = SourceRef(USAGE_RECORD, "u1")

    def credited(write_off: bool) -> BilledLedger:
        taken_back = LedgerEntry(
            "CM-1", API, u1, Decimal(-250), usd("-220.00"), write_off=write_off, credit=True
        )
        return ledger.plus([taken_back])

    # Written off: the 250 units stay settled, nothing bills again, and the 220.00 is not
    # revenue. Released: the units are open again and the next run bills them, 220.00.
    assert bill(CALLS, APR, records, credited(write_off=True)) == ObligationBilling()
    assert credits(CALLS, APR, records, credited(write_off=True)) == {}
    assert lines_of(bill(CALLS, APR, records, credited(write_off=False))) == [
        (USAGE_LINE, Decimal(250), usd("220.00"))
    ]
    ctx = earning(date(2026, 4, 30), records, credited(write_off=True))
    assert recognise_usage(history((date(2026, 3, 1), CALLS)), ctx) == usd("0.00")


def test_a_narrow_ambient_precision_neither_rounds_the_units_nor_the_amounts() -> None:
    big = [used("u1", 4, "1234567")]
    with localcontext() as ctx:
        ctx.rounding, ctx.prec = ROUND_DOWN, 6
        (line,) = bill(CALLS, MAR, big).lines
    # 100 x 1.00 + 900 x 0.80 + 1,233,567 x 0.50 = 100.00 + 720.00 + 616,783.50 = 617,603.50.
    assert line.description == "API calls: 1234567 calls, 2026-03"
    assert line.amount == usd("617603.50")
