"""Disputes and credits: a dispute ends only explicitly, and the invoice's state and dispute
fields always agree.

A credit memo on a disputed invoice resolves the dispute only when it says so
(`resolves_dispute`), its reason then recorded as the resolution; any other credit leaves the
dispute open (and `resolve_dispute` still works after it), unless it leaves nothing to collect.
The domain half builds invoices by hand (tests/unit/test_invoice_lifecycle.py); the application
half runs the handlers on the in-memory adapters and looks at the audit trail and what the CRM
and the project are told.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from adapters.serialization import CONVERTER
from application import commands as c
from domain.billing import SourceKind, SourceRef
from domain.credit_memo import CreditMemo, CreditMemoState, CreditRequest
from domain.dispute import Dispute, NoOpenDisputeError
from domain.errors import DomainError, IllegalTransitionError
from domain.ids import CreditMemoId, InvoiceId
from domain.invoice import DisputeResolved, Invoice, InvoiceCredited, InvoiceState
from tests.unit.application.conftest import App, in_memory_app
from tests.unit.application.test_billing_and_closure import billed_month
from tests.unit.test_invoice_lifecycle import (
    AT,
    CHECKER,
    ISSUE_DATE,
    MAKER,
    OPEN,
    TE_1,
    TE_2,
    eur,
    everything_left,
    issued,
    pay,
)

S = InvoiceState
_numbers = iter(range(1, 100_000))


def draft(invoice: Invoice, requests: list[CreditRequest], resolves: bool = False) -> CreditMemo:
    n = next(_numbers)
    return CreditMemo.against(
        CreditMemoId(f"CM-{n}"), invoice, requests, f"credit {n}", MAKER, resolves_dispute=resolves
    )


def issue(invoice: Invoice, memo: CreditMemo) -> CreditMemo:
    if memo.state is CreditMemoState.DRAFT:
        memo.approve(CHECKER, AT)
    memo.issue(invoice, f"CN-{memo.credit_memo_id}", ISSUE_DATE, AT, OPEN)
    return memo


def disputed(reason: str = "4 h not delivered") -> Invoice:
    invoice = issued()
    invoice.open_dispute(reason, AT)
    return invoice


def state_and_dispute_fields_agree(invoice: Invoice) -> None:
    """The rule the issue asks for: a current reason exactly while disputed; one open dispute
    at most, the last; every ended one with its resolution."""
    still_open = [d for d in invoice.disputes if d.is_open]
    if invoice.state is S.DISPUTED:
        assert still_open == [invoice.disputes[-1]]
        assert invoice.dispute_reason == invoice.disputes[-1].reason
    else:
        assert still_open == []
        assert invoice.dispute_reason is None
    assert all(d.resolution and d.resolved_at for d in invoice.disputes if not d.is_open)


# The domain ----------------------------------------------------------------------------------


def test_a_partial_credit_on_a_disputed_invoice_leaves_the_dispute_open() -> None:
    invoice = disputed()
    memo = issue(invoice, draft(invoice, [CreditRequest(1, TE_2)]))
    # 4 h x 150.00 + 20 % VAT = 720.00 credited; the client still disputes the rest
    assert memo.totals.gross == eur("720.00")
    assert (invoice.state, invoice.dispute_reason) == (S.DISPUTED, "4 h not delivered")
    assert invoice.outstanding == eur("1368.00")
    assert not any(isinstance(e, DisputeResolved) for e in invoice.events)
    # the dispute is then resolved explicitly: the reason moves to the history
    invoice.resolve_dispute("the rest confirmed by the SOW", AT)
    assert (invoice.state, invoice.dispute_reason) == (S.ISSUED, None)
    assert invoice.disputes == (
        Dispute("4 h not delivered", AT, "the rest confirmed by the SOW", AT, None),
    )
    state_and_dispute_fields_agree(invoice)


def test_a_credit_that_says_it_resolves_the_dispute_resolves_it_with_its_reason() -> None:
    invoice = disputed()
    memo = draft(invoice, [CreditRequest(1, TE_2)], resolves=True)
    assert invoice.state is S.DISPUTED  # drafting resolves nothing yet
    issue(invoice, memo)
    assert (invoice.state, invoice.dispute_reason) == (S.ISSUED, None)
    (ended,) = invoice.disputes
    assert (ended.reason, ended.resolution, ended.credit_memo_id) == (
        "4 h not delivered",
        memo.reason,
        memo.credit_memo_id,
    )
    assert invoice.events[-2:] == [
        InvoiceCredited(invoice.invoice_id, AT, memo.credit_memo_id, eur("720.00")),
        DisputeResolved(invoice.invoice_id, AT, memo.reason, memo.credit_memo_id),
    ]


def test_a_resolving_credit_after_a_part_payment_returns_the_invoice_to_partially_paid() -> None:
    invoice = issued()
    pay(invoice, "1000.00")
    invoice.open_dispute("rate above the contract", AT)
    issue(invoice, draft(invoice, [CreditRequest(1, TE_2)], resolves=True))
    assert invoice.state is S.PARTIALLY_PAID
    assert invoice.outstanding == eur("368.00")  # 2,088.00 - 1,000.00 - 720.00
    state_and_dispute_fields_agree(invoice)


def test_a_credit_in_full_ends_the_dispute_and_says_so() -> None:
    invoice = disputed()
    memo = issue(invoice, draft(invoice, everything_left(invoice)))
    assert (invoice.state, invoice.dispute_reason) == (S.CREDITED, None)
    (ended,) = invoice.disputes
    assert ended.resolution == f"credited in full by credit memo {memo.credit_memo_id}"
    assert ended.credit_memo_id == memo.credit_memo_id
    assert isinstance(invoice.events[-1], DisputeResolved)


def test_a_credit_cannot_resolve_a_dispute_the_invoice_does_not_have() -> None:
    invoice = issued()
    with pytest.raises(NoOpenDisputeError, match="does not have"):
        draft(invoice, [CreditRequest(1, TE_2)], resolves=True)
    assert invoice.credit_reservations == {}  # refused before it reserved anything


def test_a_resolving_credit_is_refused_at_issue_when_the_dispute_was_resolved_meanwhile() -> None:
    invoice = disputed()
    memo = draft(invoice, [CreditRequest(1, TE_1)], resolves=True)
    memo.approve(CHECKER, AT)
    invoice.resolve_dispute("settled by phone", AT)
    before = copy.deepcopy((invoice, memo))
    with pytest.raises(NoOpenDisputeError):
        memo.issue(invoice, "CN-LATE", ISSUE_DATE, AT, OPEN)
    # nothing changed: the credit can be discarded and drafted again without the flag
    assert (invoice.state, invoice.amount_credited, invoice.disputes) == (
        before[0].state,
        before[0].amount_credited,
        before[0].disputes,
    )
    assert (memo.state, memo.number) == (CreditMemoState.APPROVED, None)


def test_only_an_open_dispute_is_resolved_and_only_with_a_resolution() -> None:
    invoice = issued()
    with pytest.raises(NoOpenDisputeError) as refused:
        invoice.resolve_dispute("nothing to resolve", AT)
    assert isinstance(refused.value, IllegalTransitionError)  # answered 409 invalid-state
    invoice.open_dispute("rate above the contract", AT)
    revision = invoice.revision
    with pytest.raises(DomainError, match="resolution"):
        invoice.resolve_dispute("", AT)
    assert (invoice.state, invoice.revision) == (S.DISPUTED, revision)


def test_an_invoice_keeps_every_dispute_it_had_as_history() -> None:
    invoice = disputed("rate above the contract")
    invoice.resolve_dispute("rate confirmed by the SOW", AT)
    invoice.open_dispute("travel not agreed", AT)
    assert invoice.dispute_reason == "travel not agreed"
    assert [(d.reason, d.resolution) for d in invoice.disputes] == [
        ("rate above the contract", "rate confirmed by the SOW"),
        ("travel not agreed", None),
    ]
    state_and_dispute_fields_agree(invoice)


def test_the_dispute_history_survives_the_converter_that_stores_it() -> None:
    invoice = disputed()
    issue(invoice, draft(invoice, [CreditRequest(1, TE_2)], resolves=True))
    invoice.open_dispute("travel not agreed", AT)
    memo = draft(invoice, [CreditRequest(1, TE_1)], resolves=True)
    stored = CONVERTER.structure(CONVERTER.unstructure(invoice), Invoice)
    assert stored.disputes == invoice.disputes
    assert (stored.state, stored.dispute_reason) == (S.DISPUTED, "travel not agreed")
    again = CONVERTER.structure(CONVERTER.unstructure(memo), CreditMemo)
    assert again.resolves_dispute is True


# A table of sequences: after each, the state and the dispute fields agree ------------------

Step = Callable[[Invoice], object]


def dispute(reason: str) -> Step:
    return lambda i: i.open_dispute(reason, AT)


def resolve(text: str) -> Step:
    return lambda i: i.resolve_dispute(text, AT)


def credit_part(resolves: bool = False) -> Step:
    return lambda i: issue(i, draft(i, [CreditRequest(1, TE_2)], resolves))


def credit_rest(resolves: bool = False) -> Step:
    return lambda i: issue(i, draft(i, everything_left(i), resolves))


def paid(amount: str) -> Step:
    return lambda i: pay(i, amount)


#: steps -> (state, current reason, [(reason, resolution, resolved by a credit?)])
SEQUENCES: dict[str, tuple[list[Step], tuple[InvoiceState, str | None, list[Any]]]] = {
    "a silent partial credit leaves it open": (
        [dispute("r1"), credit_part()],
        (S.DISPUTED, "r1", [("r1", None, False)]),
    ),
    "resolved after a silent partial credit": (
        [dispute("r1"), credit_part(), resolve("upheld")],
        (S.ISSUED, None, [("r1", "upheld", False)]),
    ),
    "a resolving partial credit": (
        [dispute("r1"), credit_part(resolves=True)],
        (S.ISSUED, None, [("r1", "credit", True)]),
    ),
    "a resolving partial credit after a payment": (
        [paid("100.00"), dispute("r1"), credit_part(resolves=True)],
        (S.PARTIALLY_PAID, None, [("r1", "credit", True)]),
    ),
    "a silent credit of everything": (
        [dispute("r1"), credit_rest()],
        (S.CREDITED, None, [("r1", "credited in full", True)]),
    ),
    "a resolving credit of everything": (
        [dispute("r1"), credit_rest(resolves=True)],
        (S.CREDITED, None, [("r1", "credit", True)]),
    ),
    "a silent part, then a resolving rest": (
        [dispute("r1"), credit_part(), credit_rest(resolves=True)],
        (S.CREDITED, None, [("r1", "credit", True)]),
    ),
    "a second dispute after the first was resolved by credit": (
        [dispute("r1"), credit_part(resolves=True), dispute("r2")],
        (S.DISPUTED, "r2", [("r1", "credit", True), ("r2", None, False)]),
    ),
    "a credit without a dispute": (
        [credit_part()],
        (S.ISSUED, None, []),
    ),
}


@pytest.mark.parametrize(("steps", "expected"), SEQUENCES.values(), ids=list(SEQUENCES))
def test_after_any_sequence_the_state_and_the_dispute_fields_agree(
    steps: list[Step], expected: tuple[InvoiceState, str | None, list[Any]]
) -> None:
    invoice = issued()
    for step in steps:
        step(invoice)
        state_and_dispute_fields_agree(invoice)
    state, reason, history = expected
    assert (invoice.state, invoice.dispute_reason) == (state, reason)
    found = [
        (d.reason, d.resolution, d.credit_memo_id is not None)
        for d in invoice.disputes  # resolutions by credit: the memo's reason or the full credit
    ]
    assert len(found) == len(history)
    for (reason_found, resolution, by_credit), (want, resolution_start, credit) in zip(
        found, history, strict=True
    ):
        assert (reason_found, by_credit) == (want, credit)
        if resolution_start is None:
            assert resolution is None
        else:
            assert resolution is not None
            assert resolution.startswith(resolution_start)


# The application: audited, and told to the CRM account and the project --------------------


@pytest.fixture
def app() -> App:
    return in_memory_app()


T2 = SourceRef(SourceKind.TIME_ENTRY, "t2")


def disputed_invoice(app: App) -> InvoiceId:
    invoice_id = billed_month(app)  # 12 h at 100.00, VAT 20 %
    app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    app.do(c.OpenDispute(invoice_id, "4 h not delivered"), actor="ar-clerk")
    return invoice_id


def issue_credit(app: App, invoice_id: InvoiceId, memo: str, resolves: bool) -> None:
    request = (c.CreditRequestInput(1, T2),)
    command = c.DraftCreditMemo(
        CreditMemoId(memo), invoice_id, request, "4 h credited", resolves_dispute=resolves
    )
    app.do(command, actor="ar-clerk")
    app.do(c.ApproveCreditMemo(CreditMemoId(memo)), actor="finance-lead")
    app.do(c.IssueCreditMemo(CreditMemoId(memo), date(2026, 4, 3)), actor="ar-clerk")


def stored(app: App, invoice_id: str) -> Invoice:
    found: Invoice = app.data.aggregates["invoice"][invoice_id]
    return found


def invoice_audit(app: App, invoice_id: str) -> list[tuple[str, str | None, str | None, str]]:
    return [
        (r.action, r.before, r.after, r.reason)
        for r in app.data.audit
        if r.subject == f"invoice:{invoice_id}"
    ]


def told(app: App) -> list[str]:
    return [kind for _, kind, _ in app.crm.updates.values()]


def test_a_resolving_credit_is_audited_on_the_invoice_and_told_to_the_crm_and_project(
    app: App,
) -> None:
    invoice_id = disputed_invoice(app)
    issue_credit(app, invoice_id, "CM-1", resolves=True)
    assert (stored(app, invoice_id).state, stored(app, invoice_id).dispute_reason) == (
        S.ISSUED,
        None,
    )
    assert invoice_audit(app, invoice_id)[-1] == (
        "resolve_dispute",
        "disputed",
        "issued",
        "credit memo CN-2026-000001: 4 h credited",
    )
    assert told(app)[-2:] == ["credit_memo_issued", "dispute_resolved"]
    resolved = [u for u in app.crm.updates.values() if u[1] == "dispute_resolved"]
    assert resolved[0][2]["resolution"] == "4 h credited"
    assert [r[1] for r in app.projects.reports.values()][-1] == "dispute_resolved"


def test_a_silent_credit_leaves_the_dispute_open_and_the_resolution_still_works(
    app: App,
) -> None:
    invoice_id = disputed_invoice(app)
    audited = len(invoice_audit(app, invoice_id))
    issue_credit(app, invoice_id, "CM-1", resolves=False)
    invoice = stored(app, invoice_id)
    assert (invoice.state, invoice.dispute_reason) == (S.DISPUTED, "4 h not delivered")
    assert len(invoice_audit(app, invoice_id)) == audited  # no invoice transition to audit
    assert "dispute_resolved" not in told(app)
    app.do(c.ResolveDispute(invoice_id, "the other 8 h stand"), actor="ar-clerk")
    invoice = stored(app, invoice_id)
    assert (invoice.state, invoice.dispute_reason) == (S.ISSUED, None)
    assert invoice.disputes[-1].resolution == "the other 8 h stand"
    assert told(app)[-1] == "dispute_resolved"


# Payments in whole minor units -------------------------------------------------------------


def test_a_payment_finer_than_the_currency_is_refused_by_the_invoice_itself() -> None:
    """Whatever way it arrives, a tenth of a cent never reaches the journal (issue 9)."""
    invoice = issued()
    with pytest.raises(DomainError, match=r"0\.001 EUR has more decimals than EUR has \(2\)"):
        pay(invoice, "0.001")
    assert (invoice.state, invoice.amount_paid) == (S.ISSUED, eur("0"))
    pay(invoice, "0.01")
    assert invoice.amount_paid == eur("0.01")


@pytest.mark.parametrize("words", ["", "  \t"], ids=["empty", "blank"])
def test_a_dispute_and_a_credit_are_never_without_words(words: str) -> None:
    """Opening or resolving a dispute and drafting a credit memo each state why: white space
    does not, and the invoice is left as it was."""
    with pytest.raises(DomainError, match="a dispute needs a reason"):
        Dispute.open(words, AT)
    with pytest.raises(DomainError, match="stated resolution"):
        Dispute.open("hours disputed", AT).resolved(words, AT)
    invoice = issued()
    with pytest.raises(DomainError, match="a credit memo needs a reason"):
        CreditMemo.against(CreditMemoId("CM-X"), invoice, [CreditRequest(1, TE_2)], words, MAKER)
    assert (invoice.state, invoice.disputes) == (S.ISSUED, ())
    # nothing was reserved: the whole invoice can still be credited
    whole = draft(invoice, everything_left(invoice))
    assert whole.totals.gross == invoice.totals.gross
