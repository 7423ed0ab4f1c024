"""The rules of a pushed customer record (ADR 0035): a known ISO 3166-1 country, an active
ISO 4217 currency, payment terms from 0 to 365 days, a VAT id with its country prefix; two
pushes that differ only in their version say the same; and what keeps a setup from going on."""

from __future__ import annotations

import attrs
import pytest

from application.customer_master import (
    ISO_3166_ALPHA_2,
    PostalAddress,
    record_problems,
    same_content,
    setup_gaps,
)
from application.ports import CustomerRecord
from domain.ids import CustomerId, LegalEntityId
from domain.tax import TaxProfile

ADDRESS = PostalAddress(("4 Market Street",), "Leeds", "LS1 6DT", "GB")


def record(**changes: object) -> CustomerRecord:
    full = CustomerRecord(
        CustomerId("initech"),
        LegalEntityId("tl-uk"),
        "Initech Ltd",
        "GBP",
        "VAT20",
        False,
        ADDRESS.one_line(),
        address=ADDRESS,
        vat_id="GB123456789",
        payment_terms_days=30,
    )
    return attrs.evolve(full, **changes)


def fields(found: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in found]


def test_a_full_record_breaks_no_rule() -> None:
    assert record_problems(record()) == []


@pytest.mark.parametrize("country", ["UK", "XX", "gb", "GBR", ""])
def test_a_country_that_is_not_an_assigned_iso_alpha_2_code_is_refused(country: str) -> None:
    address = attrs.evolve(ADDRESS, country=country)
    assert fields(record_problems(record(address=address))) == ["billing_address/country"]


def test_the_country_list_holds_every_assigned_code_once() -> None:
    assert len(ISO_3166_ALPHA_2) == 249
    assert {"GB", "FR", "DE", "US", "JP", "BH"} <= ISO_3166_ALPHA_2
    assert all(len(code) == 2 and code.isupper() for code in ISO_3166_ALPHA_2)


@pytest.mark.parametrize("currency", ["ABC", "gbp", None])
def test_a_currency_that_is_not_active_iso_4217_is_refused(currency: str | None) -> None:
    assert fields(record_problems(record(currency=currency))) == ["currency"]


@pytest.mark.parametrize("days", [-1, 366, None])
def test_payment_terms_run_from_0_to_365_days(days: int | None) -> None:
    assert fields(record_problems(record(payment_terms_days=days))) == ["payment_terms_days"]


@pytest.mark.parametrize("days", [0, 365])
def test_payment_terms_at_either_end_are_kept(days: int) -> None:
    assert record_problems(record(payment_terms_days=days)) == []


def test_a_vat_id_needs_its_country_prefix_and_may_be_absent() -> None:
    assert fields(record_problems(record(vat_id="123456789"))) == ["vat_id"]
    assert record_problems(record(vat_id=None)) == []


def test_every_missing_part_of_the_address_is_named() -> None:
    empty = PostalAddress(("",), " ", "", "ZZ")
    assert fields(record_problems(record(address=empty, name=" ", tax_code=None))) == [
        "legal_name",
        "tax_profile/tax_code",
        "billing_address/lines",
        "billing_address/city",
        "billing_address/country",
    ]


def test_two_pushes_that_differ_only_in_their_version_say_the_same() -> None:
    assert same_content(record(version=1), record(version=3))
    assert not same_content(record(), record(payment_terms_days=45))


def test_the_address_prints_on_one_line() -> None:
    two_lines = PostalAddress(("4 Market Street", "Floor 2"), "Leeds", "LS1 6DT", "GB")
    assert two_lines.one_line() == "4 Market Street, Floor 2, LS1 6DT Leeds, GB"


def test_setup_needs_a_record_and_its_currency_must_be_the_contracts() -> None:
    profile = TaxProfile(CustomerId("initech"), LegalEntityId("tl-uk"), "VAT20")
    assert setup_gaps(None, profile, "GBP") == ["customer"]
    assert setup_gaps(record(), None, "GBP") == []
    assert setup_gaps(record(), None, "EUR") == ["currency (GBP in the ERP, EUR signed)"]
    untaxed = record(tax_code=None)
    assert setup_gaps(untaxed, None, "GBP") == ["tax_profile"]
    assert setup_gaps(untaxed, profile, "GBP") == []  # a pushed profile stands in


def test_a_pushed_record_carries_its_tax_profile() -> None:
    profile = record(reverse_charge=True, legal_note="Reverse charge").tax_profile()
    assert profile == TaxProfile(
        CustomerId("initech"), LegalEntityId("tl-uk"), "VAT20", True, "Reverse charge"
    )
    assert record(tax_code=None).tax_profile() is None
