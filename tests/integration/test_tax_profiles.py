"""A tax profile's codes per tax category (ADR 0030) round-trip through the database, and a
profile stored before them reads back with none (its one code for every line)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from domain.ids import CustomerId, LegalEntityId
from domain.tax import CategoryCode, TaxProfile
from tests.support.builders import AT

CTX = RequestContext("tester", "corr-tax")
ACME = (CustomerId("acme"), LegalEntityId("tl-uk"))


def now() -> datetime:
    return AT


def test_a_profile_keeps_its_codes_per_category_and_exemption_reasons(database: Database) -> None:
    profile = TaxProfile(
        *ACME,
        "VAT20",
        categories=(
            CategoryCode("expenses", "ZERO"),
            CategoryCode("expenses:training", "EXEMPT", "Exempt: vocational training"),
        ),
    )
    with database.unit_of_work(CTX, now) as uow:
        uow.master_data.save_tax_profile(profile)
        uow.commit()
    with database.unit_of_work(CTX, now) as uow:
        assert uow.master_data.tax_profile(*ACME) == profile
        assert uow.master_data.tax_profiles() == {ACME: profile}


def test_a_profile_stored_before_tax_categories_reads_back_with_none(database: Database) -> None:
    with database.unit_of_work(CTX, now) as uow:
        uow.master_data.save_tax_profile(TaxProfile(*ACME, "VAT20"))
        uow.commit()
    with database.engine.begin() as connection:  # as migration 0012 leaves an older row
        connection.execute(sa.update(t.tax_profiles).values(categories=None))
    with database.unit_of_work(CTX, now) as uow:
        assert uow.master_data.tax_profile(*ACME) == TaxProfile(*ACME, "VAT20")
