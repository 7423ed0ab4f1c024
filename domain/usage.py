"""Usage-based billing: units reported per calendar month, tiered prices, a monthly minimum.

A PSA or metering system reports quantities of a unit (tickets resolved, devices managed, API
calls) as `UsageRecord`s, each under its own natural key. The rules (docs/adr/0051):

- **A period is a calendar month.** A month's units are valued by the tiers in force on its
  first day (`domain.usage_tiers`, graduated or volume), exactly, then rounded half-up to minor
  units once, for the month. That value is shared out over the month's records by largest
  remainder on minor units, each record weighted by its exact share (records by date, then id),
  so every allocation is whole minor units and the month's lines add up to the cent.
- **Minimum commitment.** A month in service bills at least the minimum (prorated by days for a
  partial month, rounded half-up): the shortfall, minimum less the month's usage value, is its
  own line with source `<obligation>:<YYYY-MM>`, billed once the month has ended.
- **Every run trues each month up.** What a month should have billed (each record's units and
  value, the shortfall) is compared with what the ledger has settled, source by source. What is
  still owed goes on the run's invoice (`bill_usage`): new usage, an upward correction, the
  shortfall. What was billed beyond what is owed (a downward correction after billing, a
  shortfall that late usage replaced) is taken back by a credit against the document that first
  billed the source (`rerate_usage`, which the run turns into a credit memo). So a month never
  bills more than max(usage value, minimum), and a re-run proposes nothing.
- **Cap.** A contract may cap what a month's usage bills; the value above it is billed and
  flagged (`bill`) or written off (`write_off`, reported as an exclusion; the units still show,
  at no value). `hold` and `block` are refused: a reported quantity has no item to hold and is
  a fact the metering system will not take back.
- **Revenue** is earned as usage occurs: each month's usage value (within the cap) through
  `as_of`, and the shortfall when the month ends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import attrs

from domain import billing_kit as kit
from domain.ids import ObligationId
from domain.money import EXACT, Currency, Money, dsum, largest_remainder
from domain.overage import OveragePolicy
from domain.period import Period
from domain.usage_terms import USAGE as USAGE
from domain.usage_terms import InvalidUsageRecordError as InvalidUsageRecordError
from domain.usage_terms import UsageCap as UsageCap
from domain.usage_terms import UsageRecord as UsageRecord
from domain.usage_terms import UsageTerms as UsageTerms
from domain.usage_terms import UsageUnitMismatchError as UsageUnitMismatchError
from domain.usage_terms import admit_usage, minimum_due
from domain.usage_tiers import TierPricing as TierPricing
from domain.usage_tiers import UsageTier as UsageTier
from domain.usage_tiers import record_values

ZERO = Decimal(0)

#: A usage record's units and value; a month's minimum shortfall (`<obligation>:<YYYY-MM>`).
USAGE_RECORD = kit.SourceKind.register("usage_record")
USAGE_MINIMUM = kit.SourceKind.register("usage_minimum")
#: Usage owed, usage taken back, and a month's shortfall (or the part of it taken back).
USAGE_LINE = kit.LineKind.register("usage")
USAGE_CORRECTION_LINE = kit.LineKind.register("usage_correction")
USAGE_MINIMUM_LINE = kit.LineKind.register("usage_minimum")

#: Units of a record split at a cap are recorded to the millionth.
UNIT_QUANTUM = Decimal("0.000001")
#: A line's unit price is the average of what it bills, shown to the millionth.
PRICE_QUANTUM = Decimal("0.000001")


@attrs.frozen
class RecordShare:
    """What one record should have billed of its month: units and value, and the part of its
    value above a cap that writes it off."""

    record: UsageRecord
    quantity: Decimal
    value: Decimal
    over_quantity: Decimal = ZERO
    over_value: Decimal = ZERO

    @property
    def source(self) -> kit.SourceRef:
        return usage_source(self.record.record_id)


@attrs.frozen
class MonthUsage:
    """What one month should have billed: each record's share and the minimum's shortfall
    (None while the month has not ended: the shortfall is not due yet)."""

    month: Period
    label: str
    shares: tuple[RecordShare, ...]
    shortfall: Decimal | None
    over_cap: bool

    @property
    def usage_value(self) -> Decimal:
        """What the month's usage bills (within the cap, unless the cap bills overage)."""
        return dsum(share.value for share in self.shares)

    @property
    def total(self) -> Decimal:
        """What the month bills in all: usage and shortfall, max(usage value, minimum)."""
        return EXACT.add(self.usage_value, self.shortfall or ZERO)


def usage_source(record_id: str) -> kit.SourceRef:
    """The source a usage record's units allocate to."""
    return kit.SourceRef(USAGE_RECORD, record_id)


def minimum_source(obligation_id: ObligationId, month: Period) -> kit.SourceRef:
    """The source a month's minimum shortfall allocates to."""
    return kit.SourceRef(USAGE_MINIMUM, f"{obligation_id}:{month.key}")


def _shared_out(total: Money, weights: Sequence[Decimal]) -> list[Decimal]:
    """A month's rounded value over its records by largest remainder on minor units."""
    if not weights or dsum(weights) == 0:
        return [ZERO for _ in weights]
    return [
        Money.from_minor(part, total.currency).amount
        for part in largest_remainder(total.minor, weights)
    ]


def _capped(
    cap: UsageCap | None, records: Sequence[UsageRecord], values: Sequence[Decimal]
) -> tuple[list[RecordShare], bool]:
    """Each record's share after the cap, records in order: the one that crosses it is split,
    its units in proportion to its value (to the millionth)."""
    if cap is None:
        return [RecordShare(r, r.quantity, v) for r, v in zip(records, values, strict=True)], False
    left, shares, over_cap = cap.amount_per_period, [], False
    for record, value in zip(records, values, strict=True):
        within = min(value, max(ZERO, left))
        left = EXACT.subtract(left, within)
        over = EXACT.subtract(value, within)
        if over == 0:
            shares.append(RecordShare(record, record.quantity, value))
            continue
        over_cap = True
        if cap.policy is OveragePolicy.BILL:
            shares.append(RecordShare(record, record.quantity, value))
            continue
        units = EXACT.divide(EXACT.multiply(record.quantity, within), value)
        units_within = units.quantize(UNIT_QUANTUM, rounding=ROUND_HALF_UP, context=EXACT)
        over_units = EXACT.subtract(record.quantity, units_within)
        # The units above the cap stay on the record (billed at no value), so a re-run sees
        # them as settled; their value is the exclusion.
        shares.append(RecordShare(record, record.quantity, within, over_units, over))
    return shares, over_cap


def month_usage(
    history: kit.ObligationHistory[UsageTerms],
    month: Period,
    records: Sequence[UsageRecord],
    through: date,
) -> MonthUsage:
    """What a month should have billed by `through`: its records (by date, then id) valued by
    the tiers in force on its first day, and, once it has ended, the minimum's shortfall."""
    in_force = history.latest_by(month.start)
    terms = in_force.terms
    ordered = sorted(records, key=lambda r: (r.occurred_on, r.record_id))
    for record in ordered:  # admitted against the terms of its day; the month's may differ
        admit_usage(terms, record)
    exact = record_values(terms.tiers, terms.pricing, [r.quantity for r in ordered])
    value = Money(dsum(exact), terms.currency).quantized()
    shares, over_cap = _capped(terms.cap, ordered, _shared_out(value, exact))
    shortfall = None
    if month.end <= through:
        window = history.latest_by(through).terms
        minimum = minimum_due(window, terms, month)
        used = dsum(s.value for s in shares)
        shortfall = max(ZERO, EXACT.subtract(minimum, used))
    return MonthUsage(month, in_force.label, tuple(shares), shortfall, over_cap)


def usage_by_month(
    history: kit.ObligationHistory[UsageTerms],
    records: Iterable[UsageRecord],
    through: date,
    ledger: kit.BilledLedger,
) -> list[MonthUsage]:
    """Every month that has usage by `through`, is in service, or has a billed shortfall."""
    oid = history.obligation_id
    grouped: defaultdict[Period, list[UsageRecord]] = defaultdict(list)
    for record in records:
        if record.obligation_id == oid and record.occurred_on <= through:
            grouped[Period.month_of(record.occurred_on)].append(record)
    months = set(grouped) | set(history.latest_by(through).terms.months_through(through))
    for entry in ledger.entries_for(oid):
        if entry.source.kind is USAGE_MINIMUM:
            months.add(Period.parse_month(entry.source.source_id.rsplit(":", 1)[1]))
    return [
        month_usage(history, month, grouped.get(month, ()), through)
        for month in sorted(months)
        if month.start <= through
    ]


def _settled(ledger: kit.BilledLedger, source: kit.SourceRef) -> tuple[Decimal, Decimal]:
    """Units and value of a source no longer open: billed, or given up by a write-off credit
    (a releasing credit reopens them)."""
    value = EXACT.add(ledger.billed_value(source), ledger.standing(source).conceded)
    return ledger.settled(source), value


def _owed(
    oid: ObligationId, month: MonthUsage, ledger: kit.BilledLedger, currency: Currency
) -> list[kit.Allocation]:
    """What a month still owes (positive) or billed beyond what it owes (negative), source by
    source: each record's units and value, then the shortfall (once it is due)."""
    targets = [(share.source, share.quantity, share.value) for share in month.shares]
    if month.shortfall is not None:
        units = Decimal(1) if month.shortfall > 0 else ZERO
        targets.append((minimum_source(oid, month.month), units, month.shortfall))
    owed = []
    for source, quantity, value in targets:
        billed_quantity, billed_value = _settled(ledger, source)
        more = EXACT.subtract(quantity, billed_quantity)
        worth = EXACT.subtract(value, billed_value)
        if more != 0 or worth != 0:
            owed.append(kit.Allocation(source, more, Money(worth, currency), month.label))
    return owed


def _line(
    oid: ObligationId,
    kind: kit.LineKind,
    description: str,
    allocations: Sequence[kit.Allocation],
    currency: Currency,
    month: Period,
    flags: tuple[str, ...] = (),
) -> kit.ProposedLine:
    quantity = dsum(a.quantity for a in allocations)
    amount = dsum(a.amount.amount for a in allocations)
    price = amount if quantity == 0 else EXACT.divide(amount, quantity)
    unit_price = price.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP, context=EXACT)
    return kit.ProposedLine.from_allocations(
        oid, kind, description, Money(unit_price, currency), allocations, month, flags
    )


def _month_lines(
    history: kit.ObligationHistory[UsageTerms],
    month: MonthUsage,
    allocations: Sequence[kit.Allocation],
    currency: Currency,
) -> list[kit.ProposedLine]:
    """A month's differences as lines: usage owed, usage corrected, the shortfall's change."""
    oid, terms = history.obligation_id, history.latest_by(month.month.start).terms
    key = month.month.key
    more: list[kit.Allocation] = []
    less: list[kit.Allocation] = []
    minimum: list[kit.Allocation] = []
    for owed in allocations:
        if owed.source.kind is USAGE_MINIMUM:
            minimum.append(owed)
        elif owed.amount.is_positive() or (owed.amount.is_zero() and owed.quantity > 0):
            more.append(owed)
        else:
            less.append(owed)
    lines = []
    if more:
        units = dsum(a.quantity for a in more)
        flags = ("over_cap",) if month.over_cap else ()
        text = f"{terms.name}: {units.normalize(EXACT):f} {terms.unit}, {key}"
        lines.append(_line(oid, USAGE_LINE, text, more, currency, month.month, flags))
    if less:
        text = f"{terms.name}: correction of {key} usage"
        lines.append(_line(oid, USAGE_CORRECTION_LINE, text, less, currency, month.month))
    for shortfall in minimum:
        what = "shortfall taken back" if shortfall.amount.is_negative() else "shortfall"
        text = f"{terms.name}: minimum commitment {key}, {what}"
        lines.append(_line(oid, USAGE_MINIMUM_LINE, text, [shortfall], currency, month.month))
    return lines


def _written_off(oid: ObligationId, month: MonthUsage, currency: Currency) -> list[kit.Exclusion]:
    return [
        kit.Exclusion(
            oid,
            share.source,
            share.over_quantity,
            Money(share.over_value, currency),
            kit.Disposition.WRITTEN_OFF,
            "over_cap_write_off",
        )
        for share in month.shares
        if share.over_value > 0
    ]


def _months(
    history: kit.ObligationHistory[UsageTerms], ctx: kit.BillingContext
) -> list[MonthUsage]:
    records = ctx.delivery.for_obligation(history.obligation_id).get(USAGE)
    return usage_by_month(history, records, ctx.period.end, ctx.ledger)


def bill_usage(
    history: kit.ObligationHistory[UsageTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill, for every month through the period end, what its usage and minimum still owe
    beside what the ledger says they billed (what they billed beyond it is `rerate_usage`'s)."""
    oid = history.obligation_id
    lines: list[kit.ProposedLine] = []
    exclusions: list[kit.Exclusion] = []
    for month in _months(history, ctx):
        owed = _owed(oid, month, ctx.ledger, ctx.currency)
        if not owed:
            continue
        # What a cap wrote off is reported by the run that settles the month's change.
        exclusions += _written_off(oid, month, ctx.currency)
        due = [a for a in owed if not a.amount.is_negative()]
        lines += _month_lines(history, month, due, ctx.currency)
    return kit.ObligationBilling(tuple(lines), tuple(exclusions))


def _billed_by(ledger: kit.BilledLedger, source: kit.SourceRef) -> str:
    """The document a source's value was first billed by (the one a credit refers to)."""
    first = ledger.standing(source).first_document
    return first if first is not None else ledger.for_sources([source])[-1].document_id


def rerate_usage(
    history: kit.ObligationHistory[UsageTerms], ctx: kit.BillingContext
) -> dict[str, list[kit.ProposedLine]]:
    """Take back, by a credit against the document that first billed each source, the value a
    month billed beyond what its usage and minimum now owe (a downward correction, or a
    shortfall that late usage replaced)."""
    oid = history.obligation_id
    credits: dict[str, list[kit.ProposedLine]] = {}
    for month in _months(history, ctx):
        by_document: dict[str, list[kit.Allocation]] = {}
        for owed in _owed(oid, month, ctx.ledger, ctx.currency):
            if owed.amount.is_negative():
                by_document.setdefault(_billed_by(ctx.ledger, owed.source), []).append(owed)
        for document_id, allocations in sorted(by_document.items()):
            lines = _month_lines(history, month, allocations, ctx.currency)
            credits.setdefault(document_id, []).extend(lines)
    return credits


def recognise_usage(history: kit.ObligationHistory[UsageTerms], ctx: kit.RevenueContext) -> Money:
    """Revenue as usage occurs: each month's usage value through `as_of` (within the cap), the
    shortfall once the month has ended, less what write-off credits gave up."""
    records = ctx.delivery.for_obligation(history.obligation_id).get(USAGE)
    months = usage_by_month(history, records, ctx.as_of, kit.BilledLedger())
    total = dsum(month.total for month in months)
    for entry in ctx.ledger.entries_for(history.obligation_id):
        if entry.write_off:
            total = EXACT.add(total, entry.amount.amount)
    # A credit of part of a record's units gives up an exact share of its value: round once.
    return Money(total, ctx.currency).quantized()


def usage_contract_value(history: kit.ObligationHistory[UsageTerms], as_of: date) -> Money | None:
    """What the contract commits the customer to: the minimums of every month in service when
    the service has an end and a minimum; otherwise unknown until used (None)."""
    window = history.latest_by(as_of).terms
    if window.service_end is None or all(
        v.terms.minimum_per_period is None for v in history.versions
    ):
        return None
    total = dsum(
        minimum_due(window, history.latest_by(month.start).terms, month)
        for month in window.months_through(window.service_end)
    )
    return Money(total, window.currency)


USAGE_MODEL = kit.register_billing_model(
    kit.BillingModel(
        name="usage",
        terms_type=UsageTerms,
        bill=bill_usage,
        recognise=recognise_usage,
        contract_value=usage_contract_value,
        summary=(
            "units reported per calendar month (tickets, devices, API calls) priced by graduated "
            "or volume tiers, with a monthly minimum billed as its shortfall and an optional cap"
        ),
        example={
            "obligation_id": "api",
            "name": "API calls",
            "unit": "calls",
            "tiers": [
                {"above": "0", "up_to": "10000", "unit_price": "0.0100"},
                {"above": "10000", "unit_price": "0.0075"},
            ],
            "pricing": "graduated",
            "service_start": "2026-01-01",
            "service_end": "2026-12-31",
            "minimum_per_period": "150.00",
            "cap": {"amount_per_period": "2000.00", "policy": "bill"},
        },
        adr="docs/adr/0051-usage-based-billing.md",
        consumes=(USAGE,),
        source_kinds=(USAGE_RECORD, USAGE_MINIMUM),
        line_kinds=(USAGE_LINE, USAGE_CORRECTION_LINE, USAGE_MINIMUM_LINE),
        rerate=rerate_usage,
        admit=admit_usage,
    )
)
