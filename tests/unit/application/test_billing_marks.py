"""A re-run of a committed period skips what the commit left settled (ADR 0048), and proposes
exactly what billing everything again would: any change to an obligation's inputs (new hours,
a discarded draft, a held quantity) has it billed in full again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from application import commands as c
from application.billing_marks import obligations_of
from domain.ids import InvoiceId, ObligationId
from domain.overage import OveragePolicy
from domain.period import Period
from domain.time_and_materials import NotToExceed
from tests.unit.application.conftest import App, set_up_tm_contract, time_entry

MARCH = Period.month(2026, 3)
APRIL = Period.month(2026, 4)


def settled_now(app: App, period: Period = MARCH) -> frozenset[ObligationId]:
    """What the store says a committed run of the period left settled, inputs unchanged."""
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        return uow.billing_marks.observe(period, obligations_of(uow.contracts.all())).settled


def forget(app: App, table: str, held: Callable[[], None]) -> None:
    """A table emptied as if never written (in memory, what `held` clears)."""
    database = getattr(app, "database", None)
    if database is None:
        held()
        return
    with database.engine.begin() as connection:
        connection.execute(sa.text(f"DELETE FROM {table}"))


def forget_marks(app: App) -> None:
    """As if no run had marked anything: the next run bills everything in full."""
    forget(app, "billing_marks", lambda: app.data.billing_marks.clear())


def committed_march(app: App) -> tuple[InvoiceId, ...]:
    set_up_tm_contract(app)
    entries = (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
    app.do(c.RecordTimeEntries(entries))
    result = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    return tuple(result.invoice_ids)


def test_a_commit_marks_the_obligation_it_billed_in_full_as_settled(app: App) -> None:
    committed_march(app)
    assert settled_now(app) == {ObligationId("tm")}
    assert settled_now(app, APRIL) == frozenset()  # a mark holds for its period only


def test_a_rerun_proposes_exactly_what_billing_everything_again_proposes(app: App) -> None:
    committed_march(app)
    skipped = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    forget_marks(app)
    in_full = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert skipped.proposal.is_empty
    assert (skipped.proposal, skipped.diff, skipped.fingerprint) == (
        in_full.proposal,
        in_full.diff,
        in_full.fingerprint,
    )


def test_hours_recorded_after_the_commit_are_billed_by_the_next_run(app: App) -> None:
    committed_march(app)
    app.do(c.RecordTimeEntries((time_entry("t3", date(2026, 3, 4), "2"),)))
    assert settled_now(app) == frozenset()
    (proposed,) = app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal.invoices
    assert [a.source.source_id for line in proposed.lines for a in line.allocations] == ["t3"]
    assert proposed.totals.net.amount == Decimal("200.00")


def test_a_discarded_draft_releases_its_hours_to_the_next_run(app: App) -> None:
    (invoice_id,) = committed_march(app)
    app.do(c.DiscardInvoice(invoice_id, "wrong customer"), actor="billing-clerk")
    assert settled_now(app) == frozenset()
    (proposed,) = app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal.invoices
    assert proposed.totals.net.amount == Decimal("1200.00")


def test_a_run_that_held_hours_over_a_cap_leaves_that_obligation_unmarked(app: App) -> None:
    set_up_tm_contract(app, cap=NotToExceed(hours=Decimal("10"), policy=OveragePolicy.HOLD))
    entries = (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
    app.do(c.RecordTimeEntries(entries))
    result = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    assert [x.quantity for x in result.proposal.exclusions] == [Decimal("2")]
    assert settled_now(app) == frozenset()
    assert app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal.is_empty


def forget_tax_profiles(app: App) -> None:
    """As if the ERP master had lost every customer's tax profile since the commit."""
    forget(app, "tax_profiles", lambda: app.data.tax_profiles.clear())


def test_a_settled_contract_is_still_reported_blocked_when_its_customer_lost_its_profile(
    app: App,
) -> None:
    """A contract left settled is checked from its outline (ADR 0060), as it was in full."""
    committed_march(app)
    assert settled_now(app) == {ObligationId("tm")}
    forget_tax_profiles(app)
    again = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    assert again.proposal.is_empty
    assert [(b.contract_id, b.reason) for b in again.proposal.blocked] == [
        ("C1", "missing_tax_profile")
    ]
    assert "customer acme has no tax profile" in again.proposal.blocked[0].detail
