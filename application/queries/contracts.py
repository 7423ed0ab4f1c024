"""Contracts as the setup screens read them: the list with each contract's current version and
its engagement's state, and one contract with its versions and engagement."""

from __future__ import annotations

from typing import Protocol

import attrs

from application.queries.paging import Page, PageRequest
from application.queries.projection import projected
from domain.contract import Contract, VersionState


@attrs.frozen
class ContractSummaryView:
    contract_id: str
    customer_id: str
    legal_entity_id: str
    currency: str
    name: str
    versions: int
    #: The latest approved version, if any.
    current_version: int | None
    engagement_state: str | None

    @classmethod
    def of(cls, contract: Contract, engagement_state: str | None) -> ContractSummaryView:
        approved = [v.version for v in contract.versions if v.state is VersionState.APPROVED]
        return projected(
            cls,
            contract,
            currency=contract.currency.code,
            versions=len(contract.versions),
            current_version=approved[-1] if approved else None,
            engagement_state=engagement_state,
        )


@attrs.frozen
class ContractView:
    """One contract as it stands (its versions are immutable once approved) and the
    engagement it belongs to, once the CRM proposed one."""

    contract: Contract
    engagement_id: str | None
    engagement_state: str | None


@attrs.frozen
class ContractFilter:
    customer_id: str | None = None
    visible_to: str | None = None


def contract_key(view: ContractSummaryView) -> tuple[str]:
    """The keyset of the contract list: its id."""
    return (view.contract_id,)


class ContractQueries(Protocol):
    """The contract screens' questions, one call each."""

    def contracts(self, where: ContractFilter, page: PageRequest) -> Page[ContractSummaryView]: ...

    def contract(self, contract_id: str) -> ContractView | None: ...
