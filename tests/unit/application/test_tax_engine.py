"""The billing run asks the tax engine (our `TaxEngine` port, ADR 0030) how each category is
taxed for each payer on the tax date, and bills with its answers; preview equals commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import attrs
import pytest

from adapters.tax import TableTaxEngine
from application import commands as c
from application.handlers import create_bus
from application.ports import TaxEngine
from domain.ids import CustomerId, LegalEntityId
from domain.money import Money
from domain.period import Period
from domain.tax import (
    TaxCodeInUseError,
    TaxProfile,
    TaxQuestion,
    TaxRate,
    TaxRateTable,
    TaxTreatment,
    TaxUnresolved,
)
from tests.unit.application.conftest import (
    CUSTOMER,
    ENTITY,
    EUR,
    App,
    set_up_tm_contract,
    time_entry,
)

MARCH = Period.month(2026, 3)


@attrs.define
class FakeTaxEngine:
    """An external tax service that taxes everything at one rate, and remembers what it was
    asked."""

    treatment: TaxTreatment | TaxUnresolved
    asked: list[TaxQuestion] = attrs.field(factory=list)

    def treatments(
        self,
        questions: Sequence[TaxQuestion],
        profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile],
        known_rates: TaxRateTable,
    ) -> Mapping[TaxQuestion, TaxTreatment | TaxUnresolved]:
        self.asked += questions
        return dict.fromkeys(questions, self.treatment)


def with_engine(app: App, engine: TaxEngine | None) -> App:
    return attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, tax_engine=engine)))


def month_of_time(app: App) -> None:
    set_up_tm_contract(app)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "7.5"),)))


def test_the_billing_run_bills_with_the_treatments_the_tax_engine_resolved(app: App) -> None:
    month_of_time(app)
    engine = FakeTaxEngine(TaxTreatment("GST15", Decimal("0.15"), "GST registered"))
    app = with_engine(app, engine)
    preview = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    (invoice,) = preview.proposal.invoices
    # 7.5 h x 100 = 750.00 at 15 % = 112.50 (the table's VAT20 would have made 150.00)
    ((tax_line),) = invoice.totals.tax_lines
    assert (tax_line.tax_code, tax_line.amount, tax_line.note) == (
        "GST15",
        Money(Decimal("112.50"), EUR),
        "GST registered",
    )
    assert {(q.customer_id, q.legal_entity_id, q.tax_date) for q in engine.asked} == {
        ("acme", "tl-uk", date(2026, 3, 31))
    }
    assert [q.category for q in engine.asked] == ["services", "expenses"]
    committed = app.do(
        c.RunBilling(MARCH, dry_run=False, expected_fingerprint=preview.fingerprint),
        actor="billing-clerk",
    )
    assert committed.proposal == preview.proposal


def test_a_category_the_engine_cannot_tax_blocks_the_contract_with_its_reason(app: App) -> None:
    month_of_time(app)
    refusal = TaxUnresolved("tax_treatment_missing", "no nexus registered for tl-uk")
    app = with_engine(app, FakeTaxEngine(refusal))
    proposal = app.do(c.RunBilling(MARCH)).proposal
    assert proposal.invoices == ()
    ((blocked),) = proposal.blocked
    assert (blocked.reason, blocked.detail) == ("tax_treatment_missing", refusal.detail)


def test_the_default_engine_bills_exactly_as_the_run_does_without_one(app: App) -> None:
    month_of_time(app)
    without = with_engine(app, None).do(c.RunBilling(MARCH)).proposal
    with_tables = with_engine(app, TableTaxEngine()).do(c.RunBilling(MARCH)).proposal
    assert with_tables == without
    assert without.invoices[0].totals.tax == Money(Decimal("150.00"), EUR)


def test_the_default_engine_reports_a_missing_rate_as_the_run_does(app: App) -> None:
    month_of_time(app)
    app.do(c.UpdateCustomerMaster(TaxProfile(CUSTOMER, ENTITY, "VAT-UNRATED")))
    without = with_engine(app, None).do(c.RunBilling(MARCH)).proposal
    with_tables = with_engine(app, TableTaxEngine()).do(c.RunBilling(MARCH)).proposal
    assert [b.reason for b in with_tables.blocked] == ["tax_rate_not_found"]
    assert with_tables.blocked == without.blocked


def test_a_rate_table_that_would_leave_a_billed_code_unrated_is_refused_and_the_old_stands(
    app: App,
) -> None:
    month_of_time(app)
    before = app.data.tax_rates

    with pytest.raises(TaxCodeInUseError, match="'VAT20'"):
        app.do(c.SetTaxRates(TaxRateTable((TaxRate("VAT20", date(2026, 12, 1), Decimal("0.21")),))))

    assert app.data.tax_rates == before
    assert app.do(c.RunBilling(MARCH)).proposal.blocked == ()
