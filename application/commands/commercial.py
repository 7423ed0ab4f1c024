"""Commands of the commercial setup: contracts and their versions, rate cards, engagements,
and the master data they need."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from application.commands.base import Returning
from application.legal_entities import LegalEntityRecord
from application.ports import CustomerRecord
from application.queries.engagements import EngagementView
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    LegalEntityId,
    RateCardId,
    ResourceId,
    Role,
)
from domain.ratecard import RateCardVersion
from domain.split import ObligationPayers
from domain.tax import TaxProfile, TaxRateTable


@attrs.frozen
class ProposeEngagement(Returning[None]):
    """CRM closed-won: a deal becomes a proposed engagement."""

    engagement_id: EngagementId
    customer_id: CustomerId
    contract_id: ContractId


@attrs.frozen
class RegisterContract(Returning[None]):
    """CLM: the contract (MSA) the versions belong to."""

    contract_id: ContractId
    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    currency: str
    name: str


@attrs.frozen
class DraftContractVersion(Returning[int]):
    """CLM: a SOW or an amendment, as a draft."""

    contract_id: ContractId
    effective_from: date
    obligations: tuple[Any, ...]
    label: str = ""
    #: Obligations billed to several payers (split billing, ADR 0029).
    payers: tuple[ObligationPayers, ...] = ()


@attrs.frozen
class ApproveContractVersion(Returning[None]):
    """CLM: a version is approved; the first approval sets the engagement up."""

    contract_id: ContractId
    version: int


@attrs.frozen
class CreateRateCard(Returning[None]):
    rate_card_id: RateCardId
    name: str
    currency: str


@attrs.frozen
class PublishRateCardVersion(Returning[None]):
    """Publish a version directly, without a checker: for data loads and tests only."""

    rate_card_id: RateCardId
    version: RateCardVersion


@attrs.frozen
class ProposeRateCardVersion(Returning[None]):
    """The maker's half of a rate-card change: the version waits for another's approval."""

    rate_card_id: RateCardId
    version: RateCardVersion


@attrs.frozen
class ProposeRateCardAmendment(Returning[None]):
    """The maker's half of a rate-card change written as changes: the next version is the one
    in force on `effective_from` with these rates set and these removed; it waits for another's
    approval like any proposal."""

    rate_card_id: RateCardId
    effective_from: date
    role_rates: dict[Role, Decimal] = attrs.field(factory=dict)
    resource_overrides: dict[ResourceId, Decimal] = attrs.field(factory=dict)
    removed_roles: tuple[Role, ...] = ()
    removed_overrides: tuple[ResourceId, ...] = ()


@attrs.frozen
class ApproveRateCardVersion(Returning[None]):
    """The checker's half: publish a proposed version (never by whoever proposed it)."""

    rate_card_id: RateCardId
    version_number: int


@attrs.frozen
class SetUpEngagement(Returning[bool]):
    """Provision the engagement in the downstream systems; replayable without duplicates."""

    engagement_id: EngagementId


@attrs.frozen
class SuspendEngagement(Returning[EngagementView]):
    """Pause an active engagement (no time accepted) for a stated reason."""

    engagement_id: EngagementId
    reason: str


@attrs.frozen
class ResumeEngagement(Returning[EngagementView]):
    engagement_id: EngagementId


@attrs.frozen
class StartClosingEngagement(Returning[EngagementView]):
    """No new time from the close date on; final billing and revenue follow."""

    engagement_id: EngagementId
    close_date: date


@attrs.frozen
class CloseEngagement(Returning[EngagementView]):
    engagement_id: EngagementId


@attrs.frozen
class CancelEngagement(Returning[EngagementView]):
    """Drop a deal whose setup has not started, for a stated reason."""

    engagement_id: EngagementId
    reason: str


@attrs.frozen
class UpdateCustomerMaster(Returning[None]):
    """ERP: the customer's tax profile (and the rate table) changed."""

    profile: TaxProfile


@attrs.frozen
class PushCustomerRecord(Returning[CustomerRecord]):
    """ERP: the full customer record for one of our legal entities (ADR 0035); the version
    is the store's to give."""

    record: CustomerRecord


@attrs.frozen
class SeedCustomerRecords(Returning[int]):
    """Start-up: the customer master file of a demo or a first deployment, kept as version 1
    of each record the store does not hold yet (ADR 0035)."""

    records: tuple[CustomerRecord, ...]


@attrs.frozen
class PutLegalEntity(Returning[LegalEntityRecord]):
    """Finance: the whole master data of one of our legal entities (ADR 0037); the version is
    the store's to give."""

    record: LegalEntityRecord


@attrs.frozen
class SeedLegalEntities(Returning[int]):
    """Start-up: the legal entities of a demo or a first deployment, kept as version 1 of
    each one the store does not hold yet (ADR 0037)."""

    records: tuple[LegalEntityRecord, ...]


@attrs.frozen
class SetTaxRates(Returning[None]):
    rates: TaxRateTable
