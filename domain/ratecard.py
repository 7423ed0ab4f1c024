"""Rate cards: role -> hourly rate, resource overrides, immutable effective-dated versions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar

import attrs

from domain.errors import (
    CurrencyMismatchError,
    ImmutableVersionError,
    InvalidTermsError,
    NoTermsInForceError,
    RateNotFoundError,
)
from domain.ids import RateCardId, ResourceId, Role
from domain.money import Currency, Money

K = TypeVar("K", bound=str)


def _frozen_rates(value: Mapping[K, Decimal]) -> Mapping[K, Decimal]:
    rates = {key: Decimal(v) for key, v in value.items()}
    if any(rate < 0 for rate in rates.values()):
        raise InvalidTermsError("hourly rates cannot be negative")
    return MappingProxyType(rates)


@attrs.frozen
class RateCardVersion:
    """One published version of a rate card; it applies to work dated on or after its date."""

    version: int
    effective_from: date
    currency: Currency
    role_rates: Mapping[Role, Decimal] = attrs.field(converter=_frozen_rates)
    resource_overrides: Mapping[ResourceId, Decimal] = attrs.field(
        factory=dict, converter=_frozen_rates
    )

    def rate_for(self, role: Role, resource: ResourceId | None = None) -> Money:
        """A resource override beats the role rate."""
        if resource is not None and resource in self.resource_overrides:
            return Money(self.resource_overrides[resource], self.currency)
        if role in self.role_rates:
            return Money(self.role_rates[role], self.currency)
        raise RateNotFoundError(f"rate card version {self.version} has no rate for role {role!r}")


@attrs.define(slots=False, eq=False)
class RateCard:
    """A rate card and its history of published versions (never edited, only superseded)."""

    rate_card_id: RateCardId
    name: str
    currency: Currency
    versions: list[RateCardVersion] = attrs.field(factory=list)
    revision: int = 0

    def publish(self, version: RateCardVersion) -> None:
        """Publish the next version; earlier versions stay exactly as they were."""
        expected = len(self.versions) + 1
        if version.version != expected:
            raise ImmutableVersionError(
                f"rate card {self.rate_card_id} expects version {expected}, "
                f"got {version.version}: published versions are never replaced"
            )
        if version.currency != self.currency:
            raise CurrencyMismatchError(
                f"rate card {self.rate_card_id} is in {self.currency}, not {version.currency}"
            )
        self.versions.append(version)
        self.revision += 1

    def version_in_force(self, on: date) -> RateCardVersion:
        """The version that prices work dated `on`: latest effective date, then latest version."""
        candidates = [v for v in self.versions if v.effective_from <= on]
        if not candidates:
            raise NoTermsInForceError(
                f"rate card {self.rate_card_id} has no version in force on {on}"
            )
        return max(candidates, key=lambda v: (v.effective_from, v.version))

    def rate_for(self, role: Role, resource: ResourceId | None, on: date) -> tuple[Money, int]:
        """The hourly rate for work dated `on`, and the version number that gave it."""
        version = self.version_in_force(on)
        return version.rate_for(role, resource), version.version
