"""The invoice lifecycle: the full state x trigger table, every entity method from every state,
and the business rules of approval, issue, payment, dispute, credit and discard."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.accounting_period import PeriodLock
from domain.billing import Allocation, LineKind, SourceKind, SourceRef
from domain.credit_memo import CreditMemo, CreditMemoState, CreditRequest
from domain.document import DocumentLine, DocumentTotals
from domain.errors import (
    CurrencyMismatchError,
    DomainError,
    IllegalTransitionError,
    MakerCheckerError,
    OverCreditError,
    PeriodClosedError,
)
from domain.ids import (
    CreditMemoId,
    InvoiceId,
    ObligationId,
    PaymentId,
)
from domain.invoice import (
    INVOICE_LIFECYCLE,
    DisputeResolved,
    Invoice,
    InvoiceApproved,
    InvoiceCredited,
    InvoiceDiscarded,
    InvoiceDisputed,
    InvoiceDrafted,
    InvoiceIssued,
    InvoiceState,
    InvoiceTrigger,
    OverpaymentError,
    PaymentRecorded,
)
from domain.invoice_lifecycle import DatedBeforeIssueError
from domain.money import Money
from tests.support.builders import EUR, MARCH
from tests.support.invoices import drafted_invoice

S = InvoiceState
T = InvoiceTrigger

AT = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
OPEN = PeriodLock()
MARCH_CLOSED = PeriodLock(frozenset({MARCH}))
ISSUE_DATE = date(2026, 4, 2)
MAKER, CHECKER = "maker@firm", "checker@firm"
VAT = {"VAT20": Decimal("0.20")}

# Written by hand from the domain guide, section 4: not derived from the table under test.
EXPECTED: dict[tuple[InvoiceState, InvoiceTrigger], InvoiceState] = {
    (S.DRAFT, T.APPROVE): S.APPROVED,
    (S.APPROVED, T.ISSUE): S.ISSUED,
    (S.ISSUED, T.PAY_PART): S.PARTIALLY_PAID,
    (S.PARTIALLY_PAID, T.PAY_PART): S.PARTIALLY_PAID,
    (S.ISSUED, T.PAY_IN_FULL): S.PAID,
    (S.PARTIALLY_PAID, T.PAY_IN_FULL): S.PAID,
    (S.ISSUED, T.DISPUTE): S.DISPUTED,
    (S.PARTIALLY_PAID, T.DISPUTE): S.DISPUTED,
    (S.DISPUTED, T.RESOLVE): S.ISSUED,
    (S.DISPUTED, T.RESOLVE_PART_PAID): S.PARTIALLY_PAID,
    (S.ISSUED, T.CREDIT_IN_FULL): S.CREDITED,
    (S.PARTIALLY_PAID, T.CREDIT_IN_FULL): S.CREDITED,
    (S.DISPUTED, T.CREDIT_IN_FULL): S.CREDITED,
    (S.DRAFT, T.DISCARD): S.DISCARDED,
    # ADR 0040: what is still owed is given up as uncollectable; a disputed invoice is
    # settled first.
    (S.ISSUED, T.WRITE_OFF): S.WRITTEN_OFF,
    (S.PARTIALLY_PAID, T.WRITE_OFF): S.WRITTEN_OFF,
}

# A small invoice, built by hand --------------------------------------------------------------
#
# Line 1: 10 h of consulting at 150.00, from two time entries (6 h and 4 h) = 1,500.00
# Line 2: one travel expense at cost                                         =   240.00
# Net 1,740.00; VAT 20 % 348.00; gross 2,088.00.

OBLIGATION = ObligationId("OB-TM")
TE_1 = SourceRef(SourceKind.TIME_ENTRY, "TE-1")
TE_2 = SourceRef(SourceKind.TIME_ENTRY, "TE-2")
EXP_1 = SourceRef(SourceKind.EXPENSE, "EXP-1")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def lines() -> tuple[DocumentLine, ...]:
    rate = eur("150.00")
    return (
        DocumentLine(
            1,
            OBLIGATION,
            LineKind.TIME,
            "Consulting, March 2026",
            Decimal("10"),
            rate,
            eur("1500.00"),
            "VAT20",
            (
                Allocation(TE_1, Decimal("6"), eur("900.00"), "contract v1"),
                Allocation(TE_2, Decimal("4"), eur("600.00"), "contract v1"),
            ),
            MARCH,
        ),
        DocumentLine(
            2,
            OBLIGATION,
            LineKind.EXPENSE,
            "Travel to the client",
            Decimal("240.00"),
            eur("1"),
            eur("240.00"),
            "VAT20",
            (Allocation(EXP_1, Decimal("240.00"), eur("240.00"), "contract v1"),),
            MARCH,
        ),
    )


GROSS = eur("2088.00")


def drafted() -> Invoice:
    invoice_lines = lines()
    return drafted_invoice(
        "INV-D1", invoice_lines, DocumentTotals.of(invoice_lines, EUR, VAT), MAKER, AT
    )


def issued() -> Invoice:
    invoice = drafted()
    invoice.approve(CHECKER, AT)
    invoice.issue("2026-0042", ISSUE_DATE, AT, OPEN)
    return invoice


_memo_numbers = iter(range(1, 10_000))


def credit(invoice: Invoice, requests: list[CreditRequest], write_off: bool = False) -> CreditMemo:
    """Draft, approve (by someone else) and issue a credit memo against the invoice."""
    n = next(_memo_numbers)
    memo = CreditMemo.against(
        CreditMemoId(f"CM-{n}"), invoice, requests, "client dispute settled", MAKER, write_off
    )
    memo.approve(CHECKER, AT)
    memo.issue(invoice, f"CN-{n}", ISSUE_DATE, AT, OPEN)
    return memo


def everything_left(invoice: Invoice) -> list[CreditRequest]:
    return [CreditRequest(line.line_no) for line in invoice.lines]


def pay(invoice: Invoice, amount: str) -> None:
    invoice.record_payment(PaymentId(f"PAY-{amount}"), eur(amount), ISSUE_DATE, AT, OPEN)


# The table (state by trigger, and the methods: tests/unit/test_lifecycle_tables.py) ---------


def test_paid_credited_discarded_and_written_off_invoices_allow_nothing() -> None:
    for state in (S.PAID, S.CREDITED, S.DISCARDED, S.WRITTEN_OFF):
        assert INVOICE_LIFECYCLE.allowed(state) == []


def test_the_table_starts_in_draft() -> None:
    assert INVOICE_LIFECYCLE.mermaid().splitlines()[1] == "    [*] --> draft"


# Every method from every situation ----------------------------------------------------------
#
# The trigger a method fires depends on the invoice (a payment of the whole outstanding is
# `pay_in_full`, resolving a dispute after a part payment is `resolve_part_paid`), so the
# entity matrix is by business situation and method.

SITUATIONS: dict[str, Callable[[], Invoice]] = {}


def situation(name: str) -> Callable[[Callable[[], Invoice]], Callable[[], Invoice]]:
    def register(build: Callable[[], Invoice]) -> Callable[[], Invoice]:
        SITUATIONS[name] = build
        return build

    return register


@situation("draft")
def _draft() -> Invoice:
    return drafted()


@situation("approved")
def _approved() -> Invoice:
    invoice = drafted()
    invoice.approve(CHECKER, AT)
    return invoice


@situation("issued")
def _issued() -> Invoice:
    return issued()


@situation("partially_paid")
def _partially_paid() -> Invoice:
    invoice = issued()
    pay(invoice, "1000.00")
    return invoice


@situation("paid")
def _paid() -> Invoice:
    invoice = issued()
    pay(invoice, "2088.00")
    return invoice


@situation("disputed")
def _disputed() -> Invoice:
    invoice = issued()
    invoice.open_dispute("rate above the contract", AT)
    return invoice


@situation("disputed_after_part_payment")
def _disputed_after_part_payment() -> Invoice:
    invoice = issued()
    pay(invoice, "1000.00")
    invoice.open_dispute("rate above the contract", AT)
    return invoice


@situation("credited")
def _credited() -> Invoice:
    invoice = issued()
    credit(invoice, everything_left(invoice))
    return invoice


@situation("discarded")
def _discarded() -> Invoice:
    invoice = drafted()
    invoice.discard("superseded by a corrected draft", AT)
    return invoice


METHODS: dict[str, Callable[[Invoice], object]] = {
    "approve": lambda i: i.approve(CHECKER, AT),
    "issue": lambda i: i.issue("2026-0043", ISSUE_DATE, AT, OPEN),
    "pay_part": lambda i: pay(i, "100.00"),
    "pay_in_full": lambda i: pay(i, str(i.outstanding.amount)),
    "open_dispute": lambda i: i.open_dispute("hours not delivered", AT),
    "resolve_dispute": lambda i: i.resolve_dispute("explained to the client", AT),
    "credit_in_full": lambda i: credit(i, everything_left(i)),
    "discard": lambda i: i.discard("wrong customer", AT),
}

# By hand, from the guide: draft → approved → issued → partially_paid → paid;
# issued/partially_paid → disputed → issued (partially_paid when money was received);
# issued/partially_paid/disputed → credited by a full credit; draft → discarded.
# Anything not listed is refused and changes nothing.
ENTITY_EXPECTED: dict[tuple[str, str], InvoiceState] = {
    ("draft", "approve"): S.APPROVED,
    ("draft", "discard"): S.DISCARDED,
    ("approved", "issue"): S.ISSUED,
    ("issued", "pay_part"): S.PARTIALLY_PAID,
    ("issued", "pay_in_full"): S.PAID,
    ("issued", "open_dispute"): S.DISPUTED,
    ("issued", "credit_in_full"): S.CREDITED,
    ("partially_paid", "pay_part"): S.PARTIALLY_PAID,
    ("partially_paid", "pay_in_full"): S.PAID,
    ("partially_paid", "open_dispute"): S.DISPUTED,
    ("partially_paid", "credit_in_full"): S.CREDITED,
    ("disputed", "resolve_dispute"): S.ISSUED,
    ("disputed", "credit_in_full"): S.CREDITED,
    ("disputed_after_part_payment", "resolve_dispute"): S.PARTIALLY_PAID,
    ("disputed_after_part_payment", "credit_in_full"): S.CREDITED,
    # A paid invoice stays paid when credited: the credit becomes a refund due (ADR 0012).
    ("paid", "credit_in_full"): S.PAID,
}

ENTITY_PAIRS = [(s, m) for s in SITUATIONS for m in METHODS]


def test_each_situation_is_the_state_it_is_named_after() -> None:
    for name, build in SITUATIONS.items():
        assert build().state.value == name.removesuffix("_after_part_payment")


def snapshot(invoice: Invoice) -> tuple[object, ...]:
    return (
        invoice.state,
        invoice.revision,
        invoice.amount_paid,
        invoice.amount_credited,
        invoice.number,
        invoice.approved_by,
        dict(invoice.credit_reservations),
        len(invoice.events),
    )


@pytest.mark.parametrize(("situation_name", "method"), ENTITY_PAIRS)
def test_each_method_moves_the_invoice_only_along_a_legal_transition(
    situation_name: str, method: str
) -> None:
    invoice = SITUATIONS[situation_name]()
    before = snapshot(invoice)
    revision, event_count = invoice.revision, len(invoice.events)
    expected = ENTITY_EXPECTED.get((situation_name, method))
    if expected is None:
        with pytest.raises(DomainError):
            METHODS[method](invoice)
        assert snapshot(invoice) == before, "a refused call changed the invoice"
    else:
        METHODS[method](invoice)
        assert invoice.state is expected
        assert invoice.revision > revision
        assert len(invoice.events) > event_count


# Drafting and approval ---------------------------------------------------------------------


def test_a_draft_carries_its_hand_computed_totals() -> None:
    invoice = drafted()
    assert invoice.totals.net == eur("1740.00")
    assert invoice.totals.tax == eur("348.00")
    assert invoice.totals.gross == GROSS
    assert invoice.outstanding == GROSS
    assert invoice.state is S.DRAFT
    assert invoice.events == [InvoiceDrafted(InvoiceId("INV-D1"), AT, MAKER)]


def test_an_invoice_needs_at_least_one_line() -> None:
    with pytest.raises(DomainError, match="at least one line"):
        drafted_invoice("INV-0", (), DocumentTotals.of((), EUR, VAT), MAKER, AT)


def test_the_creator_cannot_approve_their_own_invoice() -> None:
    invoice = drafted()
    with pytest.raises(MakerCheckerError, match=MAKER) as refused:
        invoice.approve(MAKER, AT)
    assert refused.value.code == "maker_checker"
    assert invoice.state is S.DRAFT
    assert invoice.approved_by is None
    assert invoice.revision == 0


def test_someone_else_approves_and_is_recorded() -> None:
    invoice = drafted()
    invoice.approve(CHECKER, AT)
    assert invoice.state is S.APPROVED
    assert invoice.approved_by == CHECKER
    assert invoice.events[-1] == InvoiceApproved(InvoiceId("INV-D1"), AT, CHECKER)


# Issue -------------------------------------------------------------------------------------


def test_issue_numbers_and_dates_the_invoice() -> None:
    invoice = issued()
    assert invoice.state is S.ISSUED
    assert invoice.number == "2026-0042"
    assert invoice.issue_date == ISSUE_DATE
    assert invoice.events[-1] == InvoiceIssued(
        InvoiceId("INV-D1"), AT, "2026-0042", ISSUE_DATE, GROSS
    )


def test_an_issued_invoice_needs_a_number() -> None:
    invoice = _approved()
    with pytest.raises(DomainError, match="needs a number"):
        invoice.issue("", ISSUE_DATE, AT, OPEN)
    assert invoice.state is S.APPROVED
    assert invoice.number is None


def test_an_invoice_dated_in_a_closed_period_is_not_issued() -> None:
    invoice = _approved()
    revision = invoice.revision
    with pytest.raises(PeriodClosedError, match="2026-03") as refused:
        invoice.issue("2026-0042", date(2026, 3, 31), AT, MARCH_CLOSED)
    assert refused.value.code == "period_closed"
    assert (invoice.state, invoice.number, invoice.revision) == (S.APPROVED, None, revision)


def test_an_invoice_for_a_closed_period_is_issued_on_an_open_date() -> None:
    invoice = _approved()
    invoice.issue("2026-0042", date(2026, 4, 1), AT, MARCH_CLOSED)
    assert invoice.state is S.ISSUED


def test_a_draft_is_not_issued_before_approval() -> None:
    invoice = drafted()
    with pytest.raises(IllegalTransitionError, match="'draft' cannot 'issue'"):
        invoice.issue("2026-0042", ISSUE_DATE, AT, OPEN)
    assert invoice.number is None


def test_an_issued_invoice_is_never_issued_again_under_another_number() -> None:
    invoice = issued()
    with pytest.raises(IllegalTransitionError):
        invoice.issue("2026-0099", ISSUE_DATE, AT, OPEN)
    assert invoice.number == "2026-0042"


# Payments ----------------------------------------------------------------------------------


def test_a_part_payment_then_the_rest_pays_the_invoice() -> None:
    invoice = issued()
    pay(invoice, "1000.00")
    assert invoice.state is S.PARTIALLY_PAID
    assert invoice.outstanding == eur("1088.00")
    pay(invoice, "88.00")
    assert invoice.state is S.PARTIALLY_PAID
    pay(invoice, "1000.00")
    assert invoice.state is S.PAID
    assert invoice.outstanding == eur("0")
    assert invoice.amount_paid == GROSS
    assert invoice.events[-1] == PaymentRecorded(
        InvoiceId("INV-D1"), AT, PaymentId("PAY-1000.00"), eur("1000.00"), ISSUE_DATE
    )


def test_a_payment_above_what_is_owed_is_refused() -> None:
    invoice = issued()
    pay(invoice, "2000.00")
    with pytest.raises(OverpaymentError, match=r"88\.00") as refused:
        pay(invoice, "88.01")
    assert refused.value.code == "overpayment"
    assert invoice.state is S.PARTIALLY_PAID
    assert invoice.amount_paid == eur("2000.00")


def test_a_paid_invoice_takes_no_more_money() -> None:
    invoice = _paid()
    with pytest.raises(OverpaymentError):
        pay(invoice, "0.01")


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_a_payment_is_a_positive_amount(amount: str) -> None:
    invoice = issued()
    with pytest.raises(DomainError, match="positive"):
        pay(invoice, amount)
    assert invoice.amount_paid == eur("0")


def test_a_payment_dated_in_a_closed_period_is_refused() -> None:
    invoice = issued()
    with pytest.raises(PeriodClosedError):
        invoice.record_payment(PaymentId("P"), eur("10.00"), date(2026, 3, 15), AT, MARCH_CLOSED)
    assert invoice.state is S.ISSUED


def test_a_payment_received_before_the_invoice_was_issued_is_refused() -> None:
    invoice = issued()
    with pytest.raises(DatedBeforeIssueError, match="it cannot be paid on 2026-04-01, before"):
        invoice.record_payment(PaymentId("P"), eur("10.00"), date(2026, 4, 1), AT, OPEN)
    assert invoice.amount_paid == eur("0")
    invoice.record_payment(PaymentId("P"), eur("10.00"), ISSUE_DATE, AT, OPEN)
    assert invoice.state is S.PARTIALLY_PAID


def test_a_payment_in_another_currency_than_the_invoice_is_refused_naming_both() -> None:
    invoice = issued()
    dollars = Money.of("10.00", "USD")
    with pytest.raises(CurrencyMismatchError, match="is in EUR, not in USD"):
        invoice.record_payment(PaymentId("P"), dollars, ISSUE_DATE, AT, OPEN)
    assert invoice.amount_paid == eur("0")


def test_a_draft_takes_no_payment() -> None:
    invoice = drafted()
    with pytest.raises(IllegalTransitionError):
        pay(invoice, "10.00")
    assert invoice.amount_paid == eur("0")


# Disputes ----------------------------------------------------------------------------------


def test_a_dispute_then_its_resolution_returns_the_invoice_to_issued() -> None:
    invoice = issued()
    invoice.open_dispute("rate above the contract", AT)
    assert invoice.state is S.DISPUTED
    assert invoice.dispute_reason == "rate above the contract"
    invoice.resolve_dispute("rate confirmed by the SOW", AT)
    assert invoice.state is S.ISSUED
    assert invoice.outstanding == GROSS
    assert invoice.events[-2:] == [
        InvoiceDisputed(InvoiceId("INV-D1"), AT, "rate above the contract"),
        DisputeResolved(InvoiceId("INV-D1"), AT, "rate confirmed by the SOW"),
    ]


def test_a_dispute_resolved_after_a_part_payment_returns_to_partially_paid() -> None:
    invoice = _disputed_after_part_payment()
    invoice.resolve_dispute("explained", AT)
    assert invoice.state is S.PARTIALLY_PAID
    assert invoice.outstanding == eur("1088.00")


def test_a_dispute_needs_a_reason() -> None:
    invoice = issued()
    with pytest.raises(DomainError, match="reason"):
        invoice.open_dispute("", AT)
    assert invoice.state is S.ISSUED


def test_a_disputed_invoice_takes_no_payment_until_resolved() -> None:
    invoice = _disputed()
    with pytest.raises(IllegalTransitionError):
        pay(invoice, "10.00")


def test_a_dispute_resolved_by_a_partial_credit_memo_reduces_what_is_owed() -> None:
    invoice = _disputed()
    memo = CreditMemo.against(
        CreditMemoId("CM-R"), invoice, [CreditRequest(1, TE_2)], "4 h credited", MAKER,
        resolves_dispute=True,
    )  # fmt: skip
    memo.approve(CHECKER, AT)
    memo.issue(invoice, "CN-R", ISSUE_DATE, AT, OPEN)
    # 4 h x 150.00 = 600.00 net, 120.00 VAT.
    assert memo.totals.net == eur("600.00")
    assert memo.totals.gross == eur("720.00")
    assert invoice.state is S.ISSUED
    assert invoice.outstanding == eur("1368.00")
    assert invoice.amount_credited == eur("720.00")
    assert invoice.events[-2:] == [
        InvoiceCredited(InvoiceId("INV-D1"), AT, memo.credit_memo_id, eur("720.00")),
        DisputeResolved(InvoiceId("INV-D1"), AT, "4 h credited", memo.credit_memo_id),
    ]


def test_a_partial_credit_takes_back_only_the_credited_hours() -> None:
    invoice = issued()
    memo = credit(invoice, [CreditRequest(1, TE_1, Decimal("2.5"))])
    assert memo.totals.net == eur("375.00")
    assert invoice.creditable(1, TE_1) == (Decimal("3.5"), Decimal("525.00"))
    assert invoice.creditable(1, TE_2) == (Decimal("4"), Decimal("600.00"))
    [entry] = memo.ledger_entries()
    assert (entry.source, entry.quantity, entry.amount) == (TE_1, Decimal("-2.5"), eur("-375"))


# Credits -----------------------------------------------------------------------------------


def test_a_full_credit_closes_the_invoice_with_nothing_owed() -> None:
    invoice = issued()
    memo = credit(invoice, everything_left(invoice))
    assert memo.totals.gross == GROSS
    assert invoice.state is S.CREDITED
    assert invoice.outstanding == eur("0")
    assert invoice.totals.gross - memo.totals.gross == eur("0")


def test_partial_credits_that_add_up_to_everything_close_the_invoice() -> None:
    invoice = issued()
    first = credit(invoice, [CreditRequest(1, TE_1)])
    second = credit(invoice, [CreditRequest(1), CreditRequest(2)])
    assert first.totals.gross + second.totals.gross == GROSS
    assert invoice.state is S.CREDITED
    assert invoice.outstanding == eur("0")


def test_nothing_more_is_credited_than_a_line_billed() -> None:
    invoice = issued()
    with pytest.raises(OverCreditError):
        CreditMemo.against(
            CreditMemoId("CM-X"), invoice, [CreditRequest(1, TE_2, Decimal("4.25"))], "r", MAKER
        )
    credit(invoice, [CreditRequest(2)])
    with pytest.raises(OverCreditError, match="already fully credited"):
        CreditMemo.against(CreditMemoId("CM-Y"), invoice, [CreditRequest(2)], "again", MAKER)


def test_crediting_the_rest_of_a_part_paid_invoice_closes_it() -> None:
    # The client paid everything but TE-2 (4 h: 600.00 + 120.00 VAT); the firm credits TE-2.
    # Nothing is owed any more and no payment can be recorded, so the invoice must not stay
    # open as partially paid.
    invoice = issued()
    pay(invoice, "1368.00")
    credit(invoice, [CreditRequest(1, TE_2)])
    assert invoice.outstanding == eur("0")
    assert invoice.state in (S.PAID, S.CREDITED)


def test_a_credit_never_leaves_the_client_owing_a_negative_amount() -> None:
    invoice = _partially_paid()
    with contextlib.suppress(DomainError):
        # Refusing a credit of more than is owed is one acceptable rule; applying only what is
        # owed and refunding the rest is another. Owing a negative amount is neither.
        credit(invoice, everything_left(invoice))
    assert not invoice.outstanding.is_negative(), invoice.outstanding


def test_a_credit_request_for_no_hours_credits_nothing() -> None:
    invoice = issued()
    for hours in ("0", "-1"):
        with pytest.raises(DomainError):
            CreditMemo.against(
                CreditMemoId("CM-0"),
                invoice,
                [CreditRequest(1, TE_2, Decimal(hours))],
                "typo in the request",
                MAKER,
            )
    assert invoice.credit_reservations == {}


def cent_splitting_invoice() -> Invoice:
    """One line billing two entries of 2 h at 50.002: 100.004 each, 200.008 → 200.01 net,
    40.00 VAT, 240.01 gross. Each entry alone rounds to 100.00; together they make 200.01."""
    rate = eur("50.002")
    line = DocumentLine(
        1,
        OBLIGATION,
        LineKind.TIME,
        "Consulting at a converted rate",
        Decimal("4"),
        rate,
        eur("200.01"),
        "VAT20",
        (
            Allocation(TE_1, Decimal("2"), rate.times(2)),
            Allocation(TE_2, Decimal("2"), rate.times(2)),
        ),
    )
    invoice = drafted_invoice("INV-C", (line,), DocumentTotals.of((line,), EUR, VAT), MAKER, AT)
    invoice.approve(CHECKER, AT)
    invoice.issue("2026-0050", ISSUE_DATE, AT, OPEN)
    assert invoice.totals.gross == eur("240.01")
    return invoice


def test_credits_of_every_entry_add_up_to_exactly_the_invoice_in_any_order() -> None:
    invoice = cent_splitting_invoice()
    first = credit(invoice, [CreditRequest(1, TE_1)])
    second = credit(invoice, [CreditRequest(1, TE_2)])
    assert first.totals.gross + second.totals.gross == eur("240.01")
    assert invoice.state is S.CREDITED
    assert invoice.outstanding == eur("0")


def test_a_discarded_draft_credit_does_not_skew_what_later_credits_take_back() -> None:
    # Draft a credit of TE-1, then one of TE-2 (priced after TE-1's), then drop the first and
    # credit TE-1 again: together the two issued credits must still equal the invoice.
    invoice = cent_splitting_invoice()
    dropped = CreditMemo.against(
        CreditMemoId("CM-D"), invoice, [CreditRequest(1, TE_1)], "drafted in error", MAKER
    )
    kept = CreditMemo.against(
        CreditMemoId("CM-K"), invoice, [CreditRequest(1, TE_2)], "not delivered", MAKER
    )
    dropped.discard(invoice, "drafted in error")
    again = credit(invoice, [CreditRequest(1, TE_1)])
    kept.approve(CHECKER, AT)
    kept.issue(invoice, "CN-K", ISSUE_DATE, AT, OPEN)
    assert again.totals.gross + kept.totals.gross == eur("240.01")
    assert invoice.outstanding == eur("0")


def paid_invoice_and_a_full_credit() -> tuple[Invoice, CreditMemo]:
    invoice = _paid()
    memo = CreditMemo.against(
        CreditMemoId("CM-P"), invoice, everything_left(invoice), "refund", MAKER
    )
    return invoice, memo


def closed_invoice_and_a_pending_credit() -> tuple[Invoice, CreditMemo]:
    # Part paid; one credit for TE-2 is drafted, another for everything else is issued and
    # closes the invoice; then the first one is issued.
    invoice = _partially_paid()
    pending = CreditMemo.against(
        CreditMemoId("CM-1"), invoice, [CreditRequest(1, TE_2)], "not delivered", MAKER
    )
    credit(invoice, everything_left(invoice))
    return invoice, pending


@pytest.mark.parametrize(
    "scenario",
    [paid_invoice_and_a_full_credit, closed_invoice_and_a_pending_credit],
    ids=["paid invoice", "invoice closed by an earlier credit"],
)
def test_a_credit_the_invoice_refuses_leaves_both_documents_as_they_were(
    scenario: Callable[[], tuple[Invoice, CreditMemo]],
) -> None:
    invoice, memo = scenario()
    memo.approve(CHECKER, AT)
    state, credited, revision = invoice.state, invoice.amount_credited, invoice.revision
    try:
        memo.issue(invoice, "CN-P", ISSUE_DATE, AT, OPEN)
    except DomainError:
        assert memo.state is CreditMemoState.APPROVED, "the memo was issued, the invoice not"
        assert memo.number is None
        assert (invoice.state, invoice.amount_credited, invoice.revision) == (
            state,
            credited,
            revision,
        )
    else:
        assert invoice.amount_credited == credited + memo.totals.gross


def test_the_drafter_cannot_approve_their_own_credit_memo() -> None:
    invoice = issued()
    memo = CreditMemo.against(CreditMemoId("CM-M"), invoice, [CreditRequest(2)], "r", MAKER)
    with pytest.raises(MakerCheckerError):
        memo.approve(MAKER, AT)
    assert memo.approved_by is None


def test_a_draft_or_discarded_invoice_is_not_credited() -> None:
    for invoice in (drafted(), _discarded(), _approved()):
        with pytest.raises(DomainError, match="only issued invoices"):
            CreditMemo.against(CreditMemoId("CM-Z"), invoice, [CreditRequest(1)], "r", MAKER)
        assert invoice.credit_reservations == {}


# Discard -----------------------------------------------------------------------------------


def test_discarding_a_draft_releases_its_allocations() -> None:
    invoice = drafted()
    assert [(e.source, e.quantity) for e in invoice.ledger_entries()] == [
        (TE_1, Decimal("6")),
        (TE_2, Decimal("4")),
        (EXP_1, Decimal("240.00")),
    ]
    invoice.discard("superseded by a corrected draft", AT)
    assert invoice.state is S.DISCARDED
    assert not invoice.is_committed
    assert invoice.ledger_entries() == []
    assert invoice.events[-1] == InvoiceDiscarded(
        InvoiceId("INV-D1"), AT, "superseded by a corrected draft"
    )


@pytest.mark.parametrize("name", ["approved", "issued", "paid", "credited"])
def test_only_a_draft_is_discarded(name: str) -> None:
    invoice = SITUATIONS[name]()
    entries = invoice.ledger_entries()
    with pytest.raises(IllegalTransitionError, match="cannot 'discard'"):
        invoice.discard("oops", AT)
    assert invoice.ledger_entries() == entries
    assert invoice.is_committed
