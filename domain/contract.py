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
from domain.split import ObligationPayers


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
    #: Obligations billed to several payers (split billing); the others bill the customer.
    payers: tuple[ObligationPayers, ...] = ()

    def revise(
        self, obligations: Sequence[Any], payers: Sequence[ObligationPayers] | None = None
    ) -> None:
        """Edit a draft's obligations (and payers); approved versions never change."""
        if self.state is not VersionState.DRAFT:
            raise ImmutableVersionError(
                f"contract {self.contract_id} version {self.version} is {self.state.value}: "
                "change it with a new version"
            )
        checked = _checked_obligations(obligations)
        chosen = self.payers if payers is None else tuple(payers)
        self.payers = _checked_payers(self.contract_id, checked, chosen)
        self.obligations = checked

    def payers_of(self, obligation_id: ObligationId) -> ObligationPayers | None:
        """The payers this version names for an obligation; None: the customer pays it all."""
        for declared in self.payers:
            if declared.obligation_id == obligation_id:
                return declared
        return None

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
    unnamed = [o.obligation_id for o in obligations if not o.name.strip()]
    if unnamed:
        raise InvalidTermsError(
            f"obligation {unnamed[0]} has a blank name: an invoice line says what it bills by "
            "its obligation's name"
        )
    return tuple(obligations)


def _checked_payers(
    contract_id: ContractId, obligations: Sequence[Any], payers: Sequence[ObligationPayers]
) -> tuple[ObligationPayers, ...]:
    known = {o.obligation_id for o in obligations}
    named = [p.obligation_id for p in payers]
    if len(set(named)) != len(named):
        raise InvalidTermsError(f"payers are declared twice for an obligation: {sorted(named)}")
    for oid in named:
        if oid not in known:
            raise InvalidTermsError(
                f"contract {contract_id} names payers for obligation {oid}, which this version "
                "does not hold"
            )
    return tuple(payers)


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
        self,
        effective_from: date,
        obligations: Sequence[Any],
        label: str = "",
        payers: Sequence[ObligationPayers] = (),
    ) -> ContractVersion:
        """Start the next version as a draft (the first is the SOW, later ones amend it); payers
        are commercial terms of the version, like its obligations."""
        for terms in obligations:
            currency = getattr(terms, "currency", None)
            if currency is not None and currency != self.currency:
                raise CurrencyMismatchError(
                    f"obligation {terms.obligation_id} is in {currency}, "
                    f"the contract in {self.currency}"
                )
        for declared in payers:
            ObligationPayers.of(declared.obligation_id, declared.payers, self.currency)
        checked = _checked_obligations(obligations)
        version = ContractVersion(
            self.contract_id,
            len(self.versions) + 1,
            effective_from,
            checked,
            label or ("SOW" if not self.versions else f"Amendment {len(self.versions)}"),
            payers=_checked_payers(self.contract_id, checked, payers),
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

    def payers_on(self, obligation_id: ObligationId, day: date) -> ObligationPayers | None:
        """The payers of an obligation under the binding version in force on `day` (the first
        binding version holding it, before that); None: the customer pays it all."""
        holding = [
            v
            for v in self.versions
            if v.is_binding and any(t.obligation_id == obligation_id for t in v.obligations)
        ]
        if not holding:
            return None
        chosen = holding[0]
        for version in holding:
            if version.effective_from <= day:
                chosen = version
        return chosen.payers_of(obligation_id)

    def payer_ids(self) -> list[CustomerId]:
        """The customer and every payer a binding version names, customer first."""
        seen: dict[CustomerId, None] = {self.customer_id: None}
        for v in self.versions:
            if v.is_binding:
                for declared in v.payers:
                    for payer in declared.payers:
                        seen.setdefault(payer.payer_id, None)
        return list(seen)

    def diff(self, old: int, new: int) -> VersionDiff:
        """The obligations version `new` adds, removes or changes (terms or payers) relative to
        version `old`."""
        older, newer = self._version(old), self._version(new)
        before = {t.obligation_id: t for t in older.obligations}
        after = {t.obligation_id: t for t in newer.obligations}
        return VersionDiff(
            tuple(oid for oid in after if oid not in before),
            tuple(oid for oid in before if oid not in after),
            tuple(
                oid
                for oid in after
                if oid in before
                and (after[oid] != before[oid] or newer.payers_of(oid) != older.payers_of(oid))
            ),
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

    @property
    def is_approved(self) -> bool:
        """A version of this contract is approved and in effect (none has ended it)."""
        return self._current() is not None

    def _current(self) -> ContractVersion | None:
        approved = [v for v in self.versions if v.state is VersionState.APPROVED]
        return approved[-1] if approved else None

    def _version(self, number: int) -> ContractVersion:
        if not 1 <= number <= len(self.versions):
            raise DomainError(f"contract {self.contract_id} has no version {number}")
        return self.versions[number - 1]
