"""A test-only delivery kind and a test-only billing model that bills it, registered here so the
store, the ingestion routes, the webhook, the CSV import and the billing run are proven on a kind
no production module declares (ADR 0050).

`test_units` records report how many units an obligation used on a day; the `test_metered`
model bills each record at a fixed unit price, one line per record, for the units the billed
ledger has not settled yet: a record corrected upwards after billing bills the difference.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from domain import billing_kit as kit
from domain.errors import DomainError
from domain.ids import ObligationId
from domain.money import EXACT, Currency, Money


class NegativeUnitsError(DomainError):
    code = "negative_units"


@attrs.frozen
class UnitRecord:
    """Units an obligation used on a day, as a metering system reports them."""

    record_id: str
    obligation_id: ObligationId
    occurred_on: date
    units: int
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.units < 0:
            raise NegativeUnitsError(f"{self.record_id}: units cannot be negative")


UNITS = kit.register_delivery_kind(
    "test_units",
    UnitRecord,
    "units used, for the tests of declared delivery kinds",
    example={
        "record_id": "MTR-1",
        "obligation_id": "metered",
        "occurred_on": "2026-03-05",
        "units": 3,
    },
)


@attrs.frozen
class MeteredTerms:
    """A fixed price per unit reported."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    unit_price: Decimal


def unit_source(record: UnitRecord) -> kit.SourceRef:
    """The source a record's units allocate to. (A test-only model borrows the installment
    kind of source; its ids are prefixed with the record's kind.)"""
    return kit.SourceRef(kit.SourceKind.INSTALLMENT, f"{UNITS.name}:{record.record_id}")


def bill_metered(
    history: kit.ObligationHistory[MeteredTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill each record dated by the period end for the units the ledger has not settled."""
    terms = history.latest_by(ctx.period.end).terms
    lines = []
    for record in ctx.delivery.get(UNITS):
        source = unit_source(record)
        open_units = EXACT.subtract(Decimal(record.units), ctx.ledger.settled(source))
        if record.occurred_on > ctx.period.end or open_units <= 0:
            continue
        value = Money(EXACT.multiply(open_units, terms.unit_price), terms.currency)
        lines.append(
            kit.ProposedLine.from_allocations(
                terms.obligation_id,
                kit.LineKind.INSTALLMENT,
                f"{terms.name}: {record.record_id}",
                Money(terms.unit_price, terms.currency),
                [kit.Allocation(source, open_units, value, terms.name)],
            )
        )
    return kit.ObligationBilling(lines=tuple(lines))


def recognise_metered(
    history: kit.ObligationHistory[MeteredTerms], ctx: kit.RevenueContext
) -> Money:
    """Revenue as units are used: every record dated by `as_of` at the unit price."""
    terms = history.latest_by(ctx.as_of).terms
    units = sum((r.units for r in ctx.delivery.get(UNITS) if r.occurred_on <= ctx.as_of), 0)
    return Money(EXACT.multiply(Decimal(units), terms.unit_price), terms.currency).quantized()


METERED = kit.register_billing_model(
    kit.BillingModel(
        name="test_metered",
        terms_type=MeteredTerms,
        bill=bill_metered,
        recognise=recognise_metered,
        contract_value=kit.no_contract_value,
        summary="a test-only model: each reported unit at a fixed price",
        example={"obligation_id": "metered", "name": "Metered units", "currency": "EUR",
                 "unit_price": "2.50"},
        adr="docs/adr/0050-records-of-declared-delivery-kinds.md",
        consumes=(UNITS,),
    )
)  # fmt: skip
