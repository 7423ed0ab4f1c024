"""Split billing in the database: payers on contract versions, the payer of an invoice as a
column to filter on, and the payer of every billed-ledger row, exactly as the domain gave them."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.context import RequestContext
from domain.billing import BilledLedger
from domain.contract import Contract
from domain.ids import ContractId, CustomerId, LegalEntityId, ObligationId
from domain.invoice import Invoice
from domain.money import Money
from domain.period import Period
from domain.recurring import RecurringTerms
from domain.split import ObligationPayers, Payer
from tests.support.builders import AT, CUSTOMER, ENTITY, EUR, d, run
from tests.unit.test_serialization import assert_same

CTX = RequestContext("tester", "corr-split")
PARENT = CustomerId("acme-holding")
GRANT = CustomerId("innovation-grant")
FEE = ObligationId("fee")


def uow(database: Database) -> SqlAlchemyUnitOfWork:
    return database.unit_of_work(CTX, lambda: AT)


def shared_contract() -> Contract:
    c = Contract(ContractId("C1"), CUSTOMER, LegalEntityId(ENTITY), EUR, "Shared")
    terms = RecurringTerms(FEE, "Managed service", EUR, d("1000.01"), date(2026, 3, 1))
    payers = (
        Payer.fixed(GRANT, Money.of("100.00", "EUR")),
        Payer.percentage(CUSTOMER, "70"),
        Payer.percentage(PARENT, "30"),
    )
    c.draft_version(date(2026, 1, 1), [terms], payers=[ObligationPayers(FEE, payers)])
    c.approve_version(1, "legal", AT)
    return c


def test_payers_invoices_and_ledger_rows_round_trip_with_their_payer(database: Database) -> None:
    c = shared_contract()
    proposal = run(Period.month(2026, 3), [c])
    invoices = [
        Invoice.from_proposal(f"INV-{n}", p, "billing-clerk", AT)
        for n, p in enumerate(proposal.invoices, 1)
    ]
    with uow(database) as u:
        u.contracts.add(c)
        for invoice in invoices:
            u.invoices.add(invoice)
        u.ledger.add(c.contract_id, [e for i in invoices for e in i.ledger_entries()])
        u.commit()
    with uow(database) as u:
        assert_same(u.contracts.get(c.contract_id), c)
        for invoice in invoices:
            assert_same(u.invoices.get(invoice.invoice_id), invoice)
        ledger = u.ledger.load([c.contract_id])
    expected = BilledLedger(tuple(e for i in invoices for e in i.ledger_entries()))
    assert ledger.entries == expected.entries
    assert {e.payer for e in ledger.entries} == {CUSTOMER, PARENT, GRANT}
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.select(t.invoices.c.id, t.invoices.c.payer_id).order_by(t.invoices.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("INV-1", CUSTOMER), ("INV-2", GRANT), ("INV-3", PARENT)]


def other_contract() -> Contract:
    c = Contract(ContractId("C2"), PARENT, LegalEntityId(ENTITY), EUR, "Other")
    terms = RecurringTerms(ObligationId("other"), "Hosting", EUR, d("50.00"), date(2026, 3, 1))
    c.draft_version(date(2026, 1, 1), [terms])
    c.approve_version(1, "legal", AT)
    return c


def test_a_run_reads_the_invoices_of_its_own_contracts_only(database: Database) -> None:
    """What a period already billed a fixed payer is read by contract, on SQL as in memory:
    another contract's invoices are not read (ADR 0060)."""
    invoices = [
        Invoice.from_proposal(f"INV-{c.contract_id}-{n}", p, "billing-clerk", AT)
        for c in (other_contract(), shared_contract())
        for n, p in enumerate(run(Period.month(2026, 3), [c]).invoices, 1)
    ]
    memory = InMemoryUnitOfWork(InMemoryStore(), CTX, lambda: AT)
    for unit in (uow(database), memory):
        with unit as u:
            for invoice in invoices:
                u.invoices.add(invoice)
            u.commit()
        with unit as u:
            found = u.invoices.for_contracts([ContractId("C1")])
            assert [x.invoice_id for x in found] == [
                x.invoice_id for x in invoices if x.contract_id == "C1"
            ]
            assert len(found) == 3
            assert u.invoices.for_contracts([]) == []
