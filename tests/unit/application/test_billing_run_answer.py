"""What a committed billing run answers (ADR 0060, amendment): it names the drafts it stored
and reads them back as its proposal when asked, instead of carrying every allocation of the
run; what it shows is exactly what its preview proposed, and a fingerprint checked chunk by
chunk is the fingerprint of the whole proposal."""

from __future__ import annotations

import attrs
import pytest

from application import commands as c
from application.billing_drafts import ProposalDigest
from application.handlers import billing_run
from application.handlers.billing_run import fingerprint
from domain.billing_run import BillingProposal
from tests.unit.application.conftest import App
from tests.unit.application.test_billing_run_chunks import MARCH, five_contracts


def test_a_committed_run_names_its_drafts_and_shows_them_as_its_preview_proposed(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    five_contracts(app)
    preview = app.do(c.RunBilling(MARCH), actor="billing-clerk")
    monkeypatch.setattr(billing_run, "CHUNK_CONTRACTS", 2)
    result = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    assert result.stored is not None
    keys = [x.key for x in preview.proposal.invoices]
    assert result.stored.invoices == tuple(zip(result.invoice_ids, keys, strict=True))
    assert result.stored.adjustments == ()
    assert result.fingerprint == ""  # no fingerprint was given to check
    shown = result.proposal
    assert shown == preview.proposal
    assert fingerprint(shown) == preview.fingerprint
    assert [x.obligation_id for x in shown.exclusions] == ["tm"]  # kept by the run itself


def test_a_committed_run_shows_its_drafts_as_they_are_stored(app: App) -> None:
    five_contracts(app)
    result = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    with app.bus.deps.uow(app.as_("reader"), read_only=True) as uow:
        drafts = [uow.invoices.get(i) for i in result.invoice_ids]
    shown = result.proposal.invoices
    assert [(x.contract_id, x.lines, x.totals) for x in shown] == [
        (d.contract_id, d.lines, d.totals) for d in drafts
    ]


@pytest.mark.parametrize("invoices", [0, 1, 2, 5], ids=lambda n: f"{n} invoices")
@pytest.mark.parametrize("chunk", [1, 2, 5], ids=lambda n: f"chunks of {n}")
def test_a_proposal_digested_as_its_invoices_go_by_has_the_fingerprint_of_the_whole(
    app: App, invoices: int, chunk: int
) -> None:
    five_contracts(app)
    whole = app.do(c.RunBilling(MARCH), actor="billing-clerk").proposal
    whole = attrs.evolve(whole, invoices=whole.invoices[:invoices])
    assert whole.exclusions  # what comes after the invoices is digested too
    rest = attrs.evolve(whole, invoices=())
    digest = ProposalDigest(BillingProposal(MARCH))
    for start in range(0, max(invoices, 1), chunk):
        digest.add(whole.invoices[start : start + chunk])
    assert digest.hexdigest(rest) == fingerprint(whole)
