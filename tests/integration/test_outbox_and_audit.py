"""The outbox is written in the transaction of the change it reports, and only then; the audit
chain of a real workflow verifies, and the verifier names the row someone changed in SQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from adapters.sqlalchemy import tables as t
from application import commands as c
from application.audit import verify_chain
from domain.engagement import EngagementState
from domain.ids import ContractId, CustomerId, EngagementId, PaymentId
from tests.integration.support import SqlApp
from tests.unit.application.conftest import set_up_tm_contract
from tests.unit.application.test_billing_and_closure import billed_month, eur


def outbox_types(app: SqlApp) -> list[str]:
    return [e.event_type for e in app.data.outbox]


def test_a_change_that_is_not_committed_writes_no_outbox_row(app: SqlApp) -> None:
    set_up_tm_contract(app)
    before = outbox_types(app)
    with app.bus.deps.uow(app.as_("ops")) as uow:
        engagement = uow.engagements.get(EngagementId("E1"))
        engagement.suspend("client on hold", app.clock.now())
        assert engagement.events  # recorded, but the unit of work ends without a commit
    assert outbox_types(app) == before
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE


def test_a_commit_that_fails_at_the_end_takes_its_outbox_rows_with_it(app: SqlApp) -> None:
    set_up_tm_contract(app)
    before = outbox_types(app)

    def fail(_: Any) -> None:
        raise RuntimeError("the disk is full")

    proposal = c.ProposeEngagement(EngagementId("E2"), CustomerId("acme"), ContractId("C2"))
    event.listen(app.database.engine, "commit", fail)
    try:
        with pytest.raises(RuntimeError, match="disk is full"):
            app.do(proposal)
    finally:
        event.remove(app.database.engine, "commit", fail)
    assert outbox_types(app) == before
    assert "E2" not in app.data.aggregates["engagement"]
    app.do(proposal)
    assert "E2" in app.data.aggregates["engagement"]
    assert outbox_types(app) == [*before, "EngagementProposed"]


def test_outbox_rows_carry_the_aggregate_the_payload_and_the_correlation_id(app: SqlApp) -> None:
    invoice_id = billed_month(app)
    drafted = [e for e in app.data.outbox if e.event_type == "InvoiceDrafted"]
    assert [(e.aggregate_type, e.aggregate_id) for e in drafted] == [("Invoice", invoice_id)]
    assert drafted[0].payload["invoice_id"] == invoice_id
    assert drafted[0].correlation_id == "corr-1"
    with app.bus.deps.uow(app.as_("relay")) as uow:
        pending = uow.outbox.pending(limit=3)
    assert [e.event_id for e in pending] == [e.event_id for e in app.data.outbox[:3]]


def test_the_audit_chain_of_a_workflow_verifies_and_a_changed_row_is_named(
    app: SqlApp,
) -> None:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    app.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1440.00"), date(2026, 4, 2)))
    records = app.data.audit
    assert len(records) > 10
    assert verify_chain(records).intact

    with app.database.engine.begin() as connection:
        connection.execute(
            t.audit_log.update().where(t.audit_log.c.sequence == 7).values(actor="mallory")
        )
    report = verify_chain(app.data.audit)
    assert (report.intact, report.first_broken) == (False, 7)

    with app.database.engine.begin() as connection:
        connection.execute(
            t.audit_log.update().where(t.audit_log.c.sequence == 7).values(actor=records[6].actor)
        )
        connection.execute(sa.delete(t.audit_log).where(t.audit_log.c.sequence == 4))
    assert verify_chain(app.data.audit).first_broken == 5  # the record after the gap
