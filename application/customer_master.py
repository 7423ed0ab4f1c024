"""The customer master as the ERP pushes it (ADR 0035): the record's rules, and the one check
of whether a customer's master data lets a setup go on.

The ERP owns the record; Throughline keeps every version it was sent and reads the current one.
Setup and `GET /customers/{id}` ask the same question through `setup_gaps`, so the customer view
never says "complete" while a setup would block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from domain.errors import DomainError
from domain.ids import CustomerId, LegalEntityId
from domain.master_data import (
    MAX_PAYMENT_TERMS_DAYS,
    MasterDataFacts,
    payment_terms_acceptable,
    vat_id_shaped,
)
from domain.master_data import setup_gaps as domain_setup_gaps
from domain.money import Currency

if TYPE_CHECKING:
    from application.ports import CustomerMaster, CustomerRecord
    from application.unit_of_work import UnitOfWork
    from domain.tax import TaxProfile

#: Payment terms the record may carry, in days after the invoice date.

#: ISO 3166-1 alpha-2: the officially assigned country codes.
ISO_3166_ALPHA_2 = frozenset(
    {
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    }
)


@attrs.frozen
class PostalAddress:
    """A structured billing address: street lines, city, postal code and ISO country."""

    lines: tuple[str, ...]
    city: str
    postal_code: str
    country: str

    def one_line(self) -> str:
        """The address as one line of text, the way documents print it."""
        return ", ".join([*self.lines, f"{self.postal_code} {self.city}".strip(), self.country])

    def problems(self, field: str) -> list[tuple[str, str]]:
        """An address has at least one non-empty line, a city and an ISO 3166-1 alpha-2 country;
        (field/part, problem) for each of these it lacks, under the record's `field`."""
        problems: list[tuple[str, str]] = []
        if not self.lines or not all(line.strip() for line in self.lines):
            problems.append((f"{field}/lines", "at least one non-empty line"))
        if not self.city.strip():
            problems.append((f"{field}/city", "the city is empty"))
        if self.country not in ISO_3166_ALPHA_2:
            problems.append(
                (f"{field}/country", f"{self.country!r} is not an ISO 3166-1 alpha-2 country code")
            )
        return problems


def record_problems(record: CustomerRecord) -> list[tuple[str, str]]:
    """(field, problem) for every rule a pushed record breaks; empty when it may be stored.

    A pushed record is a full record: legal name, currency (active ISO 4217), tax code,
    billing address (at least one line, a city, an ISO 3166-1 alpha-2 country), payment terms
    from 0 to 365 days, and a VAT id shaped like one when it is given."""
    problems: list[tuple[str, str]] = []
    if not record.name.strip():
        problems.append(("legal_name", "the legal name is empty"))
    if record.currency is None:
        problems.append(("currency", "the currency is missing"))
    else:
        try:
            Currency.of(record.currency)
        except DomainError as error:
            problems.append(("currency", str(error)))
    if not record.tax_code:
        problems.append(("tax_profile/tax_code", "the tax code is missing"))
    address = record.address
    if address is None:
        problems.append(("billing_address", "the billing address is missing"))
    else:
        problems += address.problems("billing_address")
    terms = record.payment_terms_days
    if not payment_terms_acceptable(terms):
        problems.append(
            ("payment_terms_days", f"payment terms are 0 to {MAX_PAYMENT_TERMS_DAYS} days")
        )
    if not vat_id_shaped(record.vat_id):
        problems.append(("vat_id", "a VAT id starts with its two-letter country prefix"))
    return problems


def same_content(a: CustomerRecord, b: CustomerRecord) -> bool:
    """Two pushes say the same thing when they differ at most in their version number."""
    return attrs.evolve(a, version=0) == attrs.evolve(b, version=0)


def setup_gaps(
    record: CustomerRecord | None, pushed: TaxProfile | None, currency: str | None
) -> list[str]:
    """What keeps a setup with this customer and legal entity from going on: no record, a
    missing field (a pushed tax profile stands in for a record without a tax code), or a
    currency other than the contract's. Empty when the setup may go on."""
    if record is None:
        facts = MasterDataFacts.without_record(tax_profile_pushed=pushed is not None)
    else:
        gaps = tuple(record.missing_fields())
        facts = MasterDataFacts(gaps, record.currency, tax_profile_pushed=pushed is not None)
    return list(domain_setup_gaps(facts, currency))


def current_record(
    uow: UnitOfWork, master: CustomerMaster, customer_id: str, legal_entity_id: str
) -> CustomerRecord | None:
    """The record setup reads: the current pushed version in our store, else what the ERP
    master port answers (it may raise `DownstreamUnavailableError`)."""
    stored = uow.master_data.customer_record(customer_id, legal_entity_id)
    if stored is not None:
        return stored
    return master.lookup(CustomerId(customer_id), LegalEntityId(legal_entity_id))
