"""Customers and the master data their setup needs: the tax profile per legal entity (ERP
master data, pushed to us), the effective-dated tax-rate table, and what blocks a setup.

The ERP owns the customer record and pushes it (`PUT /customers/{id}`, ADR 0035); a customer
is known from its contracts, its engagements, the tax profiles and the records the ERP sent. A
customer's master data is complete when setup would find nothing missing for any legal entity
it contracts with: the very check setup makes (`application.customer_master.setup_gaps`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import attrs
import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter, QueryParameter

from application import commands as c
from application.context import RequestContext
from application.customer_master import current_record, setup_gaps
from application.errors import DownstreamUnavailableError
from application.ports import CustomerMaster, CustomerRecord
from application.records import ExceptionKind, ExceptionState, IntegrationException
from application.unit_of_work import UnitOfWork
from domain.contract import Contract
from domain.engagement import Engagement
from domain.errors import DomainError
from domain.ids import CustomerId, LegalEntityId
from domain.tax import CategoryCode, TaxProfile, TaxRate, TaxRateTable
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    Cursor,
    DecimalString,
    Id,
    IdempotencyKey,
    Limit,
    documented,
    permission,
)
from entrypoints.http.runtime import (
    Page,
    context_of,
    execute,
    paginate,
    principal_of,
    services_of,
)
from entrypoints.http.security import Principal

CustomerPath = Annotated[
    str,
    Parameter(
        description="The customer id (the CRM's and ERP's shared key).",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$",
        examples=[Example(summary="a customer", value="acme")],
    ),
]
TaxCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,39}$",
        description="The ERP's tax code, e.g. VAT20.",
        examples=["VAT20"],
    ),
]

TaxCategory = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(services|expenses|expenses:[^\x00-\x1f]{1,100})$",
        description="`services` (time, fees, milestones, retainers, recurring fees), "
        "`expenses`, or `expenses:<expense category>` for expenses of one category.",
        examples=["expenses:training"],
    ),
]

#: Tax-code rows in one request, at most (the table is small; this caps the request).
MAX_TAX_RATES = 1_000
#: Tax categories one profile may map (services, expenses and expense categories).
MAX_TAX_CATEGORIES = 50


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


def _profile_out(profile: TaxProfile) -> TaxProfileOut:
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


def record_out(record: CustomerRecord) -> CustomerRecordOut:
    address = record.address
    return CustomerRecordOut(
        legal_entity_id=record.legal_entity_id,
        version=record.version,
        legal_name=record.name,
        currency=record.currency,
        tax_code=record.tax_code,
        reverse_charge=record.reverse_charge,
        legal_note=record.legal_note,
        categories=[
            TaxCategoryOut(x.category, x.tax_code, x.exemption_reason)
            for x in record.tax_categories
        ],
        billing_address_text=record.billing_address,
        billing_address=None
        if address is None
        else PostalAddressOut(
            list(address.lines), address.city, address.postal_code, address.country
        ),
        vat_id=record.vat_id,
        payment_terms_days=record.payment_terms_days,
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


class MasterDataException(msgspec.Struct):
    """An open master-data exception blocking one of the customer's engagements."""

    exception_id: str
    subject: str
    reason_code: str
    detail: str
    state: str
    raised_at: datetime


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


@attrs.frozen
class _Customer:
    """What the books know of one customer."""

    customer_id: str
    contracts: tuple[Contract, ...]
    engagements: tuple[Engagement, ...]
    profiles: dict[str, TaxProfile]
    #: The record setup would read, per legal entity the customer is known at.
    records: dict[str, CustomerRecord]
    #: What setup would say is missing, per legal entity the customer contracts with.
    gaps: dict[str, list[str]]

    @property
    def legal_entities(self) -> list[str]:
        known = {c.legal_entity_id for c in self.contracts} | set(self.profiles)
        return sorted(known | set(self.records))

    @property
    def missing(self) -> list[str]:
        """Legal entities whose setup would block: the same check setup makes."""
        return sorted(entity for entity, gaps in self.gaps.items() if gaps)


def _gaps(
    uow: UnitOfWork,
    master: CustomerMaster,
    contracts: list[Contract],
    profiles: dict[str, TaxProfile],
) -> tuple[dict[str, CustomerRecord], dict[str, list[str]]]:
    """Per legal entity: the record setup reads, and what setup would find missing."""
    records: dict[str, CustomerRecord] = {}
    gaps: dict[str, list[str]] = {}
    for contract in contracts:
        entity = contract.legal_entity_id
        try:
            record = current_record(uow, master, contract.customer_id, entity)
        except DownstreamUnavailableError:
            gaps.setdefault(entity, []).append("customer (the ERP master did not answer)")
            continue
        if record is not None:
            records[entity] = record
        for gap in setup_gaps(record, profiles.get(entity), contract.currency.code):
            if gap not in gaps.setdefault(entity, []):
                gaps[entity].append(gap)
        gaps.setdefault(entity, [])
    return records, gaps


def _customers(uow: UnitOfWork, master: CustomerMaster) -> dict[str, _Customer]:
    contracts: dict[str, list[Contract]] = {}
    for contract in uow.contracts.all():
        contracts.setdefault(contract.customer_id, []).append(contract)
    engagements: dict[str, list[Engagement]] = {}
    for engagement in uow.engagements.all():
        engagements.setdefault(engagement.customer_id, []).append(engagement)
    profiles: dict[str, dict[str, TaxProfile]] = {}
    for (customer, entity), profile in uow.master_data.tax_profiles().items():
        profiles.setdefault(customer, {})[entity] = profile
    pushed: dict[str, dict[str, CustomerRecord]] = {}
    for record in uow.master_data.current_customer_records():
        pushed.setdefault(record.customer_id, {})[record.legal_entity_id] = record
    known = set(contracts) | set(engagements) | set(profiles) | set(pushed)
    customers = {}
    for customer in known:
        records, gaps = _gaps(uow, master, contracts.get(customer, []), profiles.get(customer, {}))
        customers[customer] = _Customer(
            customer,
            tuple(sorted(contracts.get(customer, []), key=lambda c: c.contract_id)),
            tuple(sorted(engagements.get(customer, []), key=lambda e: e.engagement_id)),
            profiles.get(customer, {}),
            {**pushed.get(customer, {}), **records},
            gaps,
        )
    return customers


def customer_known(uow: UnitOfWork, customer_id: str) -> bool:
    """Whether the books know the customer at all (a contract, engagement, profile or record)."""
    return (
        bool(uow.master_data.customer_records(customer_id))
        or any(key[0] == customer_id for key in uow.master_data.tax_profiles())
        or any(x.customer_id == customer_id for x in uow.contracts.all())
        or any(x.customer_id == customer_id for x in uow.engagements.all())
    )


def _open_master_data(
    exceptions: list[IntegrationException], customer: _Customer
) -> list[MasterDataException]:
    subjects = {f"engagement:{e.engagement_id}" for e in customer.engagements}
    return [
        MasterDataException(
            exception_id=x.exception_id,
            subject=x.subject,
            reason_code=x.reason_code,
            detail=x.detail,
            state=x.state.value,
            raised_at=x.created_at,
        )
        for x in sorted(exceptions, key=lambda x: x.exception_id)
        if x.kind is ExceptionKind.MASTER_DATA
        and x.state is not ExceptionState.RESOLVED
        and x.subject in subjects
    ]


def _customer_out(
    customer: _Customer, principal: Principal, exceptions: list[IntegrationException]
) -> CustomerOut:
    entities = []
    for entity in customer.legal_entities:
        profile = customer.profiles.get(entity)
        record = customer.records.get(entity)
        entities.append(
            LegalEntityStatus(
                legal_entity_id=entity,
                tax_profile_status="missing" if profile is None else "present",
                tax_profile=None if profile is None else _profile_out(profile),
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
            CustomerEngagement(e.engagement_id, e.contract_id, e.state.value)
            for e in customer.engagements
        ],
    )
    if not principal.scoped:
        out.open_master_data_exceptions = _open_master_data(exceptions, customer)
    return out


def _read_customer(request: Request[Any, Any, Any], customer_id: str) -> CustomerOut:
    """The customer, or 404 when nothing is known of it or it is another client's."""
    services = services_of(request)
    principal = principal_of(request)
    with services.reader(context_of(request)) as uow:
        customer = _customers(uow, services.bus.deps.customer_master).get(customer_id)
        exceptions = uow.exceptions.all() if customer is not None else []
    if customer is None or not principal.sees(customer_id):
        raise Problem("not-found", f"there is no customer {customer_id}")
    return _customer_out(customer, principal, exceptions)


@get(
    "/customers",
    opt=permission("customers:read"),
    tags=["customers"],
    summary="List the customers known from contracts, engagements and master data",
    description=(
        "A client viewer sees its own customer only. `master_data_complete` is false while a "
        "setup with a legal entity the customer contracts with would block for missing master "
        "data (no customer record, no tax profile, no currency or billing address, or a "
        "currency other than the contract's): the same check setup makes."
    ),
    responses=documented(),
    sync_to_thread=True,
)
def list_customers(
    request: Request[Any, Any, Any],
    limit: Limit = None,
    cursor: Cursor = None,
    incomplete: Annotated[
        bool | None,
        QueryParameter(
            name="incomplete",
            required=False,
            description="Only customers whose master data is incomplete.",
            examples=[Example(summary="what blocks setups", value=True)],
        ),
    ] = None,
) -> Page[CustomerSummary]:
    services = services_of(request)
    principal = principal_of(request)
    with services.reader(context_of(request)) as uow:
        customers = _customers(uow, services.bus.deps.customer_master)
    chosen = [
        customers[key]
        for key in sorted(customers)
        if principal.sees(key) and (not incomplete or customers[key].missing)
    ]
    page = paginate(chosen, limit, cursor, services.limits)
    return Page(
        [
            CustomerSummary(
                customer_id=x.customer_id,
                legal_entities=x.legal_entities,
                contracts=len(x.contracts),
                engagements=len(x.engagements),
                master_data_complete=not x.missing,
            )
            for x in page.items
        ],
        page.next_cursor,
    )


@get(
    "/customers/{customer_id:str}",
    opt=permission("customers:read"),
    tags=["customers"],
    summary="One customer: tax profile per legal entity (present or missing), contracts, "
    "engagements and the open master-data exceptions blocking their setup",
    responses=documented("not-found"),
    sync_to_thread=True,
)
def get_customer(request: Request[Any, Any, Any], customer_id: CustomerPath) -> CustomerOut:
    return _read_customer(request, customer_id)


class TaxCategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    """The tax code of one tax category; an exempt category names its exemption reason."""

    category: TaxCategory
    tax_code: TaxCode
    exemption_reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class MasterDataBody(msgspec.Struct, forbid_unknown_fields=True):
    """The ERP's tax profile of the customer for one of our legal entities."""

    legal_entity_id: Id
    tax_code: TaxCode
    reverse_charge: bool = False
    legal_note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    #: Tax codes per tax category where they differ from `tax_code` (ADR 0030).
    categories: Annotated[list[TaxCategoryIn], msgspec.Meta(max_length=MAX_TAX_CATEGORIES)] = (
        msgspec.field(default_factory=list)
    )


def _pushed_profile(customer_id: str, data: MasterDataBody) -> TaxProfile:
    """The profile the body describes; a category mapped twice is refused at its field."""
    seen: dict[str, int] = {}
    for index, row in enumerate(data.categories):
        if row.category in seen:
            raise Problem(
                "validation-error",
                f"the tax category {row.category!r} is mapped twice",
                errors=[FieldError(f"/categories/{index}/category", "mapped twice")],
            )
        seen[row.category] = index
    return TaxProfile(
        CustomerId(customer_id),
        LegalEntityId(data.legal_entity_id),
        data.tax_code,
        data.reverse_charge,
        data.legal_note,
        tuple(CategoryCode(r.category, r.tax_code, r.exemption_reason) for r in data.categories),
    )


@post(
    "/customers/{customer_id:str}/master-data",
    opt=permission("customers:write"),
    tags=["customers"],
    summary="Receive the ERP's tax profile of a customer for one legal entity",
    description=(
        "The ERP owns the customer master; this is how it tells Throughline (or how finance "
        "relays it). A setup blocked for a missing tax profile goes on with "
        "`POST /engagements/{engagement_id}/setup` once the profile is here."
    ),
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def update_master_data(
    request: Request[Any, Any, Any],
    customer_id: CustomerPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        MasterDataBody,
        Body(
            examples=[
                Example(
                    summary="UK VAT at the standard rate",
                    value={"legal_entity_id": "tl-uk", "tax_code": "VAT20"},
                ),
                Example(
                    summary="a reverse-charged cross-border customer",
                    value={
                        "legal_entity_id": "tl-fr",
                        "tax_code": "EU-RC",
                        "reverse_charge": True,
                        "legal_note": "Autoliquidation - article 283-2 du CGI",
                    },
                ),
                Example(
                    summary="time at the standard rate, expenses zero-rated, training exempt",
                    value={
                        "legal_entity_id": "tl-uk",
                        "tax_code": "VAT20",
                        "categories": [
                            {"category": "expenses", "tax_code": "ZERO"},
                            {
                                "category": "expenses:training",
                                "tax_code": "EXEMPT",
                                "exemption_reason": "Exempt: vocational training",
                            },
                        ],
                    },
                ),
            ]
        ),
    ],
) -> Response[CustomerOut]:
    services = services_of(request)
    profile = _pushed_profile(customer_id, data)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(c.UpdateCustomerMaster(profile), ctx)
        return 200, _read_customer(request, customer_id)

    return execute(request, data, run)


# The tax-rate table -----------------------------------------------------------------------


class TaxRateIn(msgspec.Struct, forbid_unknown_fields=True):
    tax_code: TaxCode
    effective_from: date
    #: A fraction: "0.20" for 20 %.
    rate: DecimalString


class TaxRatesBody(msgspec.Struct, forbid_unknown_fields=True):
    """The whole table: it replaces the one in force."""

    rates: Annotated[list[TaxRateIn], msgspec.Meta(min_length=1, max_length=MAX_TAX_RATES)]


class TaxRateOut(msgspec.Struct):
    tax_code: str
    effective_from: date
    rate: str


class TaxRatesOut(msgspec.Struct):
    rates: list[TaxRateOut]


def _rates_out(table: TaxRateTable) -> TaxRatesOut:
    rows = sorted(table.rates, key=lambda r: (r.tax_code, r.effective_from))
    return TaxRatesOut([TaxRateOut(r.tax_code, r.effective_from, str(r.rate)) for r in rows])


def _rate_table(body: TaxRatesBody, max_items: int) -> TaxRateTable:
    if len(body.rates) > max_items:
        raise Problem(
            "validation-error",
            f"at most {max_items} rates in one request",
            errors=[FieldError("/rates", f"{len(body.rates)} rates, at most {max_items}")],
        )
    rates, errors, seen = [], [], set()
    for index, row in enumerate(body.rates):
        key = (row.tax_code, row.effective_from)
        if key in seen:
            errors.append(
                FieldError(
                    f"/rates/{index}",
                    f"{row.tax_code} from {row.effective_from} appears twice",
                )
            )
            continue
        seen.add(key)
        try:
            rates.append(TaxRate(row.tax_code, row.effective_from, Decimal(row.rate)))
        except DomainError as error:
            errors.append(FieldError(f"/rates/{index}/rate", str(error)))
    if errors:
        raise Problem("validation-error", errors[0].detail, errors=errors)
    return TaxRateTable(tuple(rates))


@get(
    "/tax-rates",
    opt=permission("rates:read"),
    tags=["customers"],
    summary="The effective-dated tax-rate table",
    responses=documented(),
    sync_to_thread=True,
)
def get_tax_rates(
    request: Request[Any, Any, Any],
    tax_code: Annotated[
        str | None,
        QueryParameter(
            name="tax_code",
            required=False,
            max_length=40,
            description="Only the rates of this tax code.",
            examples=[Example(summary="UK standard-rate VAT", value="VAT20")],
        ),
    ] = None,
) -> TaxRatesOut:
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        table = uow.master_data.tax_rates()
    if tax_code is not None:
        table = TaxRateTable(tuple(r for r in table.rates if r.tax_code == tax_code))
    return _rates_out(table)


@post(
    "/tax-rates",
    opt=permission("rates:write"),
    tags=["customers"],
    summary="Replace the tax-rate table (finance)",
    description=(
        "Send the whole table: every tax code with each rate and the date it applies from. "
        'Rates are fractions ("0.20" is 20 %). Invoices already issued keep their tax.'
    ),
    responses=documented(*WRITE_PROBLEMS, "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def set_tax_rates(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[
        TaxRatesBody,
        Body(
            examples=[
                Example(
                    summary="UK VAT with a change of rate, and zero-rated supplies",
                    value={
                        "rates": [
                            {"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "0.20"},
                            {"tax_code": "VAT20", "effective_from": "2026-07-01", "rate": "0.21"},
                            {"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"},
                        ]
                    },
                )
            ]
        ),
    ],
) -> Response[TaxRatesOut]:
    services = services_of(request)
    table = _rate_table(data, services.limits.max_batch_items)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(c.SetTaxRates(table), ctx)
        return 200, _rates_out(table)

    return execute(request, data, run)


ROUTES = [list_customers, get_customer, update_master_data, get_tax_rates, set_tax_rates]
