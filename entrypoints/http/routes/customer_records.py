"""The customer master, inbound (ADR 0035): the ERP puts the full customer record for one of
our legal entities; each put that says something new is kept as the next version.

`PUT /customers/{customer_id}` replaces the current record as a whole, so it is a PUT: the same
record put again is no new version. Like every change it carries an `Idempotency-Key` and runs
through the same exactly-once machinery; a retry with the key answers what the first one did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Request

from application import commands as c
from application.customer_master import MAX_PAYMENT_TERMS_DAYS, PostalAddress, record_problems
from application.ports import CustomerRecord
from application.queries.projection import projected
from domain.ids import CustomerId, LegalEntityId
from domain.tax import CategoryCode
from entrypoints.http.problems import COUNTRY_PATTERN, CURRENCY_PATTERN, VAT_ID_PATTERN, FieldError
from entrypoints.http.routes.common import WRITE_PROBLEMS, Id, or_not_found, refuse_fields
from entrypoints.http.routes.customer_views import CustomerRecordOut, record_out
from entrypoints.http.routes.customers import (
    MAX_TAX_CATEGORIES,
    CustomerPath,
    TaxCategoryIn,
    TaxCode,
)
from entrypoints.http.routes.declare import RouteFamily, Subject, answering, body_examples
from entrypoints.http.runtime import finance_of, viewer_of

if TYPE_CHECKING:
    from entrypoints.http.routes.legal_entities import AddressIn

#: Street lines one billing address may have.
MAX_ADDRESS_LINES = 5

AddressLine = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PostalAddressIn(msgspec.Struct, forbid_unknown_fields=True):
    """The billing address, structured."""

    lines: Annotated[list[AddressLine], msgspec.Meta(min_length=1, max_length=MAX_ADDRESS_LINES)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    #: ISO 3166-1 alpha-2, e.g. GB, FR, DE.
    country: Annotated[str, msgspec.Meta(pattern=COUNTRY_PATTERN)]
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] = ""


def address_of(body: PostalAddressIn | AddressIn) -> PostalAddress:
    """The postal address a request body states (a customer's, a legal entity's)."""
    return projected(PostalAddress, body, lines=tuple(body.lines))


class TaxProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    tax_code: TaxCode
    reverse_charge: bool = False
    legal_note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    #: Tax codes per tax category where they differ from `tax_code` (ADR 0030).
    categories: Annotated[list[TaxCategoryIn], msgspec.Meta(max_length=MAX_TAX_CATEGORIES)] = (
        msgspec.field(default_factory=list)
    )


class CustomerRecordBody(msgspec.Struct, forbid_unknown_fields=True):
    """The ERP's full customer record for one of our legal entities."""

    legal_entity_id: Id
    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    #: ISO 4217, the currency the customer is invoiced in.
    currency: Annotated[str, msgspec.Meta(pattern=CURRENCY_PATTERN)]
    tax_profile: TaxProfileIn
    billing_address: PostalAddressIn
    payment_terms_days: Annotated[int, msgspec.Meta(ge=0, le=MAX_PAYMENT_TERMS_DAYS)]
    vat_id: Annotated[str, msgspec.Meta(pattern=VAT_ID_PATTERN)] | None = None


class CustomerRecordsOut(msgspec.Struct):
    customer_id: str
    #: Every version, by legal entity then version, oldest first.
    versions: list[CustomerRecordOut]


def _pushed_record(customer_id: str, data: CustomerRecordBody) -> CustomerRecord:
    """The record the body describes; every broken rule refused at its field, nothing stored."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, row in enumerate(data.tax_profile.categories):
        if row.category in seen:
            errors.append(FieldError(f"/tax_profile/categories/{index}/category", "mapped twice"))
        seen.add(row.category)
    profile = data.tax_profile
    address = address_of(data.billing_address)
    record = CustomerRecord(
        CustomerId(customer_id),
        LegalEntityId(data.legal_entity_id),
        data.legal_name,
        data.currency,
        profile.tax_code,
        profile.reverse_charge,
        address.one_line(),
        tuple(CategoryCode(r.category, r.tax_code, r.exemption_reason) for r in profile.categories)
        if not errors
        else (),
        address=address,
        vat_id=data.vat_id,
        payment_terms_days=data.payment_terms_days,
        legal_note=profile.legal_note,
    )
    errors += [FieldError(f"/{field}", detail) for field, detail in record_problems(record)]
    refuse_fields(errors)
    return record


_EXAMPLE = {
    "legal_entity_id": "tl-uk",
    "legal_name": "Initech Ltd",
    "currency": "GBP",
    "tax_profile": {"tax_code": "VAT20"},
    "billing_address": {
        "lines": ["4 Market Street"],
        "city": "Leeds",
        "postal_code": "LS1 6DT",
        "country": "GB",
    },
    "vat_id": "GB123456789",
    "payment_terms_days": 30,
}


_CUSTOMERS = RouteFamily("customers", "customers:master")
_RECORD = Subject("customer_id", CustomerPath, CustomerRecordOut, answering(record_out))


@_CUSTOMERS.put(
    "/customers/{customer_id:str}",
    "Receive the ERP's full customer record for one legal entity (a new version)",
    *WRITE_PROBLEMS,
    description=(
        "The ERP owns the customer master (ADR 0035): only the integration role may put it. "
        "The body is the whole record; a record that differs from the current one is kept as "
        "the next version (the previous versions stay), the same record again is no new "
        "version. Setup reads the current version: a setup blocked for missing master data "
        "goes on by replaying its exception (or `POST /engagements/{engagement_id}/setup`)."
    ),
)
@_RECORD.command(
    body_examples(
        {
            "a UK customer on 30 days": _EXAMPLE,
            "a reverse-charged French customer billed from the UK": {
                **_EXAMPLE,
                "legal_name": "Globex SARL",
                "currency": "EUR",
                "tax_profile": {"tax_code": "EU-RC", "reverse_charge": True},
                "billing_address": {
                    "lines": ["12 rue de la Paix"],
                    "city": "Paris",
                    "postal_code": "75002",
                    "country": "FR",
                },
                "vat_id": "FR40303265045",
                "payment_terms_days": 45,
            },
        }
    )
)
def put_customer_record(customer_id: str, data: CustomerRecordBody) -> object:
    return c.PushCustomerRecord(_pushed_record(customer_id, data))


@_CUSTOMERS.get(
    "/customers/{customer_id:str}/records",
    "Every version of the customer's record the ERP pushed, per legal entity",
    "not-found",
    permission="customers:read",
    description="An empty list for a customer known from its contracts but never pushed.",
)
def list_customer_records(
    request: Request[Any, Any, Any], customer_id: CustomerPath
) -> CustomerRecordsOut:
    records = finance_of(request).customers.records(customer_id, viewer_of(request))
    versions = or_not_found(records, "customer", customer_id)
    return CustomerRecordsOut(customer_id, [record_out(r) for r in versions])


ROUTES = [put_customer_record, list_customer_records]
