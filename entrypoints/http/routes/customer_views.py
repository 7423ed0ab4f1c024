"""What the customer routes answer: a customer with its master data as a caller may see it,
one row of the customer list, and one version of a customer record."""

from __future__ import annotations

import msgspec

from application.customer_master import PostalAddress
from application.ports import CustomerRecord
from application.queries.customers import CustomerView
from application.queries.customers import MasterDataException as CustomerException
from domain.tax import TaxProfile
from entrypoints.http.routes.common import out_of, published
from entrypoints.http.security import Principal


class TaxCategoryOut(msgspec.Struct):
    category: str
    tax_code: str
    #: Non-empty for an exempt category: billed at rate 0 with this reason on the tax line.
    exemption_reason: str


class TaxProfileOut(msgspec.Struct):
    tax_code: str
    reverse_charge: bool
    legal_note: str
    #: Codes per tax category where they differ from `tax_code` (ADR 0030).
    categories: list[TaxCategoryOut]


def profile_out(profile: TaxProfile) -> TaxProfileOut:
    return TaxProfileOut(
        profile.tax_code,
        profile.reverse_charge,
        profile.note,
        [TaxCategoryOut(c.category, c.tax_code, c.exemption_reason) for c in profile.categories],
    )


class PostalAddressOut(msgspec.Struct):
    lines: list[str]
    city: str
    postal_code: str
    country: str


class CustomerRecordOut(msgspec.Struct):
    """One version of the customer record (version 0: read from the ERP or the seed file)."""

    legal_entity_id: str
    version: int
    legal_name: str
    currency: str | None
    tax_code: str | None
    reverse_charge: bool
    legal_note: str
    categories: list[TaxCategoryOut]
    #: The one-line form documents print.
    billing_address_text: str | None
    billing_address: PostalAddressOut | None
    vat_id: str | None
    payment_terms_days: int | None


def address_out(address: PostalAddress) -> PostalAddressOut:
    """A structured postal address as the answers show it (a customer's, a legal entity's)."""
    return out_of(PostalAddressOut, address, lines=list(address.lines))


def record_out(record: CustomerRecord) -> CustomerRecordOut:
    address = record.address
    return out_of(
        CustomerRecordOut,
        record,
        legal_name=record.name,
        categories=[
            TaxCategoryOut(x.category, x.tax_code, x.exemption_reason)
            for x in record.tax_categories
        ],
        billing_address_text=record.billing_address,
        billing_address=None if address is None else address_out(address),
    )


class LegalEntityStatus(msgspec.Struct):
    """One of our legal entities the customer deals with, and its tax profile, if any."""

    legal_entity_id: str
    #: "present" or "missing" (a setup with this legal entity blocks until it is present).
    tax_profile_status: str
    tax_profile: TaxProfileOut | None
    #: The current version of the customer record for this legal entity (ADR 0035): the one
    #: the ERP pushed, else the ERP master's answer (version 0); None when there is none.
    customer_record: CustomerRecordOut | None = None
    #: What keeps a setup with this legal entity from going on: exactly what setup checks.
    master_data_gaps: list[str] = msgspec.field(default_factory=list)


class CustomerEngagement(msgspec.Struct):
    engagement_id: str
    contract_id: str
    state: str


class MasterDataException(
    published(
        CustomerException, "exception_id", "subject", "reason_code", "detail", "state", "raised_at"
    )
):
    """An open master-data exception blocking one of the customer's engagements."""


class CustomerOut(msgspec.Struct, omit_defaults=True):
    customer_id: str
    master_data_complete: bool
    legal_entities: list[LegalEntityStatus]
    contracts: list[str]
    engagements: list[CustomerEngagement]
    #: Absent for client viewers: the exception queue is internal.
    open_master_data_exceptions: list[MasterDataException] | msgspec.UnsetType = msgspec.UNSET


class CustomerSummary(msgspec.Struct):
    customer_id: str
    legal_entities: list[str]
    contracts: int
    engagements: int
    master_data_complete: bool


def exception_out(x: CustomerException) -> MasterDataException:
    return MasterDataException(
        x.exception_id, x.subject, x.reason_code, x.detail, x.state, x.raised_at
    )


def customer_out(customer: CustomerView, principal: Principal) -> CustomerOut:
    entities = []
    for entity in customer.legal_entities:
        profile = customer.profiles.get(entity)
        record = customer.records.get(entity)
        entities.append(
            LegalEntityStatus(
                legal_entity_id=entity,
                tax_profile_status="missing" if profile is None else "present",
                tax_profile=None if profile is None else profile_out(profile),
                customer_record=None if record is None else record_out(record),
                master_data_gaps=customer.gaps.get(entity, []),
            )
        )
    out = CustomerOut(
        customer_id=customer.customer_id,
        master_data_complete=not customer.missing,
        legal_entities=entities,
        contracts=[c.contract_id for c in customer.contracts],
        engagements=[
            CustomerEngagement(e.engagement_id, e.contract_id, e.state)
            for e in customer.engagements
        ],
    )
    if not principal.scoped:
        out.open_master_data_exceptions = [
            exception_out(x) for x in customer.open_master_data_exceptions
        ]
    return out


def customer_summary(customer: CustomerView) -> CustomerSummary:
    return CustomerSummary(
        customer_id=customer.customer_id,
        legal_entities=customer.legal_entities,
        contracts=len(customer.contracts),
        engagements=len(customer.engagements),
        master_data_complete=not customer.missing,
    )
