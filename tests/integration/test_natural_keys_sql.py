"""Natural keys on SQLite and PostgreSQL: the primary key of `natural_keys` is the constraint,
and parallel writers of one payment id apply it once, every other answer a replay (same
content) or a conflict (other content), never a 500 (ADR 0024).

PostgreSQL runs the writers side by side: the losers' inserts wait for the winner's
transaction, then find its row. SQLite runs them one at a time (BEGIN IMMEDIATE), so each
later writer reads the row the first committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from application import commands as c
from application.context import RequestContext
from application.errors import ConflictError
from application.natural_keys import (
    DISPUTE,
    PAYMENT,
    Admission,
    NaturalKeyConflictError,
    admit,
)
from domain.ids import InvoiceId, PaymentId
from domain.money import Money
from tests.integration.support import SqlApp
from tests.integration.test_concurrency import in_threads
from tests.unit.application.conftest import EUR
from tests.unit.application.test_natural_keys import RECEIVED, issued

WRITERS = 20


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def paid(app: SqlApp, invoice_id: InvoiceId) -> Money:
    found: Money = app.data.aggregates["invoice"][invoice_id].amount_paid
    return found


def payment_rows(app: SqlApp) -> list[dict[str, object]]:
    with app.database.engine.connect() as connection:
        rows = connection.execute(sa.select(t.natural_keys)).mappings()
        return [dict(row) for row in rows]


def payment(invoice_id: InvoiceId, amount: str, payment_id: str = "PAY-1") -> c.RecordPayment:
    return c.RecordPayment(invoice_id, PaymentId(payment_id), eur(amount), RECEIVED)


def writer(
    app: SqlApp, command: c.RecordPayment, n: int, start: threading.Barrier
) -> Callable[[], None]:
    def work() -> None:
        start.wait()
        app.bus.handle(command, RequestContext(f"erp-{n}", f"corr-{n}"))

    return work


def test_the_same_payment_twice_is_one_row_and_one_effect(app: SqlApp) -> None:
    invoice_id = issued(app)
    app.do(payment(invoice_id, "2.00"), actor="erp-connector")
    app.do(payment(invoice_id, "2.00"), actor="ar-clerk")
    assert paid(app, invoice_id) == eur("2.00")
    (row,) = payment_rows(app)
    assert (row["kind"], row["source"], row["key"], row["actor"]) == (
        "payment",
        "erp",
        "PAY-1",
        "erp-connector",
    )
    assert row["content"] == (
        f'{{"amount":"2.00","currency":"EUR","invoice_id":"{invoice_id}",'
        '"received_on":"2026-04-20"}'
    )
    assert row["recorded_at"] == app.clock.now()


def test_the_same_payment_id_with_another_amount_is_refused_naming_it(app: SqlApp) -> None:
    invoice_id = issued(app)
    app.do(payment(invoice_id, "2.00"))
    with pytest.raises(NaturalKeyConflictError) as conflict:
        app.do(payment(invoice_id, "20.00"))
    assert (conflict.value.field, conflict.value.recorded, conflict.value.received) == (
        "amount",
        "2.00",
        "20.00",
    )
    assert paid(app, invoice_id) == eur("2.00")


def test_the_database_refuses_a_second_row_for_one_key(app: SqlApp) -> None:
    """The constraint itself, not only the check in `record`."""
    row = {
        "kind": "payment",
        "source": "erp",
        "key": "PAY-1",
        "content": "{}",
        "recorded_at": app.clock.now(),
        "actor": "a",
        "correlation_id": "c",
    }
    with app.database.engine.begin() as connection:
        connection.execute(t.natural_keys.insert().values(row))
    with pytest.raises(sa.exc.IntegrityError), app.database.engine.begin() as connection:
        connection.execute(t.natural_keys.insert().values({**row, "actor": "b"}))


def test_a_refused_payment_rolls_its_key_back(app: SqlApp) -> None:
    invoice_id = issued(app)
    with pytest.raises(Exception, match="exceeds"):
        app.do(payment(invoice_id, "9999.00"))
    assert payment_rows(app) == []
    app.do(payment(invoice_id, "99.00"))
    assert paid(app, invoice_id) == eur("99.00")


def test_kinds_do_not_collide_on_one_id(app: SqlApp) -> None:
    ctx = RequestContext("tester", "corr")
    with app.bus.deps.uow(ctx) as uow:
        now = app.clock.now()
        assert admit(uow, PAYMENT.fact("X-1", amount=eur("1.00")), ctx, now) is Admission.NEW
        other = PAYMENT.fact("X-1", amount=eur("1.00"))
        assert admit(uow, other, ctx, now) is Admission.REPLAY  # its own uncommitted row
        disputed = DISPUTE.fact("X-1", reason="x")
        assert admit(uow, disputed, ctx, now) is Admission.NEW
        uow.commit()
    assert len(payment_rows(app)) == 2


def test_twenty_parallel_writers_of_one_payment_apply_it_once(app: SqlApp) -> None:
    invoice_id = issued(app)
    start = threading.Barrier(WRITERS, timeout=30)
    command = payment(invoice_id, "2.00")

    outcomes = in_threads(*(writer(app, command, n, start) for n in range(WRITERS)))

    assert outcomes == [None] * WRITERS  # every answer a success: one effect, the rest replays
    assert paid(app, invoice_id) == eur("2.00")
    assert len(payment_rows(app)) == 1
    assert sum(1 for r in app.data.audit if r.action == "record_payment") == 1
    assert sum(1 for e in app.data.outbox if e.event_type == "PaymentRecorded") == 1


def test_twenty_parallel_writers_with_different_amounts_one_applies_the_rest_conflict(
    app: SqlApp,
) -> None:
    invoice_id = issued(app)
    start = threading.Barrier(WRITERS, timeout=30)
    amounts = [f"{n + 1}.00" for n in range(WRITERS)]

    outcomes = in_threads(
        *(writer(app, payment(invoice_id, a), n, start) for n, a in enumerate(amounts))
    )

    applied = [amounts[n] for n, outcome in enumerate(outcomes) if outcome is None]
    assert len(applied) == 1
    conflicts = [o for o in outcomes if o is not None]
    assert all(isinstance(o, NaturalKeyConflictError) for o in conflicts), conflicts
    assert {o.field for o in conflicts if isinstance(o, NaturalKeyConflictError)} == {"amount"}
    assert paid(app, invoice_id) == eur(applied[0])
    (row,) = payment_rows(app)
    assert f'"amount":"{applied[0]}"' in str(row["content"])


def test_parallel_distinct_payments_are_each_applied_once(app: SqlApp) -> None:
    """Three payments, each sent by several writers at once: 1 + 1 + 3 is 5.00, whatever
    interleaving (a writer that meets another payment's change retries, as a client would)."""
    invoice_id = issued(app)
    commands = [
        payment(invoice_id, a, p) for p, a in (("P1", "1.00"), ("P2", "1.00"), ("P3", "3.00"))
    ]
    start = threading.Barrier(len(commands) * 3, timeout=30)

    def retried(command: c.RecordPayment, n: int) -> Callable[[], None]:
        def work() -> None:
            start.wait()
            for _ in range(WRITERS):
                try:
                    app.bus.handle(command, RequestContext(f"erp-{n}", f"corr-{n}"))
                    return
                except NaturalKeyConflictError:
                    raise
                except ConflictError:  # another payment changed the invoice first: again
                    continue
            raise AssertionError("never got through")

        return work

    outcomes = in_threads(*(retried(cmd, n) for n, cmd in enumerate(commands * 3)))

    assert outcomes == [None] * len(outcomes)
    assert paid(app, invoice_id) == eur("5.00")
    assert len(payment_rows(app)) == 3


def test_a_payment_is_the_same_whichever_day_it_is_read(app: SqlApp) -> None:
    """The stored content survives a round trip: a replay a day later is still a replay."""
    invoice_id = issued(app)
    app.do(payment(invoice_id, "2.00"))
    app.clock.advance(days=1)
    app.do(payment(invoice_id, "2"))
    assert paid(app, invoice_id) == eur("2.00")
