"""The customers' query port: the same customers, facts and master-data verdicts on every
store, paged by keyset; a client viewer sees its own customer only."""

from __future__ import annotations

from application.context import RequestContext
from application.customer_master import current_record, setup_gaps
from application.queries.paging import PageRequest
from application.queries.viewer import Viewer
from tests.integration.read_side import Books, books_on
from tests.support.paging import every_row

__all__ = ["books_on"]

CTX = RequestContext("controller", "corr-customers")


def _walk(books: Books, viewer: Viewer, incomplete: bool = False) -> list[str]:
    views = every_row(lambda request: books.queries.customers.page(incomplete, viewer, request))
    return [view.customer_id for view in views]


def test_every_customer_the_books_know_is_listed_once_in_id_order(books_on: Books) -> None:
    world = books_on.world
    assert _walk(books_on, Viewer.staff()) == sorted(
        [world.acme.customer_id, world.globex.customer_id]
    )


def test_a_client_viewer_finds_its_own_customer_and_no_other(books_on: Books) -> None:
    acme, globex = books_on.world.acme.customer_id, books_on.world.globex.customer_id
    customers = books_on.queries.customers
    assert _walk(books_on, Viewer.client(acme)) == [acme]
    assert customers.customer(globex, Viewer.client(acme)) is None
    assert customers.records(globex, Viewer.client(acme)) is None
    assert customers.customer("nobody", Viewer.staff()) is None
    assert customers.records("nobody", Viewer.staff()) is None


def test_the_customer_shows_its_contracts_engagements_and_the_gaps_setup_would_find(
    books_on: Books,
) -> None:
    tenant = books_on.world.acme
    view = books_on.queries.customers.customer(tenant.customer_id, Viewer.staff())
    assert view is not None
    assert [c.contract_id for c in view.contracts] == [tenant.contract_id]
    assert [e.engagement_id for e in view.engagements] == [tenant.engagement_id]
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        contract = uow.contracts.get(tenant.contract_id)
        entity = contract.legal_entity_id
        record = current_record(uow, books_on.app.master, tenant.customer_id, entity)
        profile = uow.master_data.tax_profile(tenant.customer_id, entity)
    assert view.records[entity] == record
    assert view.gaps[entity] == setup_gaps(record, profile, contract.currency.code)
    assert view.missing == ([entity] if view.gaps[entity] else [])


def test_only_customers_with_incomplete_master_data_are_listed_when_asked(
    books_on: Books,
) -> None:
    everyone = books_on.queries.customers.page(False, Viewer.staff(), PageRequest())
    incomplete = [v.customer_id for v in everyone.items if v.missing]
    assert _walk(books_on, Viewer.staff(), incomplete=True) == incomplete


def test_the_pushed_versions_of_a_customer_record_are_all_there(books_on: Books) -> None:
    customer = books_on.world.acme.customer_id
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        stored = uow.master_data.customer_records(customer)
    assert books_on.queries.customers.records(customer, Viewer.staff()) == stored


def test_the_tax_rate_table_is_the_one_finance_set(books_on: Books) -> None:
    with books_on.app.bus.deps.uow(CTX, read_only=True) as uow:
        table = uow.master_data.tax_rates()
    assert books_on.queries.customers.tax_rates() == table
    (code, *_) = [r.tax_code for r in table.rates]
    only = books_on.queries.customers.tax_rates(code)
    assert only.rates
    assert {r.tax_code for r in only.rates} == {code}
