"""A billing run goes a chunk of contracts at a time (ADR 0060): each chunk is written into the
run's one transaction and let go before the next is read. Whatever the chunk size, a run
proposes, stores and audits what a run in one piece does, and a refused commit stores nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application import commands as c
from application.billing_marks import obligations_of
from application.errors import ConflictError
from application.handlers import billing_run
from domain.errors import PeriodClosedError
from domain.ids import ContractId, EngagementId, ObligationId, RateCardId
from domain.overage import OveragePolicy
from domain.period import Period
from domain.time_and_materials import NotToExceed, TimeAndMaterialsTerms
from tests.unit.application.conftest import EUR, App, set_up_tm_contract, sign_contract, time_entry

MARCH = Period.month(2026, 3)


def five_contracts(app: App) -> None:
    """C1 holds hours over its cap; C2 to C5 bill their hours in full."""
    set_up_tm_contract(app, cap=NotToExceed(hours=Decimal("10"), policy=OveragePolicy.HOLD))
    entries = [time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4")]
    for n in range(2, 6):
        obligation = ObligationId(f"tm{n}")
        terms = TimeAndMaterialsTerms(obligation, "Advisory", EUR, RateCardId("RC"))
        sign_contract(app, f"E{n}", f"C{n}", f"Deal {n}", [terms])
        entries += [
            time_entry(f"t{n}-{k}", date(2026, 3, k), f"{k}.25", obligation_id=obligation,
                       engagement_id=EngagementId(f"E{n}"))
            for k in range(2, 5)
        ]  # fmt: skip
    app.do(c.RecordTimeEntries(tuple(entries)))


def stored(app: App) -> dict[str, Any]:
    """What the store holds of billing: drafts, ledger rows, audit subjects, outbox events,
    and the obligations a committed run of March left settled (ADR 0048)."""
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        contracts = [ContractId(f"C{n}") for n in range(1, 6)]
        obligations = obligations_of(uow.contracts.all())
        return {
            "settled": sorted(uow.billing_marks.observe(MARCH, obligations).settled),
            "invoices": sorted((i.invoice_id, i.contract_id) for i in uow.invoices.all()),
            "ledger": len(uow.ledger.load(contracts).entries),
            "audit": sorted(r.subject for r in uow.audit.all()),
            "outbox": sorted(e.aggregate_id for e in uow.outbox.pending(1_000)),
        }


def test_a_run_in_chunks_stores_what_a_run_in_one_piece_proposes(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    five_contracts(app)
    preview = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    before = stored(app)
    monkeypatch.setattr(billing_run, "CHUNK_CONTRACTS", 2)
    checked = c.RunBilling(MARCH, dry_run=False, expected_fingerprint=preview.fingerprint)
    result = app.do(checked, actor="billing-clerk")
    assert (result.proposal, result.diff) == (preview.proposal, preview.diff)
    assert len(result.invoice_ids) == 5
    after = stored(app)
    assert after["invoices"] == sorted(
        zip(result.invoice_ids, [f"C{n}" for n in range(1, 6)], strict=True)
    )
    allocations = [
        a for i in preview.proposal.invoices for line in i.lines for a in line.allocations
    ]
    assert after["ledger"] == len(allocations) == 14
    drafted = sorted(f"invoice:{i}" for i in result.invoice_ids)
    assert [s for s in after["audit"] if s.startswith("invoice:")] == drafted
    assert "item:t2" in after["audit"]  # the two hours over C1's cap are held, and audited
    assert len(after["outbox"]) > len(before["outbox"])
    assert set(result.invoice_ids) <= set(after["outbox"])
    # Each chunk marks what it settles: all but C1, whose hours over the cap are held.
    assert before["settled"] == []
    assert after["settled"] == ["tm2", "tm3", "tm4", "tm5"]
    assert app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal.is_empty


def test_a_chunked_commit_whose_proposal_changed_since_its_preview_stores_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    five_contracts(app)
    before = stored(app)
    monkeypatch.setattr(billing_run, "CHUNK_CONTRACTS", 1)
    stale = c.RunBilling(MARCH, dry_run=False, expected_fingerprint="0" * 64)
    with pytest.raises(ConflictError):
        app.do(stale, actor="billing-clerk")
    assert stored(app) == before


def test_a_closed_period_refuses_a_chunked_commit_and_nothing_is_stored(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    five_contracts(app)
    app.clock.advance(days=31)  # April: March has ended and can be closed
    app.do(c.ClosePeriod(MARCH), actor="controller")
    before = stored(app)
    monkeypatch.setattr(billing_run, "CHUNK_CONTRACTS", 2)
    with pytest.raises(PeriodClosedError):
        app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    assert stored(app) == before
