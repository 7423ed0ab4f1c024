"""Employment histories and transfer pricing on SQLite and PostgreSQL: the stores round-trip
exactly and replace whole, and the application suite of consultant transfers runs again on
the SQL unit of work (pytest resolves `app` from this folder's conftest)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from domain.employment import EmploymentHistory
from domain.ids import LegalEntityId, ResourceId
from domain.intercompany import TransferPolicy, TransferPricing
from tests.unit.application.test_intercompany_app import *  # noqa: F403

CTX = RequestContext("tester", "corr-ic")
UK, DE, FR = LegalEntityId("tl-uk"), LegalEntityId("tl-de"), LegalEntityId("tl-fr")


def now() -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC)


def test_histories_and_pricing_round_trip_exactly_and_replace_whole(database: Database) -> None:
    r1 = EmploymentHistory.transferred(
        ResourceId("r1"), DE, date(2026, 1, 1), [(date(2026, 3, 16), FR)]
    )
    r2 = EmploymentHistory.transferred(ResourceId("r2"), UK, date(2025, 6, 1))
    pricing = TransferPricing.of(
        [TransferPolicy(DE, UK, Decimal("12.5")), TransferPolicy(FR, UK, Decimal("0.125"))],
        default_markup_percent=Decimal(5),
    )
    with database.unit_of_work(CTX, now) as uow:
        assert uow.intercompany.employment_histories() == {}
        assert uow.intercompany.transfer_pricing() == TransferPricing()
        uow.intercompany.save_employment_history(r2)
        uow.intercompany.save_employment_history(r1)
        uow.intercompany.save_transfer_pricing(pricing)
        uow.commit()
    with database.unit_of_work(CTX, now, read_only=True) as uow:
        assert uow.intercompany.employment_history(ResourceId("r1")) == r1
        assert uow.intercompany.employment_history(ResourceId("nobody")) is None
        assert list(uow.intercompany.employment_histories().items()) == [
            (ResourceId("r1"), r1),
            (ResourceId("r2"), r2),
        ]
        assert uow.intercompany.transfer_pricing() == pricing
    moved = EmploymentHistory.transferred(ResourceId("r1"), FR, date(2026, 1, 1))
    with database.unit_of_work(CTX, now) as uow:
        uow.intercompany.save_employment_history(moved)
        uow.intercompany.save_transfer_pricing(TransferPricing())
        uow.commit()
    with database.unit_of_work(CTX, now, read_only=True) as uow:
        assert uow.intercompany.employment_history(ResourceId("r1")) == moved
        assert uow.intercompany.transfer_pricing() == TransferPricing()


def test_an_uncommitted_history_is_not_kept(database: Database) -> None:
    with database.unit_of_work(CTX, now) as uow:
        uow.intercompany.save_employment_history(
            EmploymentHistory.transferred(ResourceId("r1"), DE, date(2026, 1, 1))
        )
    with database.unit_of_work(CTX, now, read_only=True) as uow:
        assert uow.intercompany.employment_histories() == {}
