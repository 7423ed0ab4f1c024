"""Replacing the tax-rate table: rates may change and codes may be added, but a code a tax
profile bills under keeps a rate from the first day it had one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.ids import CustomerId, LegalEntityId
from domain.tax import (
    CategoryCode,
    TaxCodeInUseError,
    TaxProfile,
    TaxRate,
    TaxRateTable,
    check_replacement,
)

ACME = TaxProfile(CustomerId("acme"), LegalEntityId("HR-UK"), "VAT20")
OLD = TaxRateTable(
    (
        TaxRate("VAT20", date(2014, 1, 1), Decimal("0.20")),
        TaxRate("ZERO", date(2014, 1, 1), Decimal("0")),
    )
)


def table(*rows: tuple[str, date, str]) -> TaxRateTable:
    return TaxRateTable(tuple(TaxRate(code, day, Decimal(rate)) for code, day, rate in rows))


def test_a_new_rate_from_a_later_day_with_the_earlier_rows_kept_is_taken() -> None:
    new = table(
        ("VAT20", date(2014, 1, 1), "0.20"),
        ("VAT20", date(2026, 12, 1), "0.21"),
    )

    check_replacement(OLD, new, [ACME])


def test_a_table_that_drops_a_code_a_profile_bills_under_is_refused() -> None:
    with pytest.raises(TaxCodeInUseError, match="tax code 'VAT20' is billed to customer acme"):
        check_replacement(OLD, table(("ZERO", date(2014, 1, 1), "0")), [ACME])


def test_a_table_that_sends_only_the_new_rate_is_refused_and_names_the_day_to_keep() -> None:
    with pytest.raises(TaxCodeInUseError, match="keep a rate for it from 2014-01-01"):
        check_replacement(OLD, table(("VAT20", date(2026, 12, 1), "0.21")), [ACME])


def test_a_code_no_profile_bills_under_may_go() -> None:
    check_replacement(OLD, table(("VAT20", date(2014, 1, 1), "0.20")), [ACME])


def test_a_past_rate_may_be_corrected() -> None:
    check_replacement(OLD, table(("VAT20", date(2014, 1, 1), "0.19")), [ACME])


def test_a_category_code_counts_but_an_exempt_one_and_a_reverse_charged_payer_do_not() -> None:
    mapped = TaxProfile(
        CustomerId("acme"),
        LegalEntityId("HR-UK"),
        "VAT20",
        categories=(CategoryCode("expenses", "ZERO"),),
    )
    exempt = TaxProfile(
        CustomerId("acme"),
        LegalEntityId("HR-UK"),
        "VAT20",
        categories=(CategoryCode("expenses", "ZERO", "exempt supply"),),
    )
    reverse = TaxProfile(CustomerId("kestrel"), LegalEntityId("HR-FR"), "ZERO", reverse_charge=True)
    only_vat = table(("VAT20", date(2014, 1, 1), "0.20"))

    with pytest.raises(TaxCodeInUseError, match="tax code 'ZERO'"):
        check_replacement(OLD, only_vat, [mapped])
    check_replacement(OLD, only_vat, [exempt, reverse])


def test_a_code_the_old_table_never_rated_does_not_hold_the_new_one_back() -> None:
    unrated = TaxProfile(CustomerId("acme"), LegalEntityId("HR-UK"), "VAT-NEW")

    check_replacement(OLD, table(("VAT20", date(2014, 1, 1), "0.20")), [unrated])
