"""Customers and the master data their setup needs: the tax profile per legal entity (ERP
master data, pushed to us), the effective-dated tax-rate table, and what blocks a setup.

The ERP owns the customer record and pushes it (`PUT /customers/{id}`, ADR 0035); a customer
is known from its contracts, its engagements, the tax profiles and the records the ERP sent. A
customer's master data is complete when setup would find nothing missing for any legal entity
it contracts with: the very check setup makes (`application.customer_master.setup_gaps`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.queries.paging import PageRequest
from domain.errors import DomainError
from domain.ids import CustomerId, LegalEntityId
from domain.tax import CategoryCode, TaxProfile, TaxRate, TaxRateTable
from entrypoints.http.problems import TAX_CATEGORY_PATTERN, TAX_CODE_PATTERN, FieldError, Problem
from entrypoints.http.routes.common import (
    ID_PATTERN,
    RULED_WRITE_PROBLEMS,
    WRITE_PROBLEMS,
    DecimalString,
    Id,
    IdempotencyKey,
    or_not_found,
    refuse_fields,
)
from entrypoints.http.routes.customer_views import (
    CustomerOut,
    CustomerSummary,
    customer_out,
    customer_summary,
)
from entrypoints.http.routes.customer_views import PostalAddressOut as PostalAddressOut
from entrypoints.http.routes.declare import (
    RouteFamily,
    body_example,
    body_examples,
    optional_query,
    path_param,
    respond_after,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import (
    finance_of,
    principal_of,
    services_of,
    viewer_of,
)

CustomerPath = Annotated[
    str,
    path_param(
        "The customer id (the CRM's and ERP's shared key).",
        "a customer",
        "acme",
        pattern=ID_PATTERN,
    ),
]
TaxCode = Annotated[
    str,
    msgspec.Meta(
        pattern=TAX_CODE_PATTERN,
        description="The ERP's tax code, e.g. VAT20.",
        examples=["VAT20"],
    ),
]

TaxCategory = Annotated[
    str,
    msgspec.Meta(
        pattern=TAX_CATEGORY_PATTERN,
        description="`services` (time, fees, milestones, retainers, recurring fees), "
        "`expenses`, or `expenses:<expense category>` for expenses of one category.",
        examples=["expenses:training"],
    ),
]

#: Tax-code rows in one request, at most (the table is small; this caps the request).
MAX_TAX_RATES = 1_000
#: Tax categories one profile may map (services, expenses and expense categories).
MAX_TAX_CATEGORIES = 50


def _read_customer(request: Request[Any, Any, Any], customer_id: str) -> CustomerOut:
    """The customer, or 404 when nothing is known of it or it is another client's."""
    customer = finance_of(request).customers.customer(customer_id, viewer_of(request))
    return customer_out(or_not_found(customer, "customer", customer_id), principal_of(request))


_CUSTOMERS = RouteFamily("customers", "customers:read")


@_CUSTOMERS.get(
    "/customers",
    "List the customers known from contracts, engagements and master data",
    description=(
        "A client viewer sees its own customer only. `master_data_complete` is false while a "
        "setup with a legal entity the customer contracts with would block for missing master "
        "data (no customer record, no tax profile, no currency or billing address, or a "
        "currency other than the contract's): the same check setup makes."
    ),
)
@paged(CustomerSummary, customer_summary)
def list_customers(
    request: Request[Any, Any, Any],
    page: PageRequest,
    incomplete: Annotated[
        bool | None,
        optional_query(
            "incomplete",
            "what blocks setups",
            True,
            description="Only customers whose master data is incomplete.",
        ),
    ] = None,
) -> Rows:
    customers = finance_of(request).customers
    return customers.page(bool(incomplete), viewer_of(request), page)


@_CUSTOMERS.get(
    "/customers/{customer_id:str}",
    (
        "One customer: tax profile per legal entity (present or missing), contracts, "
        "engagements and the open master-data exceptions blocking their setup"
    ),
    "not-found",
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


@_CUSTOMERS.post(
    "/customers/{customer_id:str}/master-data",
    "Receive the ERP's tax profile of a customer for one legal entity",
    *WRITE_PROBLEMS,
    permission="customers:write",
    description=(
        "The ERP owns the customer master; this is how it tells Throughline (or how finance "
        "relays it). A setup blocked for a missing tax profile goes on with "
        "`POST /engagements/{engagement_id}/setup` once the profile is here."
    ),
)
def update_master_data(
    request: Request[Any, Any, Any],
    customer_id: CustomerPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        MasterDataBody,
        body_examples(
            {
                "UK VAT at the standard rate": {"legal_entity_id": "tl-uk", "tax_code": "VAT20"},
                "a reverse-charged cross-border customer": {
                    "legal_entity_id": "tl-fr",
                    "tax_code": "EU-RC",
                    "reverse_charge": True,
                    "legal_note": "Autoliquidation - article 283-2 du CGI",
                },
                "time at the standard rate, expenses zero-rated, training exempt": {
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
            }
        ),
    ],
) -> Response[CustomerOut]:
    profile = _pushed_profile(customer_id, data)

    return respond_after(
        request,
        data,
        c.UpdateCustomerMaster(profile),
        lambda _: _read_customer(request, customer_id),
    )


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
    refuse_fields(errors)
    return TaxRateTable(tuple(rates))


@_CUSTOMERS.get("/tax-rates", "The effective-dated tax-rate table", permission="rates:read")
def get_tax_rates(
    request: Request[Any, Any, Any],
    tax_code: Annotated[
        str | None,
        optional_query(
            "tax_code",
            "UK standard-rate VAT",
            "VAT20",
            max_length=40,
            description="Only the rates of this tax code.",
        ),
    ] = None,
) -> TaxRatesOut:
    return _rates_out(finance_of(request).customers.tax_rates(tax_code))


@_CUSTOMERS.post(
    "/tax-rates",
    "Replace the tax-rate table (finance)",
    *RULED_WRITE_PROBLEMS,
    permission="rates:write",
    description=(
        "Send the whole table: every tax code with each rate and the date it applies from. "
        'Rates are fractions ("0.20" is 20 %). Invoices already issued keep their tax. A code a '
        "customer's tax profile bills under keeps a rate from the first day it had one (422 "
        "otherwise, and the table stands)."
    ),
)
def set_tax_rates(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[
        TaxRatesBody,
        body_example(
            "UK VAT with a change of rate, and zero-rated supplies",
            {
                "rates": [
                    {"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "0.20"},
                    {"tax_code": "VAT20", "effective_from": "2026-07-01", "rate": "0.21"},
                    {"tax_code": "ZERO", "effective_from": "2020-01-01", "rate": "0"},
                ]
            },
        ),
    ],
) -> Response[TaxRatesOut]:
    services = services_of(request)
    table = _rate_table(data, services.limits.max_batch_items)

    return respond_after(request, data, c.SetTaxRates(table), lambda _: _rates_out(table))


ROUTES = [list_customers, get_customer, update_master_data, get_tax_rates, set_tax_rates]
