"""The pushed customer records (ADR 0035) on the real databases: every version kept with its
structured address and tax categories, the current one per legal entity, a version that does
not follow the current one refused; and a blocked setup resumed by replay once the record is
pushed, exactly as on the in-memory store."""

from __future__ import annotations

from datetime import datetime

import attrs
import pytest

from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.customer_master import PostalAddress
from application.errors import ConflictError
from domain.ids import LegalEntityId
from domain.tax import CategoryCode
from tests.integration.support import SqlApp
from tests.support.builders import AT
from tests.unit.application.test_customer_master_push import blocked_setup_resumes_after_the_push
from tests.unit.test_customer_record import record

CTX = RequestContext("tester", "corr-records")
ADDRESS = PostalAddress(("4 Market Street", "Floor 2"), "Leeds", "LS1 6DT", "GB")
RECORD = record(
    billing_address=ADDRESS.one_line(),
    tax_categories=(CategoryCode("expenses:training", "EXEMPT", "Exempt: vocational training"),),
    address=ADDRESS,
    version=1,
)


def now() -> datetime:
    return AT


def test_every_version_is_kept_and_the_highest_is_current(database: Database) -> None:
    second = attrs.evolve(RECORD, payment_terms_days=45, version=2)
    french = attrs.evolve(RECORD, legal_entity_id=LegalEntityId("tl-fr"), currency="EUR")
    with database.unit_of_work(CTX, now) as uow:
        uow.master_data.add_customer_record(RECORD)
        uow.master_data.add_customer_record(second)
        uow.master_data.add_customer_record(french)
        uow.commit()
    with database.unit_of_work(CTX, now) as uow:
        assert uow.master_data.customer_record("initech", "tl-uk") == second
        assert uow.master_data.customer_records("initech") == [french, RECORD, second]
        assert uow.master_data.current_customer_records() == [french, second]
        assert uow.master_data.customer_record("initech", "tl-de") is None


def test_a_version_that_does_not_follow_the_current_one_is_refused(database: Database) -> None:
    with database.unit_of_work(CTX, now) as uow:
        uow.master_data.add_customer_record(RECORD)
        uow.commit()
    with database.unit_of_work(CTX, now) as uow, pytest.raises(ConflictError):
        uow.master_data.add_customer_record(attrs.evolve(RECORD, version=3))
    with database.unit_of_work(CTX, now) as uow:
        assert [r.version for r in uow.master_data.customer_records("initech")] == [1]


def test_a_blocked_setup_resumes_by_replay_once_the_record_is_pushed(app: SqlApp) -> None:
    blocked_setup_resumes_after_the_push(app)
