"""Recurring fees (managed services): a fixed amount per calendar month, billed in advance.

A partial first or last month is prorated by days: amount × service days in the month / days
in the month, computed exactly and rounded half-up to minor units once, per month. Revenue is
earned straight-line by day over the same service days, so a finished month earns exactly what
it billed.

Which terms apply: the months in service come from the terms in force at the end of the run's
period (or at `as_of` for revenue), so an amendment that extends or shortens the service is
seen at once; each month is priced by the terms in force on its first service day, so a price
change takes effect from the month it is dated in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction

import attrs

from domain import billing_kit as kit
from domain.errors import InvalidTermsError
from domain.ids import ObligationId
from domain.money import EXACT, Currency, Money, money_sum
from domain.period import Period


def _check_terms(terms: RecurringTerms) -> None:
    amount = Money(terms.amount_per_period, terms.currency)
    if amount.is_negative():
        raise InvalidTermsError(f"{terms.obligation_id}: a recurring amount cannot be negative")
    if amount.quantized() != amount:
        raise InvalidTermsError(
            f"{terms.obligation_id}: {amount.amount} is not whole {terms.currency} minor units"
        )
    if terms.service_end is not None and terms.service_end < terms.service_start:
        raise InvalidTermsError(f"{terms.obligation_id}: the service ends before it starts")


@attrs.frozen
class RecurringTerms:
    """A fixed amount per calendar month of service, from a start date to an optional end."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    amount_per_period: Decimal
    service_start: date
    service_end: date | None = None

    def __attrs_post_init__(self) -> None:
        _check_terms(self)

    def service_in(self, month: Period) -> Period | None:
        """The days of a month the service covers, if any."""
        return month.served(self.service_start, self.service_end)

    def months_through(self, day: date) -> Iterator[Period]:
        """The calendar months in service that start on or before `day`, in order."""
        month = Period.month_of(self.service_start)
        while month.start <= day and (self.service_end is None or month.start <= self.service_end):
            yield month
            month = month.next()


def recurring_source(obligation_id: ObligationId, month: Period) -> kit.SourceRef:
    """The source a month of service allocates to."""
    return kit.SourceRef(kit.SourceKind.RECURRING_PERIOD, f"{obligation_id}:{month.key}")


def prorated_amount(amount_per_period: Decimal, currency: Currency, days: int, of: int) -> Money:
    """`days` of a month of `of` days, exactly, then rounded half-up to minor units."""
    return _rounded(Fraction(amount_per_period) * Fraction(days, of), currency)


def _rounded(value: Fraction, currency: Currency) -> Money:
    exact = EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Money(exact, currency).quantized()


def _priced(
    history: kit.ObligationHistory[RecurringTerms], service: Period
) -> kit.TermsInForce[RecurringTerms]:
    return history.latest_by(service.start)


def month_amount(
    history: kit.ObligationHistory[RecurringTerms], month: Period, service: Period
) -> Money:
    """What a month of service bills: the full amount, or its share of days when partial."""
    terms = _priced(history, service).terms
    if service == month:
        return Money(terms.amount_per_period, terms.currency)
    return prorated_amount(terms.amount_per_period, terms.currency, service.days, month.days)


def bill_recurring(
    history: kit.ObligationHistory[RecurringTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill in advance every month in service that starts by the period end and is not billed."""
    terms = history.latest_by(ctx.period.end).terms
    lines = []
    for month in terms.months_through(ctx.period.end):
        service = terms.service_in(month)
        source = recurring_source(terms.obligation_id, month)
        if service is None or ctx.ledger.settled(source) > 0:
            continue
        amount = month_amount(history, month, service)
        label = _priced(history, service).label
        lines.append(
            kit.ProposedLine.from_allocations(
                terms.obligation_id,
                kit.LineKind.RECURRING,
                _describe(terms.name, month, service),
                amount,
                [kit.Allocation(source, Decimal(1), amount, label)],
                service_period=service,
            )
        )
    return kit.ObligationBilling(lines=tuple(lines))


def _describe(name: str, month: Period, service: Period) -> str:
    if service == month:
        return f"{name}: {month.key}"
    return (
        f"{name}: {month.key}, {service.start.isoformat()} to {service.end.isoformat()} "
        f"({service.days}/{month.days} days)"
    )


def recognise_recurring(
    history: kit.ObligationHistory[RecurringTerms], ctx: kit.RevenueContext
) -> Money:
    """Cumulative revenue straight-line by day: each month's amount × its service days elapsed
    by `as_of` / its days."""
    terms = history.latest_by(ctx.as_of).terms
    total = Money.zero(terms.currency)
    for month in terms.months_through(ctx.as_of):
        service = terms.service_in(month)
        if service is None or service.start > ctx.as_of:
            continue
        elapsed = Period(service.start, min(service.end, ctx.as_of))
        if elapsed == service:
            total = total + month_amount(history, month, service)
        else:
            priced = _priced(history, service).terms
            total = total + prorated_amount(
                priced.amount_per_period, priced.currency, elapsed.days, month.days
            )
    return total


def recurring_value(history: kit.ObligationHistory[RecurringTerms], as_of: date) -> Money | None:
    """A recurring fee with an end date is worth what its months of service bill; an
    open-ended one has no total."""
    terms = history.latest_by(as_of).terms
    if terms.service_end is None:
        return None
    months = []
    for month in terms.months_through(terms.service_end):
        service = terms.service_in(month)
        if service is not None:
            months.append(month_amount(history, month, service))
    return money_sum(months, terms.currency)


RECURRING_MODEL = kit.register_billing_model(
    kit.BillingModel(
        name="recurring",
        terms_type=RecurringTerms,
        bill=bill_recurring,
        recognise=recognise_recurring,
        contract_value=recurring_value,
        summary="a fixed monthly amount billed in advance, prorated by days",
        example={
            "obligation_id": "ms",
            "name": "Managed service",
            "amount_per_period": "12000.00",
            "service_start": "2026-01-15",
            "service_end": "2026-12-31",
        },
        adr="docs/adr/0049-recurring-fees.md",
        source_kinds=(kit.SourceKind.RECURRING_PERIOD,),
        line_kinds=(kit.LineKind.RECURRING,),
    )
)
