"""What a usage contract agrees and what a metering system reports (the usage model,
`domain.usage`, bills them; docs/adr/0051).

`UsageRecord` is the declared delivery kind `usage`: units of one unit used on a day, under
the reporting system's own id. `UsageTerms` price a calendar month's units by tiers
(`domain.usage_tiers`), with an optional minimum per month in service and an optional cap on
what a month's usage bills. Inconsistent terms are refused with `InvalidTermsError`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from domain.delivery_kinds import register_delivery_kind
from domain.errors import DomainError, InvalidTermsError
from domain.ids import ObligationId
from domain.money import EXACT, Currency, Money
from domain.overage import OveragePolicy
from domain.period import Period
from domain.usage_tiers import TierPricing, UsageTier, check_tiers

ZERO = Decimal(0)


class InvalidUsageRecordError(DomainError):
    """A usage record names itself, counts no fewer than zero units and says which unit."""

    code = "invalid_usage_record"


class UsageUnitMismatchError(DomainError):
    """A record counts in the unit the obligation's terms price, or it cannot be billed."""

    code = "usage_unit_mismatch"


@attrs.frozen
class UsageRecord:
    """Units used on a day, as the metering system reported them under its own id; reported
    again under the same id, it is a correction that replaces the earlier quantity."""

    record_id: str
    obligation_id: ObligationId
    occurred_on: date
    quantity: Decimal
    unit: str
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.record_id.strip():
            raise InvalidUsageRecordError("a usage record needs its id in the reporting system")
        if not self.unit.strip():
            raise InvalidUsageRecordError(f"usage record {self.record_id} names no unit")
        if self.quantity < 0:
            raise InvalidUsageRecordError(
                f"usage record {self.record_id} counts {self.quantity} {self.unit}: a quantity "
                "is zero or more (a correction may lower it to zero)"
            )


USAGE = register_delivery_kind(
    "usage",
    UsageRecord,
    "Quantities of a unit (tickets resolved, devices managed, API calls) used on a day, "
    "reported by a PSA or a metering system under its own record id.",
    example={
        "record_id": "MTR-2026-03-05-001",
        "obligation_id": "api",
        "occurred_on": "2026-03-05",
        "quantity": "1250",
        "unit": "calls",
        "note": "gateway eu-west",
    },
)


@attrs.frozen
class UsageCap:
    """A ceiling on what one month's usage bills, and what happens to the value above it."""

    amount_per_period: Decimal
    policy: OveragePolicy = OveragePolicy.BILL


def _whole(amount: Decimal, currency: Currency, what: str, where: str) -> None:
    money = Money(amount, currency)
    if money.is_negative():
        raise InvalidTermsError(f"{where}: {what} cannot be negative")
    if money.quantized() != money:
        raise InvalidTermsError(f"{where}: {what} {amount} is not whole {currency} minor units")


def _check_terms(terms: UsageTerms) -> None:
    where = str(terms.obligation_id)
    check_tiers(terms.tiers, where)
    if not terms.unit.strip():
        raise InvalidTermsError(f"{where}: usage terms name the unit they price")
    if terms.service_end is not None and terms.service_end < terms.service_start:
        raise InvalidTermsError(f"{where}: the service ends before it starts")
    if terms.minimum_per_period is not None:
        _whole(terms.minimum_per_period, terms.currency, "the minimum commitment", where)
    cap = terms.cap
    if cap is None:
        return
    _whole(cap.amount_per_period, terms.currency, "the cap", where)
    if cap.policy not in (OveragePolicy.BILL, OveragePolicy.WRITE_OFF):
        raise InvalidTermsError(
            f"{where}: a usage cap bills or writes off the value above it, not {cap.policy.value}"
        )
    if terms.minimum_per_period is not None and cap.amount_per_period < terms.minimum_per_period:
        raise InvalidTermsError(f"{where}: the cap is below the minimum commitment")


@attrs.frozen
class UsageTerms:
    """Units of one unit priced by tiers per calendar month, with an optional minimum per month
    in service and an optional cap on what a month's usage bills."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    unit: str
    tiers: tuple[UsageTier, ...]
    service_start: date
    pricing: TierPricing = TierPricing.GRADUATED
    service_end: date | None = None
    minimum_per_period: Decimal | None = None
    cap: UsageCap | None = None

    def __attrs_post_init__(self) -> None:
        _check_terms(self)

    def service_in(self, month: Period) -> Period | None:
        """The days of a month the service covers, if any."""
        return month.served(self.service_start, self.service_end)

    def months_through(self, day: date) -> list[Period]:
        """The calendar months in service that start on or before `day`, in order."""
        last = day if self.service_end is None else min(day, self.service_end)
        if last < self.service_start:
            return []
        return list(Period(self.service_start, last).months())


def minimum_due(window: UsageTerms, priced: UsageTerms, month: Period) -> Decimal:
    """A month's minimum commitment: in full for a whole month in service, by days for a part
    (rounded half-up to minor units), nothing outside the service or without a minimum."""
    service = window.service_in(month)
    if priced.minimum_per_period is None or service is None:
        return ZERO
    if service == month:
        return priced.minimum_per_period
    share = EXACT.divide(
        EXACT.multiply(priced.minimum_per_period, Decimal(service.days)), Decimal(month.days)
    )
    return Money(share, priced.currency).quantized().amount


def admit_usage(terms: UsageTerms, record: UsageRecord) -> None:
    """A usage record counts in the unit its obligation's terms price, or it is refused."""
    if record.unit != terms.unit:
        raise UsageUnitMismatchError(
            f"usage record {record.record_id} counts {record.unit}; obligation "
            f"{terms.obligation_id} prices {terms.unit}"
        )
