"""A tax profile's codes per tax category (ADR 0030) round-trip through the database, and a
profile stored before them reads back with none (its one code for every line)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.unit_of_work import UnitOfWork
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


def assert_profiles_of_pairs_are_those_stored(open_uow: Callable[[], UnitOfWork]) -> None:
    uk, fr = LegalEntityId("tl-uk"), LegalEntityId("tl-fr")
    stored = [
        TaxProfile(CustomerId("acme"), uk, "VAT20"),
        TaxProfile(CustomerId("acme"), fr, "FR20"),
        TaxProfile(CustomerId("globex"), fr, "FR20", reverse_charge=True),
    ]
    with open_uow() as uow:
        for profile in stored:
            uow.master_data.save_tax_profile(profile)
        uow.commit()
    wanted = [ACME, (CustomerId("globex"), fr), (CustomerId("globex"), uk), (CustomerId("k"), fr)]
    with open_uow() as uow:
        assert uow.master_data.tax_profiles_of(wanted) == {ACME: stored[0], wanted[1]: stored[2]}
        assert uow.master_data.tax_profiles_of([]) == {}
        every = uow.master_data.tax_profiles()
        assert uow.master_data.tax_profiles_of(every) == every


def test_the_profiles_of_given_pairs_are_those_stored_in_sql(database: Database) -> None:
    assert_profiles_of_pairs_are_those_stored(lambda: database.unit_of_work(CTX, now))


def test_the_profiles_of_given_pairs_are_those_stored_in_memory() -> None:
    store = InMemoryStore()
    assert_profiles_of_pairs_are_those_stored(lambda: InMemoryUnitOfWork(store, CTX, now))
