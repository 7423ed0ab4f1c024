"""Every aggregate and record round-trips through the database exactly; the unit of work keeps
an identity map, writes back only what changed, and refuses duplicates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from adapters.sqlalchemy.database import Database
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.audit import record_transition, verify_chain
from application.context import RequestContext
from application.errors import ConflictError, NotFoundError
from application.records import (
    DeliveryState,
    ExceptionKind,
    IdempotencyRecord,
    IdempotencyStatus,
    IntegrationException,
)
from application.unit_of_work_base import ReadOnlyUnitOfWorkError
from domain import ids
from domain.billing import LedgerEntry, SourceKind, SourceRef
from domain.invoice import Invoice, InvoiceState
from domain.ledger import Account, JournalEntry, JournalLine
from domain.money import Currency, Money
from domain.ratecard import RateCard, RateCardVersion
from domain.tax import TaxProfile, TaxRate, TaxRateTable
from domain.time_entry import ExpenseItem, TimeEntry
from tests.support.builders import AT, rate_card
from tests.unit.test_serialization import (
    accepted_milestone,
    assert_same,
    blocked_engagement,
    closed_period,
    closing_engagement,
    held_time_entry,
    hybrid_contract,
    issued_invoice_and_memo,
    rejected_non_billable_entry,
    reopened_period,
    travel_expense,
)

CTX = RequestContext("tester", "corr-repo")
CET = timezone(timedelta(hours=1))


def now() -> datetime:
    return AT


def uow(database: Database) -> SqlAlchemyUnitOfWork:
    return database.unit_of_work(CTX, now)


def an_exception() -> IntegrationException:
    item = IntegrationException(
        "EXC-1",
        ExceptionKind.DOWNSTREAM_UNAVAILABLE,
        "invoice_handover",
        "invoice:INV-1",
        "downstream_unavailable",
        "the ERP timed out",
        {"command": "HandOverInvoice", "args": {"invoice_id": "INV-1"}},
        "corr-x",
        datetime(2026, 3, 1, 10, 0, tzinfo=CET),
    )
    item.failed_again("the ERP timed out", datetime(2026, 3, 1, 10, 0, tzinfo=CET))
    return item


def rate_card_under_review() -> RateCard:
    """Version 1 approved by a checker, version 2 proposed and waiting."""
    card = rate_card(versions=())
    eur = Currency.of("EUR")
    consultant = {ids.Role("consultant"): Decimal("100")}
    card.propose(RateCardVersion(1, date(2026, 1, 1), eur, consultant), "maker", AT)
    card.approve(1, "checker", datetime(2026, 1, 2, 9, 0, tzinfo=CET))
    raise_ = {ids.Role("consultant"): Decimal("110.50")}
    card.propose(RateCardVersion(2, date(2026, 7, 1), eur, raise_), "maker", AT)
    return card


# Which store holds each aggregate: (put it in, get it back) --------------------------------

Put = Callable[[SqlAlchemyUnitOfWork, Any], None]
Get = Callable[[SqlAlchemyUnitOfWork, Any], Any]


def kept_in(store: str, read: Callable[[Any, Any], Any]) -> tuple[Put, Get]:
    """An aggregate added to `store` and read back from it by `read(store, aggregate)`."""
    return (
        lambda u, x: getattr(u, store).add(x),
        lambda u, x: read(getattr(u, store), x),
    )


def delivered(add: str, read: Callable[[Any, Any], Any]) -> tuple[Put, Get]:
    """A delivery item added in a batch of one through `add`, read back by `read`."""
    return (
        lambda u, x: getattr(u.delivery, add)([x]),
        lambda u, x: read(u.delivery, x),
    )


AGGREGATES: dict[str, tuple[Callable[[], Any], Put, Get]] = {
    "contract": (hybrid_contract, *kept_in("contracts", lambda s, x: s.get(x.contract_id))),
    "rate card": (
        lambda: rate_card(overrides={"r1": "120"}),
        *kept_in("rate_cards", lambda s, x: s.get(x.rate_card_id)),
    ),
    "rate card under review": (
        rate_card_under_review,
        *kept_in("rate_cards", lambda s, x: s.get(x.rate_card_id)),
    ),
    "closing engagement": (
        closing_engagement,
        *kept_in("engagements", lambda s, x: s.get(x.engagement_id)),
    ),
    "blocked engagement": (
        blocked_engagement,
        *kept_in("engagements", lambda s, x: s.find_by_contract(x.contract_id)),
    ),
    "milestone": (
        accepted_milestone,
        *kept_in("milestones", lambda s, x: s.for_obligations([x.obligation_id])[0]),
    ),
    "invoice": (
        lambda: issued_invoice_and_memo()[0],
        *kept_in("invoices", lambda s, x: s.get(x.invoice_id)),
    ),
    "credit memo": (
        lambda: issued_invoice_and_memo()[1],
        *kept_in("credit_memos", lambda s, x: s.get(x.credit_memo_id)),
    ),
    "closed period": (closed_period, *kept_in("periods", lambda s, x: s.get(x.period))),
    "reopened period": (reopened_period, *kept_in("periods", lambda s, x: s.all()[0])),
    "integration exception": (
        an_exception,
        *kept_in("exceptions", lambda s, x: s.open_for(x.subject)[0]),
    ),
    "held time entry": (
        held_time_entry,
        *delivered("add_time_entries", lambda d, x: d.time_entry(x.entry_id)),
    ),
    "rejected time entry": (
        rejected_non_billable_entry,
        *delivered("add_time_entries", lambda d, x: d.time_entries_for([x.obligation_id])[0]),
    ),
    "expense": (travel_expense, *delivered("add_expenses", lambda d, x: d.expense(x.expense_id))),
}


@pytest.mark.parametrize("name", AGGREGATES)
def test_every_aggregate_round_trips_field_by_field(database: Database, name: str) -> None:
    build, put, get = AGGREGATES[name]
    original = build()
    with uow(database) as u:
        put(u, original)
        u.commit()
    with uow(database) as u:
        restored = get(u, original)
    assert_same(original, restored)


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    yield seen
    event.remove(database.engine, "before_cursor_execute", record)


@pytest.mark.parametrize("name", AGGREGATES)
def test_reading_an_aggregate_without_changing_it_writes_nothing(
    database: Database, name: str, statements: list[str]
) -> None:
    build, put, get = AGGREGATES[name]
    original = build()
    with uow(database) as u:
        put(u, original)
        u.commit()
    statements.clear()
    with uow(database) as u:
        get(u, original)
        u.commit()
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []


def test_the_same_id_gives_the_same_object_within_a_unit_of_work(database: Database) -> None:
    contract = hybrid_contract()
    with uow(database) as u:
        u.contracts.add(contract)
        assert u.contracts.get(contract.contract_id) is contract
        assert u.contracts.all() == [contract]
        u.commit()
    with uow(database) as u:
        first = u.contracts.get(contract.contract_id)
        assert u.contracts.find(contract.contract_id) is first
        assert u.contracts.all() == [first]
        entry = held_time_entry()
        u.delivery.add_time_entries([entry])
        assert u.delivery.time_entry(entry.entry_id) is entry
        assert u.delivery.time_entries_for([entry.obligation_id]) == [entry]


def test_adding_an_existing_id_is_a_conflict_and_a_missing_one_is_not_found(
    database: Database,
) -> None:
    with uow(database) as u:
        u.contracts.add(hybrid_contract())
        with pytest.raises(ConflictError):
            u.contracts.add(hybrid_contract())
        u.commit()
    with uow(database) as u:
        u.contracts.add(hybrid_contract())  # the primary key refuses it when the commit flushes
        with pytest.raises(ConflictError):
            u.commit()
    with uow(database) as u:
        with pytest.raises(NotFoundError):
            u.invoices.get("INV-404")
        with pytest.raises(NotFoundError):
            u.exceptions.get("EXC-404")
        assert u.engagements.find("E-404") is None
        u.delivery.add_time_entries([held_time_entry()])
        with pytest.raises(ConflictError):
            u.delivery.add_time_entries([held_time_entry()])


def test_queries_see_the_units_own_uncommitted_changes(database: Database) -> None:
    with uow(database) as u:
        u.exceptions.add(an_exception())
        u.commit()
    with uow(database) as u:
        (item,) = u.exceptions.open_for("invoice:INV-1")
        item.resolved("ops", AT)
        assert u.exceptions.open_for("invoice:INV-1") == []  # as the database will say
        other = an_exception()
        other.exception_id = "EXC-2"
        u.exceptions.add(other)
        assert u.exceptions.open_for("invoice:INV-1") == [other]  # not written yet
        u.commit()
    with uow(database) as u:
        assert [x.exception_id for x in u.exceptions.open_for("invoice:INV-1")] == ["EXC-2"]


def test_invoice_figures_come_from_the_database_as_the_invoices_would_give_them(
    database: Database,
) -> None:
    issued, _ = issued_invoice_and_memo()  # paid in part, credited in part
    draft = Invoice.draft(
        ids.InvoiceId("INV-2"), issued.customer_id, issued.contract_id, issued.legal_entity_id,
        issued.period, issued.lines, issued.totals, "billing-clerk", AT,
    )  # fmt: skip
    with uow(database) as u:
        u.invoices.add(issued)
        u.invoices.add(draft)
        u.commit()
    with uow(database) as u:
        figures = u.invoices.figures()  # read by the database, before any invoice is loaded
        assert figures == [invoice.figures for invoice in u.invoices.all()]
    paid, unpaid = figures
    assert (paid.number, paid.paid, paid.credited, paid.outstanding) == (
        "2026-0001", Money.of("500.00", "EUR"), issued.amount_credited, issued.outstanding,
    )  # fmt: skip
    assert paid.credited.is_positive()
    assert paid.outstanding.is_positive()
    assert (unpaid.state, unpaid.number, unpaid.paid) == (
        InvoiceState.DRAFT,
        None,
        Money.of(0, "EUR"),
    )
    with uow(database) as u:
        u.invoices.get("INV-2").approve("finance-lead", AT)
        assert [f.state for f in u.invoices.figures()] == [paid.state, InvoiceState.APPROVED]


def test_a_changed_aggregate_is_written_with_the_next_revision(database: Database) -> None:
    engagement = blocked_engagement()
    with uow(database) as u:
        u.engagements.add(engagement)
        u.commit()
    with uow(database) as u:
        loaded = u.engagements.get(engagement.engagement_id)
        revision = loaded.revision
        loaded.resume_provisioning(AT)
        u.commit()
    with uow(database) as u:
        again = u.engagements.get(engagement.engagement_id)
        row = u.connection.execute(sa.text("SELECT revision, state FROM engagements")).one()
    assert again.revision == revision + 1
    assert tuple(row) == (revision + 1, again.state.value)


def test_decimals_stay_exact_and_timestamps_come_back_aware_in_utc(database: Database) -> None:
    big = Decimal("123456789012345678.123456789")
    entry = TimeEntry.submit(
        "t-exact",  # type: ignore[arg-type]
        ids.ObligationId("tm"),
        "r1",  # type: ignore[arg-type]
        "consultant",  # type: ignore[arg-type]
        date(2026, 3, 2),
        Decimal("7.50"),
        cost_rate=big,
    )
    expense = ExpenseItem.submit(
        "x-fils",  # type: ignore[arg-type]
        ids.ObligationId("tm"),
        "r1",  # type: ignore[arg-type]
        "travel",
        date(2026, 3, 2),
        Money(Decimal("12.345"), Currency.of("BHD")),
    )
    created = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=CET)
    record = IdempotencyRecord("client", "k", "fp", IdempotencyStatus.IN_PROGRESS, created)
    with uow(database) as u:
        u.delivery.add_time_entries([entry])
        u.delivery.add_expenses([expense])
        u.idempotency.save(record)
        u.commit()
    with uow(database) as u:
        restored = u.delivery.time_entry("t-exact")
        restored_expense = u.delivery.expense("x-fils")
        key = u.idempotency.find("client", "k")
    assert restored is not None
    assert restored_expense is not None
    assert key is not None
    assert restored.hours.as_tuple() == Decimal("7.50").as_tuple()
    assert restored.cost_rate is not None
    assert restored.cost_rate.as_tuple() == big.as_tuple()
    assert restored_expense.cost == Money(Decimal("12.345"), Currency.of("BHD"))
    assert key.created_at == created
    assert key.created_at.utcoffset() == timedelta(0)


def test_the_billed_ledger_reads_back_every_field_of_every_entry_in_commit_order(
    database: Database,
) -> None:
    eur, jpy = Currency.of("EUR"), Currency.of("JPY")
    time = SourceRef(SourceKind.TIME_ENTRY, "T-1")
    entries = [
        LedgerEntry(
            "INV-1",
            ids.ObligationId("tm"),
            time,
            Decimal("7.25"),
            Money(Decimal("870.000001"), eur),
            "contract v1, rate card RC v1",
        ),
        LedgerEntry(
            "INV-2",
            ids.ObligationId("fee"),
            SourceRef(SourceKind.INSTALLMENT, "I-1"),
            Decimal(1),
            Money(Decimal(5000), jpy),
            "contract v2",
            payer=ids.CustomerId("payer-b"),
        ),
        LedgerEntry(
            "CN-1",
            ids.ObligationId("tm"),
            time,
            Decimal("-1.25"),
            Money(Decimal("-150"), eur),
            "write-off",
            write_off=True,
        ),
        LedgerEntry(
            "CN-2",
            ids.ObligationId("tm"),
            time,
            Decimal(0),
            Money(Decimal("-10.50"), eur),
            "concession",
            credit=True,
        ),
    ]
    with uow(database) as u:
        u.ledger.add_all({ids.ContractId("C1"): entries[:1], ids.ContractId("C2"): entries[1:2]})
        u.ledger.add(ids.ContractId("C1"), entries[2:])
        u.commit()
    with uow(database) as u:
        loaded = u.ledger.load([ids.ContractId("C2"), ids.ContractId("C1")])
    assert loaded.entries == tuple(entries)
    assert [type(e.quantity) for e in loaded.entries] == [Decimal] * 4
    assert loaded.billed_quantity(time) == Decimal("6.00")


def test_the_ledger_journal_master_data_and_sequences_round_trip(database: Database) -> None:
    invoice, memo = issued_invoice_and_memo()
    eur = Currency.of("EUR")
    journal = JournalEntry.balanced(
        "JE-1",
        date(2026, 3, 31),
        "invoice 2026-0001",
        [
            JournalLine.debiting(Account.RECEIVABLES, Money(Decimal("1440.00"), eur)),
            JournalLine.crediting(
                Account.REVENUE, Money(Decimal("1200.00"), eur), ids.ObligationId("tm"), "fees"
            ),
            JournalLine.crediting(Account.TAX_PAYABLE, Money(Decimal("240.00"), eur)),
        ],
        "2026-0001",
    )
    profile = TaxProfile(ids.CustomerId("acme"), ids.LegalEntityId("tl-uk"), "VAT20", True, "note")
    rates = TaxRateTable((TaxRate("VAT20", date(2020, 1, 1), Decimal("0.20")),))
    entries: list[LedgerEntry] = [*invoice.ledger_entries(), *memo.ledger_entries()]
    with uow(database) as u:
        u.ledger.add(ids.ContractId("C1"), entries)
        u.ledger.add(ids.ContractId("C2"), invoice.ledger_entries())
        u.journal.add(journal)
        u.master_data.save_tax_profile(profile)
        u.master_data.save_tax_rates(rates)
        numbers = [u.sequences.next_number("invoice", date(2026, 3, 31)) for _ in range(2)]
        numbers.append(u.sequences.next_number("credit_memo", date(2027, 1, 2)))
        u.commit()
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "CN-2027-000001"]
    with uow(database) as u:
        assert u.ledger.load([ids.ContractId("C1")]).entries == tuple(entries)
        u.ledger.remove_document(invoice.invoice_id)
        assert u.ledger.load([ids.ContractId("C1"), ids.ContractId("C2")]).entries == tuple(
            memo.ledger_entries()
        )
        assert u.journal.all() == [journal]
        assert u.master_data.tax_profile("acme", "tl-uk") == profile
        assert u.master_data.tax_profiles() == {
            (profile.customer_id, profile.legal_entity_id): profile
        }
        assert u.master_data.tax_rates() == rates
        assert u.sequences.next_number("invoice", date(2026, 4, 1)) == "INV-2026-000003"
        # rolled back: the number is given back, so the series stays gap-free
    with uow(database) as u:
        assert u.sequences.next_number("invoice", date(2026, 4, 1)) == "INV-2026-000003"


def test_audit_records_chain_across_units_of_work(database: Database) -> None:
    for n in range(3):
        with uow(database) as u:
            for action in ("a", "b"):
                record_transition(
                    u.audit,
                    at=datetime(2026, 3, 1, 10, n, tzinfo=CET),
                    actor="tester",
                    correlation_id="corr",
                    subject=f"thing:{n}",
                    action=action,
                    before=None,
                    after=action,
                )
            u.commit()
    with uow(database) as u:
        records = u.audit.all()
        last = u.audit.last()
    assert [r.sequence for r in records] == [1, 2, 3, 4, 5, 6]
    assert last == records[-1]
    assert verify_chain(records).intact


def test_events_of_committed_aggregates_reach_the_outbox_with_the_correlation_id(
    database: Database,
) -> None:
    engagement = closing_engagement()
    expected = [type(e).__name__ for e in engagement.events]
    with uow(database) as u:
        u.engagements.add(engagement)
        u.commit()
        assert [type(e).__name__ for e in u.collect_events()] == expected
    with uow(database) as u:
        pending = u.outbox.pending(100)
    assert [e.event_type for e in pending] == expected
    assert {(e.aggregate_type, e.aggregate_id) for e in pending} == {("Engagement", "EG-1")}
    assert {e.correlation_id for e in pending} == {"corr-repo"}
    assert {e.state for e in pending} == {DeliveryState.PENDING}
    assert all(isinstance(e.payload, dict) and e.payload for e in pending)
    assert pending[0].occurred_at == AT
    assert engagement.events == []  # drained once


def test_a_read_only_unit_of_work_cannot_commit(database: Database) -> None:
    with database.unit_of_work(CTX, now, read_only=True) as u:
        assert u.contracts.all() == []
        with pytest.raises(ReadOnlyUnitOfWorkError):
            u.commit()
