"""Our legal entities' master data (ADR 0037): what the documents say about the seller.

Finance keeps it: `PUT /legal-entities/{legal_entity_id}` replaces the whole record (a PUT: the
same record again is no new version); each put that says something new is kept as the next
version and audited. Like every change it carries an `Idempotency-Key`. Staff who read the
books read it; a client viewer does not.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request

from application import commands as c
from application.legal_entities import LegalEntityRecord, PaymentAccount, entity_problems
from application.queries.projection import projected
from entrypoints.http.problems import (
    ACCOUNT_NUMBER_PATTERN,
    BIC_PATTERN,
    COUNTRY_PATTERN,
    IBAN_PATTERN,
    VAT_ID_PATTERN,
    FieldError,
    Problem,
)
from entrypoints.http.routes.common import ID_PATTERN, WRITE_PROBLEMS, answer, out_of, refuse_fields
from entrypoints.http.routes.customer_records import MAX_ADDRESS_LINES, AddressLine, address_of
from entrypoints.http.routes.customer_views import PostalAddressOut, address_out
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    answering,
    body_examples,
    path_param,
)
from entrypoints.http.runtime import ops_reads_of

LegalEntityPath = Annotated[
    str,
    path_param(
        "Our legal entity's id, as charts of accounts and contracts name it.",
        "the French company",
        "HR-FR",
        pattern=ID_PATTERN,
    ),
]

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AddressIn(msgspec.Struct, forbid_unknown_fields=True):
    """The entity's registered postal address."""

    lines: Annotated[list[AddressLine], msgspec.Meta(min_length=1, max_length=MAX_ADDRESS_LINES)]
    city: Text
    #: ISO 3166-1 alpha-2, e.g. FR, US, GB.
    country: Annotated[str, msgspec.Meta(pattern=COUNTRY_PATTERN)]
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] = ""


class PaymentAccountIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Where buyers pay: an IBAN (BIC optional) or a domestic account number, not both."""

    iban: Annotated[str, msgspec.Meta(pattern=IBAN_PATTERN)] | None = None
    account_number: Annotated[str, msgspec.Meta(pattern=ACCOUNT_NUMBER_PATTERN)] | None = None
    bic: Annotated[str, msgspec.Meta(pattern=BIC_PATTERN)] | None = None
    account_name: Text | None = None


class LegalEntityBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The whole master data of one of our legal entities."""

    legal_name: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    address: AddressIn
    vat_id: Annotated[str, msgspec.Meta(pattern=VAT_ID_PATTERN)] | None = None
    #: The company registration id (SIREN, Companies House number, EIN...).
    registration_id: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] | None = None
    #: The e-mail address the entity sends and receives documents from.
    electronic_address: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    payment_account: PaymentAccountIn | None = None


class PaymentAccountOut(msgspec.Struct):
    iban: str | None
    account_number: str | None
    bic: str | None
    account_name: str | None


class LegalEntityOut(msgspec.Struct):
    """One version of a legal entity's master data."""

    legal_entity_id: str
    version: int
    legal_name: str
    address: PostalAddressOut
    vat_id: str | None
    registration_id: str | None
    electronic_address: str | None
    payment_account: PaymentAccountOut | None


class LegalEntitiesOut(msgspec.Struct):
    #: The current version of every legal entity, by id.
    legal_entities: list[LegalEntityOut]


class LegalEntityVersionsOut(msgspec.Struct):
    legal_entity_id: str
    #: The version documents print now (the last one).
    current: LegalEntityOut
    #: Every version kept, oldest first.
    versions: list[LegalEntityOut]


def entity_out(record: LegalEntityRecord) -> LegalEntityOut:
    account = record.payment_account
    return out_of(
        LegalEntityOut,
        record,
        address=address_out(record.address),
        payment_account=None if account is None else out_of(PaymentAccountOut, account),
    )


def _record(legal_entity_id: str, data: LegalEntityBody) -> LegalEntityRecord:
    """The record the body describes; every broken rule refused at its field, nothing kept."""
    account = data.payment_account
    record = LegalEntityRecord(
        legal_entity_id,
        data.legal_name,
        address_of(data.address),
        vat_id=data.vat_id,
        registration_id=data.registration_id,
        electronic_address=data.electronic_address,
        payment_account=None if account is None else projected(PaymentAccount, account),
    )
    errors = [FieldError(f"/{field}", detail) for field, detail in entity_problems(record)]
    refuse_fields(errors)
    return record


_ACCOUNT = {
    "iban": "FR7630006000011234567890189",
    "bic": "AGRIFRPP",
    "account_name": "Halden & Rowe Conseil SAS",
}
_EXAMPLE = {
    "legal_name": "Halden & Rowe Conseil SAS",
    "address": {
        "lines": ["18 rue de la Chaussee d'Antin"],
        "city": "Paris",
        "postal_code": "75009",
        "country": "FR",
    },
    "vat_id": "FR32851234567",
    "registration_id": "851234567",
    "electronic_address": "billing.fr@haldenrowe.example",
    "payment_account": _ACCOUNT,
}


_EXAMPLE_OUT = {
    **_EXAMPLE,
    "payment_account": {**_ACCOUNT, "account_number": None},
}


_LEGAL_ENTITIES = RouteFamily("legal entities", "legal_entities:read")
_ENTITY = Subject("legal_entity_id", LegalEntityPath, LegalEntityOut, answering(entity_out))


@_LEGAL_ENTITIES.put(
    "/legal-entities/{legal_entity_id:str}",
    "Set the master data of one of our legal entities (a new version)",
    *WRITE_PROBLEMS,
    permission="legal_entities:write",
    description=(
        "Finance keeps what the documents say about the seller (ADR 0037): legal name, "
        "address, VAT id, registration id, electronic address and the account buyers pay "
        "into. The body is the whole record; one that differs from the current version is "
        "kept as the next version (the previous ones stay), the same record again is no new "
        "version. Documents rendered from now on print it; issued documents are not changed."
    ),
)
@_ENTITY.command(
    body_examples(
        {
            "a French company paid by SEPA transfer": _EXAMPLE,
            "a US company paid to a domestic account": {
                "legal_name": "Halden & Rowe Consulting Inc.",
                "address": {
                    "lines": ["100 Federal Street", "Suite 1900"],
                    "city": "Boston",
                    "postal_code": "02110",
                    "country": "US",
                },
                "registration_id": "DE-7741093",
                "payment_account": {"account_number": "000123456789", "bic": "CHASUS33"},
            },
        }
    )
)
def put_legal_entity(legal_entity_id: str, data: LegalEntityBody) -> object:
    return c.PutLegalEntity(_record(legal_entity_id, data))


@_LEGAL_ENTITIES.get(
    "/legal-entities",
    "The current master data of every legal entity",
    answers=(
        answer(
            LegalEntitiesOut,
            {"legal_entities": [{"legal_entity_id": "HR-FR", "version": 1, **_EXAMPLE_OUT}]},
        )
    ),
)
def list_legal_entities(request: Request[Any, Any, Any]) -> LegalEntitiesOut:
    records = ops_reads_of(request).legal_entities.legal_entities()
    return LegalEntitiesOut([entity_out(r) for r in records])


@_LEGAL_ENTITIES.get(
    "/legal-entities/{legal_entity_id:str}",
    "One legal entity's current master data and every version of it, oldest first",
    "not-found",
)
def get_legal_entity(
    request: Request[Any, Any, Any], legal_entity_id: LegalEntityPath
) -> LegalEntityVersionsOut:
    versions = ops_reads_of(request).legal_entities.legal_entity_versions(legal_entity_id)
    if not versions:
        raise Problem("not-found", f"there is no legal entity {legal_entity_id}")
    shown = [entity_out(r) for r in versions]
    return LegalEntityVersionsOut(legal_entity_id, shown[-1], shown)


ROUTES = [put_legal_entity, list_legal_entities, get_legal_entity]
