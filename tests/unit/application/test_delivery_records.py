"""Records of a declared delivery kind, from the batch to the invoice (ADR 0050): the store,
the generic command and its admission, corrections with provenance, and the billing run that
hands a model its records. Written against a test-only kind and model (tests/support/metered.py);
the same tests run on SQLite and PostgreSQL (tests/integration/test_delivery_records_sql.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from application import commands as c
from application.billing_marks import obligations_of
from application.errors import NotFoundError
from application.queries.paging import PageRequest
from domain.delivery_kinds import UnknownDeliveryKindError
from domain.ids import ContractId, CustomerId, EngagementId, ObligationId
from domain.period import Period
from tests.support.metered import UNITS, MeteredTerms, UnitRecord, unit_source
from tests.unit.application.conftest import CUSTOMER, ENTITY, EUR, App, set_up_tm_contract

METERED = ObligationId("metered")
MARCH = Period.month(2026, 3)


def set_up_metered_contract(app: App) -> None:
    """An engagement whose contract bills units at 2.50 each, besides a T&M one."""
    set_up_tm_contract(app)
    app.do(c.ProposeEngagement(EngagementId("E2"), CUSTOMER, ContractId("C2")), actor="crm")
    app.do(c.RegisterContract(ContractId("C2"), CUSTOMER, ENTITY, "EUR", "Metering"), actor="clm")
    terms = MeteredTerms(METERED, "API calls", EUR, Decimal("2.50"))
    app.do(c.DraftContractVersion(ContractId("C2"), date(2026, 1, 1), (terms,)), actor="clm")
    app.do(c.ApproveContractVersion(ContractId("C2"), 1), actor="legal")


def units(record_id: str, day: date, count: int, obligation: str = "metered") -> UnitRecord:
    return UnitRecord(record_id, ObligationId(obligation), day, count)


def report(app: App, *records: UnitRecord) -> c.DeliveryRecordsReport:
    result: c.DeliveryRecordsReport = app.do(c.RecordDeliveryRecords(UNITS.name, records))
    return result


def current(app: App, record_id: str) -> list[tuple[int, int]]:
    """(revision, units) of every revision the store keeps of a record, the first first."""
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        return [
            (r.revision, r.record.units)
            for r in uow.delivery_records.revisions(UNITS.name, record_id)
        ]


def test_new_records_are_accepted_and_the_same_values_again_are_duplicates(app: App) -> None:
    set_up_metered_contract(app)
    first = report(app, units("m1", date(2026, 3, 2), 3), units("m2", date(2026, 3, 3), 4))
    again = report(app, units("m1", date(2026, 3, 2), 3))
    assert (first.accepted, first.duplicates, first.corrected) == (("m1", "m2"), (), ())
    assert (again.accepted, again.duplicates, again.corrected) == ((), ("m1",), ())
    assert current(app, "m1") == [(1, 3)]


def test_other_values_for_a_known_record_are_a_correction_that_keeps_the_earlier_revision(
    app: App,
) -> None:
    set_up_metered_contract(app)
    report(app, units("m1", date(2026, 3, 2), 3))
    corrected = report(app, units("m1", date(2026, 3, 2), 5))
    assert corrected.corrected == ("m1",)
    assert current(app, "m1") == [(1, 3), (2, 5)]
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        trail = uow.audit.for_subject("delivery_record:test_units:m1")
    assert [(a.action, a.before, a.after) for a in trail] == [
        ("correct", "revision 1", "revision 2")
    ]


def test_records_are_refused_with_the_rule_that_refuses_them(app: App) -> None:
    set_up_metered_contract(app)
    app.do(c.ClosePeriod(Period.month(2026, 2)), actor="controller")
    result = report(
        app,
        units("m1", date(2026, 3, 2), 3, obligation="nowhere"),
        units("m2", date(2026, 3, 2), 3, obligation="tm"),
        units("m3", date(2026, 2, 27), 3),
        units("m4", date(2026, 3, 2), 1),
        units("m4", date(2026, 3, 2), 2),
    )
    assert result.accepted == ("m4",)
    assert [(r.item_id, r.reason_code, r.position) for r in result.rejected] == [
        ("m1", "unknown_obligation", 0),
        ("m2", "delivery_kind_not_billed", 1),
        ("m3", "period_closed", 2),
        ("m4", "delivery_record_conflict", 4),
    ]


def test_a_record_cannot_move_to_another_obligation_or_be_corrected_in_a_closed_period(
    app: App,
) -> None:
    set_up_metered_contract(app)
    report(app, units("m1", date(2026, 2, 20), 3))
    moved = report(app, units("m1", date(2026, 2, 20), 3, obligation="tm"))
    app.do(c.ClosePeriod(Period.month(2026, 2)), actor="controller")
    late = report(app, units("m1", date(2026, 3, 2), 9))
    assert [r.reason_code for r in moved.rejected] == ["delivery_kind_not_billed"]
    assert [r.reason_code for r in late.rejected] == ["period_closed"]
    assert current(app, "m1") == [(1, 3)]


def test_an_unknown_kind_is_refused_and_names_itself(app: App) -> None:
    with pytest.raises(UnknownDeliveryKindError, match="nope"):
        app.do(c.RecordDeliveryRecords("nope", ()))


def test_a_kind_is_listed_by_record_id_in_keyset_pages_and_by_obligation(app: App) -> None:
    set_up_metered_contract(app)
    report(app, *(units(f"m{n}", date(2026, 3, n), n) for n in range(1, 6)))
    first = app.do(c.ListDeliveryRecords(UNITS.name, PageRequest(2)))
    second = app.do(c.ListDeliveryRecords(UNITS.name, PageRequest.of(2, first.next_cursor)))
    nobody = app.do(c.ListDeliveryRecords(UNITS.name, PageRequest(10), ObligationId("tm")))
    assert [r.record_id for r in first.items + second.items] == ["m1", "m2", "m3", "m4"]
    assert nobody.items == ()


def test_a_run_bills_each_record_and_a_correction_after_billing_bills_only_the_difference(
    app: App,
) -> None:
    set_up_metered_contract(app)
    report(app, units("m1", date(2026, 3, 2), 3), units("m2", date(2026, 3, 9), 4))
    first = app.do(
        c.RunBilling(MARCH, dry_run=False, contract_ids=(ContractId("C2"),)), actor="billing-clerk"
    )
    (invoice,) = first.proposal.invoices
    assert invoice.totals.net.amount == Decimal("17.50")
    report(app, units("m1", date(2026, 3, 2), 5))
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        settled = uow.billing_marks.observe(MARCH, obligations_of(uow.contracts.all())).settled
        billed = uow.ledger.load([ContractId("C2")]).settled(
            unit_source(units("m1", date(2026, 3, 2), 5))
        )
    assert METERED not in settled  # the correction changed what billing reads
    assert billed == Decimal(3)
    (again,) = app.do(
        c.RunBilling(MARCH, contract_ids=(ContractId("C2"),)), actor="billing-clerk"
    ).proposal.invoices
    assert [(a.source, a.quantity) for line in again.lines for a in line.allocations] == [
        (unit_source(units("m1", date(2026, 3, 2), 5)), Decimal(2))
    ]
    assert again.totals.net.amount == Decimal("5.00")


def test_revenue_recognised_reads_the_contracts_records(app: App) -> None:
    set_up_metered_contract(app)
    report(app, units("m1", date(2026, 3, 2), 3), units("m2", date(2026, 3, 9), 4))
    app.do(c.RecogniseRevenue(MARCH), actor="controller")
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        lines = [
            line
            for entry in uow.journal.all()
            for line in entry.lines
            if line.obligation_id == METERED
        ]
    assert sum((line.credit.amount for line in lines), Decimal(0)) == Decimal("17.50")


def test_a_list_for_one_customer_shows_only_its_obligations_and_not_another_customers(
    app: App,
) -> None:
    set_up_metered_contract(app)
    report(app, units("m1", date(2026, 3, 2), 3))
    mine = app.do(c.ListDeliveryRecords(UNITS.name, PageRequest(10), customer_id=CUSTOMER))
    theirs = app.do(
        c.ListDeliveryRecords(UNITS.name, PageRequest(10), customer_id=CustomerId("globex"))
    )
    with pytest.raises(NotFoundError):
        app.do(c.ListDeliveryRecords(UNITS.name, PageRequest(10), METERED, CustomerId("globex")))
    assert ([r.record_id for r in mine.items], theirs.items) == (["m1"], ())
