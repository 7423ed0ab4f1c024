"""The ERP pushes a full customer record (ADR 0035): each different push is the next version,
the previous kept and the change audited; the same record again is no version at all; a setup
blocked for want of the record resumes by its exception's replay once it is here, provisioning
one project; the start-up seed never overrides what the ERP pushed."""

from __future__ import annotations

import attrs
import pytest

from application import commands as c
from application.customer_master import PostalAddress
from application.errors import PayloadError
from application.ports import CustomerRecord
from domain.engagement import EngagementState
from tests.unit.application.conftest import CUSTOMER, ENTITY, App, set_up_tm_contract

ADDRESS = PostalAddress(("1 Main St",), "London", "EC1A 1BB", "GB")
PUSHED = CustomerRecord(
    CUSTOMER,
    ENTITY,
    "Acme Ltd",
    "EUR",
    "VAT20",
    False,
    ADDRESS.one_line(),
    address=ADDRESS,
    vat_id="GB987654321",
    payment_terms_days=30,
)


def versions(app: App) -> list[int]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return [r.version for r in uow.master_data.customer_records(CUSTOMER)]


def test_each_different_push_is_the_next_version_and_the_previous_stays(app: App) -> None:
    first = app.do(c.PushCustomerRecord(PUSHED), actor="erp")
    again = app.do(c.PushCustomerRecord(PUSHED), actor="erp")
    second = app.do(c.PushCustomerRecord(attrs.evolve(PUSHED, payment_terms_days=60)), actor="erp")
    assert (first.version, again.version, second.version) == (1, 1, 2)
    with app.bus.deps.uow(app.as_("reader")) as uow:
        history = uow.master_data.customer_records(CUSTOMER)
        current = uow.master_data.customer_record(CUSTOMER, ENTITY)
    assert [(r.version, r.payment_terms_days) for r in history] == [(1, 30), (2, 60)]
    assert current == second
    trail = [(r.subject, r.action, r.before, r.after) for r in app.data.audit]
    assert trail == [
        (f"customer:{CUSTOMER}:{ENTITY}", "push_record", None, "v1"),
        (f"customer:{CUSTOMER}:{ENTITY}", "push_record", "v1", "v2"),
    ]


def test_a_record_that_breaks_a_rule_is_refused_and_stores_nothing(app: App) -> None:
    bad = attrs.evolve(PUSHED, address=attrs.evolve(ADDRESS, country="UK"))
    with pytest.raises(PayloadError) as refused:
        app.do(c.PushCustomerRecord(bad), actor="erp")
    assert [p for p, _ in refused.value.problems] == ["/billing_address/country"]
    assert versions(app) == []


def blocked_setup_resumes_after_the_push(app: App) -> None:
    """Shared with tests/integration: the same story on the SQL unit of work."""
    app.master.records.clear()  # the ERP master knows nothing of the customer yet
    set_up_tm_contract(app)
    engagement = app.data.aggregates["engagement"]["E1"]
    assert engagement.state is EngagementState.SETUP_BLOCKED
    assert engagement.blocked_reason == "missing master data: customer"
    (exception,) = [x for x in app.data.exceptions.values() if x.workflow == "setup"]

    app.do(c.PushCustomerRecord(PUSHED), actor="erp")
    assert app.do(c.ReplayException(exception.exception_id), actor="finance") is True
    assert app.do(c.ReplayException(exception.exception_id), actor="finance") is True
    assert app.do(c.SetUpEngagement(engagement.engagement_id), actor="finance") is True

    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE
    assert list(app.projects.projects) == ["E1:project"]  # provisioned once
    assert app.data.exceptions[exception.exception_id].state.value == "resolved"
    setups = [x for x in app.data.exceptions.values() if x.workflow == "setup"]
    assert len(setups) == 1  # the replays raised nothing new
    assert app.data.tax_profiles[(CUSTOMER, ENTITY)].tax_code == "VAT20"
    assert versions(app) == [1]


def test_a_setup_blocked_for_want_of_the_record_resumes_by_replay_once_it_is_pushed(
    app: App,
) -> None:
    blocked_setup_resumes_after_the_push(app)


def test_the_seed_keeps_version_1_only_where_nothing_was_pushed(app: App) -> None:
    other = attrs.evolve(PUSHED, customer_id="globex", name="Globex plc", tax_code=None)
    app.do(c.PushCustomerRecord(PUSHED), actor="erp")
    seeded = attrs.evolve(PUSHED, name="Acme (seed file)", address=None)
    assert app.do(c.SeedCustomerRecords((seeded, other)), actor="seed") == 1
    assert app.do(c.SeedCustomerRecords((seeded, other)), actor="seed") == 0
    with app.bus.deps.uow(app.as_("reader")) as uow:
        assert uow.master_data.customer_record(CUSTOMER, ENTITY) == attrs.evolve(PUSHED, version=1)
        globex = uow.master_data.customer_record("globex", ENTITY)
    assert globex is not None
    assert (globex.version, globex.name, globex.tax_code) == (1, "Globex plc", None)
