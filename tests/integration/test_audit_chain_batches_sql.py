"""The audit chain appended a batch at a time (ADR 0060, amendment "memory held to the
commit"): a unit of work that writes out as it goes puts its audit records into the
transaction at each `write_out` (SQLite appends them to the chain, PostgreSQL stages them for
the commit's append), and the chain it leaves is, row for row and hash for hash, the one the
same records chained at once give; a transaction rolled back after staging leaves nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.sqlalchemy.audit_chain import _Chain
from adapters.sqlalchemy.audit_log import STAGED_FROM
from adapters.sqlalchemy.queries.operations import SqlAlchemyOperationsQueries
from application import audit
from application import commands as c
from application.audit import digest_of, record_transition, verify_chain
from application.audit_trail import AuditEntry, Change
from application.handlers import billing_run
from application.records import AuditRecord
from tests.integration.support import SqlApp
from tests.integration.test_audit_chain_sql import _AWKWARD, _Stated
from tests.unit.application.conftest import App, start_clock, wire
from tests.unit.application.test_billing_run_chunks import MARCH, five_contracts

#: Ten records, some of awkward text, stated in batches of 1, 4 and 5 between write-outs.
_ENTRIES = [
    *_AWKWARD,
    *(AuditEntry(f"item:t{n}", "hold", "open", "held", f"{n}.5 h") for n in range(7)),
]
_BATCHES = ((0, 1), (1, 5), (5, 10))


def _rows(records: list[AuditRecord]) -> list[tuple[object, ...]]:
    """Everything a record stores, its time as the database gives it back."""
    return [
        (r.sequence, r.at.astimezone(UTC), r.actor, r.correlation_id, r.subject, r.action,
         r.before, r.after, r.reason, r.previous_hash, r.hash)
        for r in records
    ]  # fmt: skip


def _chained_at_once(
    tail: AuditRecord | None, at: datetime, actor: str, entries: list[AuditEntry] = _ENTRIES
) -> list[AuditRecord]:
    """The entries' records chained onto `tail` in one go, as a commit chains them."""
    chain = _Chain(tail)
    for e in entries:
        record_transition(
            chain, at=at, actor=actor, correlation_id="corr-1", subject=e.subject,
            action=e.action, before=e.before, after=e.after, reason=e.reason,
        )  # fmt: skip
    return chain.records


def _state_in_batches(app: SqlApp, *, commit: bool) -> None:
    with app.bus.deps.uow(app.as_("fran")) as uow:
        for first, last in _BATCHES:
            for entry in _ENTRIES[first:last]:
                uow.record(_Stated(entry))
            uow.write_out()
        if commit:
            uow.commit()


def test_records_written_out_in_batches_chain_as_the_same_records_chained_at_once(
    app: SqlApp,
) -> None:
    _state_in_batches(app, commit=True)  # the chain has a tail before the records compared
    tail = app.data.audit[-1]
    _state_in_batches(app, commit=False)  # staged or appended, then rolled back: nothing kept
    assert app.data.audit[-1] == tail
    _state_in_batches(app, commit=True)
    written = app.data.audit[tail.sequence :]
    expected = _chained_at_once(tail, app.clock.now(), "fran")
    assert _rows(written) == _rows(expected)
    assert SqlAlchemyOperationsQueries(app.database.engine).audit_trail().intact


class _HeldToTheCommit(InMemoryUnitOfWork):
    """The unit of work as it was before the records went out with each `write_out`: every
    change stated with `record` held to the commit and chained there, after all events."""

    def __enter__(self) -> Self:
        self._held: list[Change] = []
        return super().__enter__()

    def record(self, change: Change) -> None:
        self._held.append(change)

    def commit(self) -> None:
        for change in self._held:
            super().record(change)
        self._held.clear()
        super().commit()


def _held_to_the_commit() -> App:
    store, clock = InMemoryStore(), start_clock()
    return wire(
        store,
        lambda ctx, read_only=False: _HeldToTheCommit(store, ctx, clock.now, read_only=read_only),
        clock,
    )


def test_a_chunked_run_leaves_the_chain_it_left_when_its_records_waited_for_the_commit(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_once = _held_to_the_commit()  # the same story on the same fake clock, ids and actors
    for each in (app, at_once):
        five_contracts(each)
    monkeypatch.setattr(billing_run, "CHUNK_CONTRACTS", 2)
    run = c.RunBilling(MARCH, dry_run=False)
    chunked, whole = app.do(run, actor="billing-clerk"), at_once.do(run, actor="billing-clerk")
    assert chunked.invoice_ids == whole.invoice_ids
    assert _rows(app.data.audit) == _rows(at_once.data.audit)
    subjects = [r.subject for r in at_once.data.audit]
    assert {"invoice:INV-000005", "item:t2", "billing_run:2026-03"} <= set(subjects)
    assert SqlAlchemyOperationsQueries(app.database.engine).audit_trail().intact


def test_each_record_of_a_commit_is_hashed_once(
    app: SqlApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []

    def counted(previous_hash: str, canonical: str) -> str:
        hashed.append(canonical)
        return digest_of(previous_hash, canonical)

    monkeypatch.setattr(audit, "digest_of", counted)
    with app.bus.deps.uow(app.as_("fran")) as uow:
        for entry in _ENTRIES:
            uow.record(_Stated(entry))
        uow.commit()
    assert len(hashed) == len(_ENTRIES)
    assert verify_chain(app.data.audit).intact


def test_a_commit_of_many_records_chains_them_as_a_commit_of_few(app: SqlApp) -> None:
    """On PostgreSQL, a commit of `STAGED_FROM` records or more stages them before the
    chain's lock; the chain is the same."""
    entries = [AuditEntry(f"item:t{n}", "hold", "open", "held", f"{n} h") for n in range(70)]
    assert len(entries) >= STAGED_FROM
    tail = app.data.audit[-1] if app.data.audit else None
    with app.bus.deps.uow(app.as_("fran")) as uow:
        for entry in entries:
            uow.record(_Stated(entry))
        uow.commit()
    written = app.data.audit[tail.sequence if tail else 0 :]
    assert _rows(written) == _rows(_chained_at_once(tail, app.clock.now(), "fran", entries))
    assert SqlAlchemyOperationsQueries(app.database.engine).audit_trail().intact
