"""Contracts and their immutable, effective-dated versions (SOW, amendments, change orders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

import attrs

from domain.billing import ObligationHistory, TermsInForce
from domain.errors import (
    CurrencyMismatchError,
    DomainError,
    ImmutableVersionError,
    InvalidTermsError,
    NoTermsInForceError,
)
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId
from domain.lifecycle import LifecycleTable
from domain.money import Currency
from domain.obligation import ObligationTerms


class VersionState(Enum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"
    TERMINATED = "terminated"


class VersionTrigger(Enum):
    APPROVE = "approve"
    SUPERSEDE = "supersede"
    TERMINATE = "terminate"


CONTRACT_VERSION_LIFECYCLE = LifecycleTable(
    "contract version",
    VersionState,
    VersionTrigger,
    [
        (VersionTrigger.APPROVE, VersionState.DRAFT, VersionState.APPROVED),
        (VersionTrigger.SUPERSEDE, VersionState.APPROVED, VersionState.SUPERSEDED),
        (VersionTrigger.TERMINATE, VersionState.APPROVED, VersionState.TERMINATED),
    ],
)


@attrs.frozen
class ContractVersionApproved:
    contract_id: ContractId
    version: int
    effective_from: date
    by: str
    at: datetime


@attrs.frozen
class ContractTerminated:
    contract_id: ContractId
    version: int
    on: date
    at: datetime


@attrs.define(slots=False, eq=False)
class ContractVersion:
    """A SOW or amendment: obligations effective from a date; immutable once approved."""

    contract_id: ContractId
    version: int
    effective_from: date
    obligations: tuple[Any, ...]
    label: str = ""
    state: VersionState = VersionState.DRAFT
    approved_by: str | None = None
    approved_at: datetime | None = None
    terminated_on: date | None = None

    def revise(self, obligations: Sequence[Any]) -> None:
        """Edit a draft's obligations; approved versions never change."""
        if self.state is not VersionState.DRAFT:
            raise ImmutableVersionError(
                f"contract {self.contract_id} version {self.version} is {self.state.value}: "
                "change it with a new version"
            )
        self.obligations = _checked_obligations(obligations)

    def obligation(self, obligation_id: ObligationId) -> Any:
        for terms in self.obligations:
            if terms.obligation_id == obligation_id:
                return terms
        raise DomainError(f"version {self.version} has no obligation {obligation_id}")

    @property
    def is_binding(self) -> bool:
        """Approved versions bind; superseded ones still do for dates before their successor."""
        return self.state in (
            VersionState.APPROVED,
            VersionState.SUPERSEDED,
            VersionState.TERMINATED,
        )


def _checked_obligations(obligations: Sequence[Any]) -> tuple[Any, ...]:
    ids = [o.obligation_id for o in obligations]
    if not all(isinstance(o, ObligationTerms) for o in obligations):
        raise InvalidTermsError("every obligation needs an obligation_id and a name")
    if len(set(ids)) != len(ids):
        raise InvalidTermsError(f"obligation ids repeat in one version: {sorted(ids)}")
    return tuple(obligations)


@attrs.frozen
class VersionDiff:
    """What an amendment changes, obligation by obligation (by id and by value)."""

    added: tuple[ObligationId, ...]
    removed: tuple[ObligationId, ...]
    changed: tuple[ObligationId, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@attrs.define(slots=False, eq=False)
class Contract:
    """The agreement with one customer, in one currency, and the history of its versions."""

    contract_id: ContractId
    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    currency: Currency
    name: str = ""
    versions: list[ContractVersion] = attrs.field(factory=list)
    revision: int = 0
    events: list[object] = attrs.field(factory=list, repr=False)

    def draft_version(
        self, effective_from: date, obligations: Sequence[Any], label: str = ""
    ) -> ContractVersion:
        """Start the next version as a draft (the first is the SOW, later ones amend it)."""
        for terms in obligations:
            currency = getattr(terms, "currency", None)
            if currency is not None and currency != self.currency:
                raise CurrencyMismatchError(
                    f"obligation {terms.obligation_id} is in {currency}, "
                    f"the contract in {self.currency}"
                )
        version = ContractVersion(
            self.contract_id,
            len(self.versions) + 1,
            effective_from,
            _checked_obligations(obligations),
            label or ("SOW" if not self.versions else f"Amendment {len(self.versions)}"),
        )
        self.versions.append(version)
        self.revision += 1
        return version

    def approve_version(self, version: int, by: str, at: datetime) -> ContractVersion:
        """Approve a draft; the version it follows becomes superseded from its effective date."""
        draft = self._version(version)
        current = self._current()
        if current is not None and draft.effective_from < current.effective_from:
            raise InvalidTermsError(
                f"version {version} takes effect on {draft.effective_from}, before version "
                f"{current.version} ({current.effective_from}) that it would supersede"
            )
        draft.state = CONTRACT_VERSION_LIFECYCLE.next_state(draft.state, VersionTrigger.APPROVE)
        draft.approved_by, draft.approved_at = by, at
        if current is not None:
            current.state = CONTRACT_VERSION_LIFECYCLE.next_state(
                current.state, VersionTrigger.SUPERSEDE
            )
        self.revision += 1
        self.events.append(
            ContractVersionApproved(self.contract_id, version, draft.effective_from, by, at)
        )
        return draft

    def terminate(self, on: date, at: datetime) -> None:
        """End the contract: no terms are in force after `on`."""
        current = self._current()
        if current is None:
            raise NoTermsInForceError(f"contract {self.contract_id} has no approved version")
        current.state = CONTRACT_VERSION_LIFECYCLE.next_state(
            current.state, VersionTrigger.TERMINATE
        )
        current.terminated_on = on
        self.revision += 1
        self.events.append(ContractTerminated(self.contract_id, current.version, on, at))

    def version_in_force(self, on: date) -> ContractVersion:
        """The approved version whose terms govern `on` (one query for 'terms as of D')."""
        found = None
        for version in self.versions:
            if version.is_binding and version.effective_from <= on:
                found = version
        if found is None or self._ended_before(on):
            raise NoTermsInForceError(f"contract {self.contract_id} has no terms in force on {on}")
        return found

    def obligation_history(self, obligation_id: ObligationId) -> ObligationHistory[Any]:
        """The obligation's terms across the binding versions that hold it, oldest first."""
        versions = tuple(
            TermsInForce(v.effective_from, v.version, terms)
            for v in self.versions
            if v.is_binding
            for terms in v.obligations
            if terms.obligation_id == obligation_id
        )
        if not versions:
            raise NoTermsInForceError(
                f"contract {self.contract_id} has no approved obligation {obligation_id}"
            )
        return ObligationHistory(obligation_id, versions)

    def diff(self, old: int, new: int) -> VersionDiff:
        """The obligations version `new` adds, removes or changes relative to version `old`."""
        before = {t.obligation_id: t for t in self._version(old).obligations}
        after = {t.obligation_id: t for t in self._version(new).obligations}
        return VersionDiff(
            tuple(oid for oid in after if oid not in before),
            tuple(oid for oid in before if oid not in after),
            tuple(oid for oid in after if oid in before and after[oid] != before[oid]),
        )

    def obligation_ids(self) -> list[ObligationId]:
        """Every obligation any binding version has held, in first-seen order."""
        seen: dict[ObligationId, None] = {}
        for v in self.versions:
            if v.is_binding:
                for terms in v.obligations:
                    seen.setdefault(terms.obligation_id, None)
        return list(seen)

    def _ended_before(self, on: date) -> bool:
        return any(
            v.state is VersionState.TERMINATED
            and v.terminated_on is not None
            and on > v.terminated_on
            for v in self.versions
        )

    def _current(self) -> ContractVersion | None:
        approved = [v for v in self.versions if v.state is VersionState.APPROVED]
        return approved[-1] if approved else None

    def _version(self, number: int) -> ContractVersion:
        if not 1 <= number <= len(self.versions):
            raise DomainError(f"contract {self.contract_id} has no version {number}")
        return self.versions[number - 1]
