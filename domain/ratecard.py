"""Rate cards: role -> hourly rate, resource overrides, immutable effective-dated versions.

A change to a rate card is made by one person and approved by another (maker-checker): a
proposed version prices nothing until someone other than its proposer approves it, which
publishes it. Proposals are numbered after the published versions and publish in order.
Direct publication (`publish`) remains for data loads, and is refused while a proposal waits.

A version can be written in full, or as an amendment (`RateCard.amend`): the rates that change
from a date. The amendment becomes a complete version, the one in force on that date (counting
the proposals that will publish before it) plus the changes, so the roles it does not mention
keep their rates (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from domain.errors import (
    CurrencyMismatchError,
    DomainError,
    ImmutableVersionError,
    InvalidTermsError,
    MakerCheckerError,
    NoTermsInForceError,
    RateNotFoundError,
)
from domain.ids import RateCardId, ResourceId, Role
from domain.money import Currency, Money

K = TypeVar("K", bound=str)


def _frozen_rates(value: Mapping[Any, Decimal]) -> Mapping[Any, Decimal]:
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


class ProposalNotFoundError(DomainError):
    """Only a proposed rate-card version can be approved."""

    code = "rate_card_proposal_not_found"


@attrs.frozen
class RateCardProposal:
    """A rate-card version waiting for approval by someone other than its proposer."""

    version: RateCardVersion
    proposed_by: str
    proposed_at: datetime


@attrs.frozen
class RateCardApproval:
    """Who proposed and who approved a published version (the maker and the checker)."""

    version: int
    proposed_by: str
    approved_by: str
    approved_at: datetime


@attrs.define(slots=False, eq=False)
class RateCard:
    """A rate card, its published versions (never edited, only superseded) and the proposed
    versions waiting for a checker."""

    rate_card_id: RateCardId
    name: str
    currency: Currency
    versions: list[RateCardVersion] = attrs.field(factory=list)
    revision: int = 0
    proposals: list[RateCardProposal] = attrs.field(factory=list)
    approvals: list[RateCardApproval] = attrs.field(factory=list)

    @property
    def next_version_number(self) -> int:
        """The number the next proposal takes: after every published and proposed version."""
        return len(self.versions) + len(self.proposals) + 1

    def publish(self, version: RateCardVersion) -> None:
        """Publish the next version directly (data loads); refused while a proposal waits."""
        if self.proposals:
            waiting = ", ".join(str(p.version.version) for p in self.proposals)
            raise ImmutableVersionError(
                f"rate card {self.rate_card_id} has proposed version(s) {waiting} waiting for "
                "approval: approve them before publishing another"
            )
        self._publish(version)

    def propose(self, version: RateCardVersion, by: str, at: datetime) -> RateCardProposal:
        """Propose the next version; it prices nothing until someone other than `by` approves."""
        expected = self.next_version_number
        if version.version != expected:
            raise ImmutableVersionError(
                f"rate card {self.rate_card_id} expects its next version to be {expected}, "
                f"got {version.version}: versions are never replaced"
            )
        self._check_currency(version)
        proposal = RateCardProposal(version, by, at)
        self.proposals.append(proposal)
        self.revision += 1
        return proposal

    def approve(self, version: int, by: str, at: datetime) -> RateCardVersion:
        """Publish a proposed version: not by its proposer, and in the order proposed."""
        proposal = self.proposal(version)
        if by == proposal.proposed_by:
            raise MakerCheckerError(
                f"{by} proposed version {version} of rate card {self.rate_card_id} and cannot "
                "approve it: another person must"
            )
        first = self.proposals[0]
        if first is not proposal:
            raise ImmutableVersionError(
                f"rate card {self.rate_card_id}: approve version {first.version.version} "
                f"before version {version}"
            )
        self._publish(proposal.version)
        self.proposals.remove(proposal)
        self.approvals.append(RateCardApproval(version, proposal.proposed_by, by, at))
        return proposal.version

    def approval_of(self, version: int) -> RateCardApproval | None:
        """The maker and checker of a published version (None when it was loaded directly)."""
        return next((a for a in self.approvals if a.version == version), None)

    def proposal(self, version: int) -> RateCardProposal:
        """The waiting proposal numbered `version`."""
        for proposal in self.proposals:
            if proposal.version.version == version:
                return proposal
        if 1 <= version <= len(self.versions):
            raise ImmutableVersionError(
                f"version {version} of rate card {self.rate_card_id} is already published"
            )
        raise ProposalNotFoundError(
            f"rate card {self.rate_card_id} has no proposed version {version}"
        )

    def _publish(self, version: RateCardVersion) -> None:
        expected = len(self.versions) + 1
        if version.version != expected:
            raise ImmutableVersionError(
                f"rate card {self.rate_card_id} expects version {expected}, "
                f"got {version.version}: published versions are never replaced"
            )
        self._check_currency(version)
        self.versions.append(version)
        self.revision += 1

    def _check_currency(self, version: RateCardVersion) -> None:
        if version.currency != self.currency:
            raise CurrencyMismatchError(
                f"rate card {self.rate_card_id} is in {self.currency}, not {version.currency}"
            )

    def version_in_force(self, on: date) -> RateCardVersion:
        """The version that prices work dated `on`: latest effective date, then latest version."""
        found: RateCardVersion | None = None
        for version in self.versions:
            if version.effective_from <= on and (
                found is None
                or (version.effective_from, version.version) > (found.effective_from, found.version)
            ):
                found = version
        if found is None:
            raise NoTermsInForceError(
                f"rate card {self.rate_card_id} has no version in force on {on}"
            )
        return found

    def rate_for(self, role: Role, resource: ResourceId | None, on: date) -> tuple[Money, int]:
        """The hourly rate for work dated `on`, and the version number that gave it."""
        version = self.version_in_force(on)
        try:
            return version.rate_for(role, resource), version.version
        except RateNotFoundError:
            raise RateNotFoundError(
                f"rate card {self.rate_card_id} has no rate for role {role!r} on {on} (version "
                f"{version.version}, in force from {version.effective_from}): add the role "
                f"with an amendment effective on or before {on}"
            ) from None

    @classmethod
    def with_rates(
        cls,
        rate_card_id: str,
        currency: Currency | str,
        effective_from: date,
        role_rates: Mapping[str, Decimal | str],
        resource_overrides: Mapping[str, Decimal | str] | None = None,
        name: str = "",
    ) -> RateCard:
        """A rate card whose first version, published, prices work from `effective_from`."""
        money = currency if isinstance(currency, Currency) else Currency.of(currency)
        card = cls(RateCardId(rate_card_id), name or rate_card_id, money)
        card.publish(
            RateCardVersion(
                1,
                effective_from,
                money,
                {Role(k): Decimal(v) for k, v in role_rates.items()},
                {ResourceId(k): Decimal(v) for k, v in (resource_overrides or {}).items()},
            )
        )
        return card

    def amend(
        self,
        effective_from: date,
        role_rates: Mapping[Role, Decimal] | None = None,
        resource_overrides: Mapping[ResourceId, Decimal] | None = None,
        removed_roles: Iterable[Role] = (),
        removed_overrides: Iterable[ResourceId] = (),
    ) -> RateCardVersion:
        """The next version written as changes: the version in force on `effective_from`
        (proposals included) with these rates set and these removed; nothing is published."""
        roles, overrides = dict(role_rates or {}), dict(resource_overrides or {})
        gone_roles, gone_overrides = set(removed_roles), set(removed_overrides)
        if not (roles or overrides or gone_roles or gone_overrides):
            raise InvalidTermsError(
                f"an amendment of rate card {self.rate_card_id} changes at least one rate"
            )
        base = self.basis_on(effective_from)
        base_roles = dict(base.role_rates) if base else {}
        base_overrides = dict(base.resource_overrides) if base else {}
        _check_removal("role", gone_roles, roles, base_roles, base, self.rate_card_id)
        _check_removal(
            "resource override", gone_overrides, overrides, base_overrides, base, self.rate_card_id
        )
        for role in gone_roles:
            del base_roles[role]
        for resource in gone_overrides:
            del base_overrides[resource]
        base_roles.update(roles)
        base_overrides.update(overrides)
        return RateCardVersion(
            self.next_version_number, effective_from, self.currency, base_roles, base_overrides
        )

    def basis_on(self, on: date) -> RateCardVersion | None:
        """The version an amendment from `on` starts from: the latest (by effective date, then
        number) of the published and proposed versions effective on or before `on`."""
        candidates = [
            v
            for v in (*self.versions, *(p.version for p in self.proposals))
            if v.effective_from <= on
        ]
        return max(candidates, key=lambda v: (v.effective_from, v.version), default=None)


def _check_removal(
    what: str,
    removed: set[K],
    changed: Mapping[K, Decimal],
    base: Mapping[K, Decimal],
    basis: RateCardVersion | None,
    rate_card_id: RateCardId,
) -> None:
    both = sorted(removed & changed.keys())
    if both:
        raise InvalidTermsError(
            f"an amendment of rate card {rate_card_id} both sets and removes {what} {both[0]!r}"
        )
    missing = sorted(removed - base.keys())
    if missing:
        source = "it has no version yet" if basis is None else f"version {basis.version} has none"
        raise InvalidTermsError(
            f"an amendment of rate card {rate_card_id} removes {what} {missing[0]!r}, but {source}"
        )
