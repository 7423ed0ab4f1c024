"""The posting path to the ERP (ADR 0034): each posted journal entry goes to our journal and,
mapped to the legal entity's accounts, to the outbox in the transaction of the change; the
relay hands it to the ERP's general ledger once and records the ERP's document number.

Written against the `app` fixture, so `tests/integration/test_journal_posting_sql.py` runs the
same tests on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from adapters.memory import FakeEventPublisher, FakeGeneralLedger
from application import commands as c
from application.errors import DownstreamUnavailableError
from application.handlers import create_bus
from application.journal import (
    EVENT_TYPE,
    ErpPostingPublisher,
    SetChartOfAccounts,
    acknowledger,
    charts_in_force,
    post_entry,
    posting_event_id,
)
from application.records import OutboxEvent
from application.relay import relay_context, relay_once
from domain import ids
from domain.accounting_period import PeriodLock
from domain.chart_of_accounts import ChartOfAccounts, ChartsOfAccounts, PostingScope
from domain.ids import InvoiceId, LegalEntityId, PaymentId
from domain.ledger import JournalEntry, post_payment
from domain.money import Currency
from domain.recurring import RecurringTerms
from tests.unit.application.conftest import ENTITY, App
from tests.unit.application.test_billing_and_closure import MARCH, billed_month, eur

EUR = Currency.of("EUR")
SCHEMA = Path(__file__).parents[3] / "docs" / "events" / "journal_entry.posted.schema.json"

CHARTS = ChartsOfAccounts.of(
    [
        ChartOfAccounts.of(
            ENTITY,
            {
                "receivables": "1100",
                "unbilled_wip": "1150",
                "deferred_revenue": "2150",
                "revenue": "4000",
                "tax_payable": "2200",
                "cash": "1200",
                "intercompany_receivable": "1300",
                "intercompany_revenue": "4900",
                "cost_of_services": "5000",
                "intercompany_payable": "2300",
                "write_off_expense": "6900",
            },
            revenue_by_obligation_type={"time_and_materials": "4010"},
            dimensions={"region": "UK"},
        )
    ]
)


@pytest.fixture
def books(app: App) -> App:
    """The same application, with the chart of accounts of its legal entity."""
    return attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=CHARTS)))


def issued(app: App) -> InvoiceId:
    invoice_id = billed_month(app)
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    return invoice_id


def journal(app: App) -> list[JournalEntry]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return uow.journal.all()


def issued_entry(app: App) -> JournalEntry:
    """An invoice issued, and the one journal entry its issue wrote."""
    issued(app)
    (entry,) = journal(app)
    return entry


def postings(app: App) -> list[OutboxEvent]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return [e for e in uow.outbox.pending(1000) if e.event_type == EVENT_TYPE]


def acknowledgements(app: App) -> dict[str, Any]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return {p.entry_id: p.erp_document for p in uow.journal.postings() if p.erp_document}


def erp_relay(app: App, ledger: FakeGeneralLedger, sink: FakeEventPublisher) -> None:
    deps = app.bus.deps
    publisher = ErpPostingPublisher(
        sink, ledger, acknowledger(deps.uow, deps.clock, relay_context("w1"))
    )
    relay_once(deps.uow, deps.clock, publisher, worker="w1")


def test_issuing_an_invoice_writes_its_entry_and_its_posting_in_one_commit(books: App) -> None:
    entry = issued_entry(books)
    (event,) = postings(books)
    assert event.event_id == posting_event_id(entry.entry_id)
    assert (event.aggregate_type, event.aggregate_id) == ("JournalEntry", entry.entry_id)
    payload = event.payload
    assert payload["source_document"] == "INV-2026-000001"
    assert payload["legal_entity_id"] == ENTITY
    assert payload["total"] == "1440.00"  # 12 h x 100 + 20 % VAT
    lines = [(ln["gl_account"], ln["debit"], ln["credit"]) for ln in payload["lines"]]
    # Nothing recognised yet: the net is deferred, the tax owed.
    assert lines == [("1100", "1440.00", "0.00"), ("2150", "0.00", "1200.00"),
                     ("2200", "0.00", "240.00")]  # fmt: skip
    for line in payload["lines"]:
        dims = line["dimensions"]
        assert (dims["legal_entity_id"], dims["customer_id"]) == (ENTITY, "acme")
        assert (dims["contract_id"], dims["engagement_id"]) == ("C1", "E1")
        assert dims["region"] == "UK"
    assert [ln["dimensions"]["obligation_id"] for ln in payload["lines"]] == [None, "tm", None]


def test_every_posting_matches_its_published_schema(books: App) -> None:
    invoice_id = issued(books)
    books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1440.00"), date(2026, 4, 20)))
    books.do(c.RecogniseRevenue(MARCH), actor="finance-lead")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    events = postings(books)
    assert len(events) == 3
    for event in events:
        assert list(validator.iter_errors(dict(event.payload))) == []


def test_payments_and_revenue_recognition_post_their_entries_too(books: App) -> None:
    invoice_id = issued(books)
    books.do(c.RecordPayment(invoice_id, PaymentId("P1"), eur("1440.00"), date(2026, 4, 20)))
    books.do(c.RecogniseRevenue(MARCH), actor="finance-lead")
    issue, payment, revenue = (e.payload for e in postings(books))
    assert issue["source_document"] == "INV-2026-000001"
    assert [(ln["gl_account"], ln["posting_role"]) for ln in payment["lines"]] == [
        ("1200", "cash"),
        ("1100", "receivables"),
    ]
    # The month's 12 hours are earned: the deferred revenue is released to T&M revenue.
    assert [(ln["gl_account"], ln["debit"], ln["credit"]) for ln in revenue["lines"]] == [
        ("2150", "1200.00", "0.00"),
        ("4010", "0.00", "1200.00"),
    ]


def test_without_a_chart_of_accounts_entries_stay_in_the_journal_only(app: App) -> None:
    issued(app)
    assert len(journal(app)) == 1
    assert postings(app) == []


def test_a_change_that_is_not_committed_writes_neither_entry_nor_posting(books: App) -> None:
    entry = post_payment("JE-X", "PAY-X", date(2026, 3, 31), eur("10.00"), PeriodLock())
    with books.bus.deps.uow(books.as_("finance")) as uow:
        post_entry(uow, books.as_("finance"), books.clock.now(), CHARTS, entry, scope())
        uow.rollback()
    assert journal(books) == []
    assert postings(books) == []


def test_an_entry_posted_twice_is_one_entry_and_one_posting(books: App) -> None:
    entry = post_payment("JE-X", "PAY-X", date(2026, 3, 31), eur("10.00"), PeriodLock())
    outcomes = []
    for _ in range(2):
        with books.bus.deps.uow(books.as_("finance")) as uow:
            now = books.clock.now()
            outcomes.append(post_entry(uow, books.as_("finance"), now, CHARTS, entry, scope()))
            uow.commit()
    assert outcomes == [True, False]
    assert [e.entry_id for e in journal(books)] == ["JE-X"]
    assert [e.event_id for e in postings(books)] == [posting_event_id("JE-X")]


def test_the_relay_hands_the_entry_to_the_erp_and_records_its_document_number(
    books: App,
) -> None:
    entry = issued_entry(books)
    ledger, sink = FakeGeneralLedger(), FakeEventPublisher()
    erp_relay(books, ledger, sink)
    assert list(ledger.posted) == [entry.entry_id]
    assert ledger.posted[entry.entry_id]["lines"][0]["gl_account"] == "1100"
    assert acknowledgements(books) == {entry.entry_id: "GL-000001"}
    assert posting_event_id(entry.entry_id) in [e.event_id for e in sink.received]


def test_an_erp_outage_leaves_the_posting_to_be_retried_and_posts_it_once_later(
    books: App,
) -> None:
    entry = issued_entry(books)
    ledger, sink = FakeGeneralLedger(), FakeEventPublisher()
    ledger.available = False
    erp_relay(books, ledger, sink)
    assert acknowledgements(books) == {}
    with books.bus.deps.uow(books.as_("reader")) as uow:
        failed = uow.outbox.get(posting_event_id(entry.entry_id))
    assert failed.attempts == 1
    assert "general ledger is unavailable" in (failed.last_error or "")
    ledger.available = True
    books.clock.advance(hours=1)
    erp_relay(books, ledger, sink)
    erp_relay(books, ledger, sink)
    assert list(ledger.posted) == [entry.entry_id]
    assert acknowledgements(books) == {entry.entry_id: "GL-000001"}


def test_the_erp_answering_again_keeps_the_first_document_number(books: App) -> None:
    entry = issued_entry(books)
    record = acknowledger(books.bus.deps.uow, books.clock, relay_context("w1"))
    record(entry.entry_id, "GL-1")
    record(entry.entry_id, "GL-2")
    assert acknowledgements(books) == {entry.entry_id: "GL-1"}


def test_a_posting_the_erp_refuses_raises_so_the_relay_retries(books: App) -> None:
    ledger = FakeGeneralLedger()
    ledger.available = False
    publisher = ErpPostingPublisher(FakeEventPublisher(), ledger, lambda *_: None)
    event = OutboxEvent(
        "EVT-JE-1-posted", EVENT_TYPE, "JournalEntry", "JE-1", {}, "c", books.clock.now()
    )
    with pytest.raises(DownstreamUnavailableError):
        publisher.publish(event)


def scope() -> PostingScope:
    return PostingScope(LegalEntityId(ENTITY), customer_id="acme")


def test_a_chart_set_by_finance_wins_over_the_start_up_one_and_is_audited(books: App) -> None:
    (start_up,) = CHARTS.charts
    accounts = {**dict(start_up.accounts), "receivables": "1105"}
    changed = ChartOfAccounts.of(ENTITY, accounts, dict(start_up.revenue_by_obligation_type))
    books.do(SetChartOfAccounts(changed), actor="finance-lead")
    with books.bus.deps.uow(books.as_("reader")) as uow:
        assert charts_in_force(uow, CHARTS) == [changed]
        (record,) = [r for r in uow.audit.all() if r.action == "set_chart_of_accounts"]
    assert "receivables=1100" in (record.before or "")
    assert "receivables=1105" in (record.after or "")
    issued(books)
    (event,) = postings(books)
    assert event.payload["lines"][0]["gl_account"] == "1105"


def test_an_invoices_tax_goes_to_the_account_of_its_tax_code(app: App) -> None:
    (start_up,) = CHARTS.charts
    refined = attrs.evolve(start_up, tax_payable_by_tax_code=(("VAT20", "2201"),))
    charts = ChartsOfAccounts.of([refined])
    books = attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=charts)))
    issued(books)
    (event,) = postings(books)
    tax_lines = [ln for ln in event.payload["lines"] if ln["posting_role"] == "tax_payable"]
    assert [(ln["gl_account"], ln["credit"]) for ln in tax_lines] == [("2201", "240.00")]


def sign_unmapped_contract(app: App) -> None:
    """Contract C-STRAY of acme, booked by legal entity tl-nowhere that no chart maps: a
    recurring service of 310.00 EUR a month from 1 March."""
    stray = ids.ContractId("C-STRAY")
    app.do(c.ProposeEngagement(ids.EngagementId("E-STRAY"), "acme", stray), actor="crm")
    app.do(c.RegisterContract(stray, "acme", "tl-nowhere", "EUR", "Unmapped"), actor="clm")
    service = RecurringTerms(
        ids.ObligationId("ms"), "Service", EUR, Decimal("310.00"), date(2026, 3, 1), None
    )
    app.do(c.DraftContractVersion(stray, date(2026, 3, 1), (service,)), actor="clm")
    app.do(c.ApproveContractVersion(stray, 1), actor="legal")


def test_a_contract_whose_legal_entity_has_no_chart_is_held_and_caught_up_later(
    books: App,
) -> None:
    """One contract of a legal entity the charts leave out does not stop the firm's revenue
    run: the others are posted, it is listed as held, and once finance adds its chart the next
    run posts what it earned (recognition is a cumulative catch-up)."""
    billed_month(books)  # C1, booked by ENTITY: 12 hours earned in March
    sign_unmapped_contract(books)
    run = books.do(c.RecogniseRevenue(MARCH), actor="finance-lead")
    assert {oid: str(amount) for oid, amount in run.posted.items()} == {"tm": "1,200.00 EUR"}
    (held,) = run.held
    assert (held.contract_id, held.legal_entity_id) == ("C-STRAY", "tl-nowhere")
    assert "tl-nowhere has no chart of accounts" in held.detail
    assert len(journal(books)) == 1  # C1's recognition only

    (mapped,) = CHARTS.charts
    books.do(
        SetChartOfAccounts(
            ChartOfAccounts.of(
                "tl-nowhere", dict(mapped.accounts), dict(mapped.revenue_by_obligation_type)
            )
        ),
        actor="finance-lead",
    )
    again = books.do(c.RecogniseRevenue(MARCH), actor="finance-lead")
    assert {oid: str(amount) for oid, amount in again.posted.items()} == {"ms": "310.00 EUR"}
    assert again.held == ()
    assert len(journal(books)) == 2
