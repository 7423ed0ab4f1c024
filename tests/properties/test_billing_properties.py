"""Invariants of the billing run over random delivery: nothing is billed twice, billed hours
never exceed approved hours, caps hold, a re-run proposes nothing, preview equals commit,
credits never exceed what was billed, and the ambient decimal context changes nothing."""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.accounting_period import PeriodLock
from domain.billing import BilledLedger, SourceKind, SourceRef
from domain.billing_run import BillingProposal
from domain.credit_memo import CreditMemo, CreditRequest
from domain.errors import DomainError
from domain.ids import CreditMemoId, ObligationId, RateCardId
from domain.invoice import Invoice
from domain.money import Currency, money_sum
from domain.period import Period
from domain.time_and_materials import (
    IncrementRounding,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
    round_to_increment,
)
from domain.time_entry import TimeEntry
from tests.support.builders import AT, committed, contract, entry, issued_invoice, rate_card, run

MONTHS = [Period.month(2026, m) for m in (1, 2, 3)]
CODES = ["EUR", "JPY", "BHD"]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[TimeAndMaterialsTerms, list[TimeEntry], str]:
    code = draw(st.sampled_from(CODES))
    increment = draw(st.sampled_from([None, Decimal("0.25"), Decimal("0.5")]))
    cap = draw(
        st.one_of(
            st.none(),
            st.builds(
                NotToExceed,
                amount=st.integers(100, 6000).map(Decimal),
                hours=st.just(None),
                policy=st.sampled_from(list(OveragePolicy)),
            ),
            st.builds(
                NotToExceed,
                amount=st.just(None),
                hours=st.integers(1, 60).map(Decimal),
                policy=st.sampled_from(list(OveragePolicy)),
            ),
        )
    )
    terms = TimeAndMaterialsTerms(
        ObligationId("tm"),
        "Work",
        Currency.of(code),
        RateCardId("RC"),
        billing_increment=increment,
        increment_rounding=draw(st.sampled_from(list(IncrementRounding))),
        daily_cap_hours=draw(st.sampled_from([None, Decimal("8")])),
        cap=cap,
    )
    n = draw(st.integers(1, 25))
    entries = []
    for i in range(n):
        day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 89)))
        hours = Decimal(draw(st.integers(1, 40))) / 4  # 0.25 .. 10 h
        role = draw(st.sampled_from(["consultant", "senior"]))
        billable = draw(st.booleans()) or draw(st.booleans())
        entries.append(
            entry(f"e{i:03d}", day, str(hours), role=role, resource=f"r{i % 3}", billable=billable)
        )
    return terms, entries, code


def _card(code: str):  # type: ignore[no-untyped-def]
    rates = {"EUR": ("100.00", "137.55"), "JPY": ("12000", "15555"), "BHD": ("40.125", "55.555")}
    consultant, senior = rates[code]
    return rate_card(
        currency=code,
        versions=[
            (date(2026, 1, 1), {"consultant": consultant, "senior": senior}),
            (date(2026, 2, 15), {"consultant": senior, "senior": consultant}),
        ],
    )


def _bill_months(terms, entries, code):  # type: ignore[no-untyped-def]
    c = contract([terms], currency=code)
    card = _card(code)
    ledger = BilledLedger()
    proposals = []
    for month in MONTHS:
        proposal = run(month, [c], [card], entries, ledger=ledger)
        proposals.append(proposal)
        ledger = committed(ledger, proposal)
        decide_on_exclusions(entries, proposal)
    return c, card, ledger, proposals


def decide_on_exclusions(
    entries: list[TimeEntry], proposal: BillingProposal, release: Callable[[], bool] = bool
) -> None:
    """The firm decides on every exclusion before the next run, as a controller would: hours
    over a cap are written off or held, and held hours released when `release()` says so."""
    for excluded in proposal.exclusions:
        item = next(e for e in entries if e.entry_id == excluded.source.source_id)
        if excluded.reason == "over_cap_write_off":
            item.write_off_over_cap(excluded.quantity, excluded.reason, AT)
        else:
            item.hold(excluded.quantity, excluded.reason, AT)
            if release():
                item.release("controller", AT)


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_nothing_is_billed_twice_and_billed_hours_never_exceed_approved_hours(data) -> None:  # type: ignore[no-untyped-def]
    terms, entries, code = data
    _, _, ledger, proposals = _bill_months(terms, entries, code)
    per_source: defaultdict[SourceRef, Decimal] = defaultdict(Decimal)
    for proposal in proposals:
        for invoice in proposal.invoices:
            for line in invoice.lines:
                for a in line.allocations:
                    per_source[a.source] += a.quantity
    for e in entries:
        ref = SourceRef(SourceKind.TIME_ENTRY, e.entry_id)
        approved = round_to_increment(e.hours, terms) if e.billable else Decimal(0)
        assert per_source[ref] == ledger.billed_quantity(ref)
        assert per_source[ref] + e.held + e.written_off <= approved
        if not e.billable:
            assert per_source[ref] == 0


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_caps_hold_unless_the_policy_is_to_bill_the_overage(data) -> None:  # type: ignore[no-untyped-def]
    terms, entries, code = data
    _, _, ledger, _ = _bill_months(terms, entries, code)
    cap = terms.cap
    if cap is None or cap.policy is OveragePolicy.BILL:
        return
    oid = terms.obligation_id
    if cap.amount is not None:
        assert ledger.obligation_billed_amount(oid, Currency.of(code)).amount <= cap.amount
    if cap.hours is not None:
        assert ledger.obligation_billed_hours(oid) <= cap.hours


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_a_rerun_on_its_own_output_proposes_nothing(data) -> None:  # type: ignore[no-untyped-def]
    terms, entries, code = data
    c, card, ledger, _ = _bill_months(terms, entries, code)
    for month in MONTHS:
        assert run(month, [c], [card], entries, ledger=ledger).is_empty


def _first_run(terms, entries, code) -> BillingProposal:  # type: ignore[no-untyped-def]
    return run(MONTHS[-1], [contract([terms], currency=code)], [_card(code)], entries)


@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_preview_equals_commit_and_ignores_the_ambient_decimal_context(data) -> None:  # type: ignore[no-untyped-def]
    terms, entries, code = data
    preview = _first_run(terms, entries, code)
    assert _first_run(terms, entries, code) == preview
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_DOWN
        ctx.prec = 6
        assert _first_run(terms, entries, code) == preview
    for invoice in preview.invoices:
        currency = invoice.currency
        assert invoice.totals.net == money_sum((x.amount for x in invoice.lines), currency)
        for line in invoice.lines:
            exact = money_sum((a.amount for a in line.allocations), currency)
            assert line.amount == exact.quantized()


@settings(max_examples=60, deadline=None)
@given(deliveries(), st.data())
def test_credits_never_exceed_what_a_line_billed_and_a_full_credit_nets_to_zero(
    data,
    draw,  # type: ignore[no-untyped-def]
) -> None:
    terms, entries, code = data
    proposal = _first_run(terms, entries, code)
    if not proposal.invoices:
        return
    draft = proposal.invoices[0]
    invoice = issued_invoice(draft, "I1", "N1")
    memos = []
    for n in range(draw.draw(st.integers(0, 4))):
        line = draw.draw(st.sampled_from(invoice.lines))
        alloc = draw.draw(st.sampled_from(line.allocations))
        quantity = Decimal(draw.draw(st.integers(1, 48))) / 4
        try:
            memo = CreditMemo.against(
                CreditMemoId(f"CM{n}"), invoice,
                [CreditRequest(line.line_no, alloc.source, quantity)], "partial", "maker",
            )  # fmt: skip
        except DomainError:  # over-credit, or the invoice is already fully credited
            continue
        memo.approve("checker", AT)
        memo.issue(invoice, f"CN{n}", date(2026, 4, 1), AT, PeriodLock())
        memos.append(memo)
    for line in invoice.lines:
        for a in line.allocations:
            credited = sum(
                (c.quantity for m in memos for ml in m.lines for c in ml.allocations
                 if ml.credits_line == line.line_no and c.source == a.source),
                Decimal(0),
            )  # fmt: skip
            assert credited <= a.quantity
    rest = [CreditRequest(line.line_no) for line in invoice.lines if _left(invoice, line.line_no)]
    if rest:
        final = CreditMemo.against(CreditMemoId("CMX"), invoice, rest, "all", "maker")
        final.approve("checker", AT)
        final.issue(invoice, "CNX", date(2026, 4, 2), AT, PeriodLock())
        memos.append(final)
    ledger = BilledLedger(tuple(invoice.ledger_entries()))
    ledger = ledger.plus(x for m in memos for x in m.ledger_entries())
    for line in invoice.lines:
        for a in line.allocations:
            assert ledger.billed_quantity(a.source) == 0
    # however the credit was split, the credits add up to the invoice to the cent
    currency = invoice.currency
    assert money_sum((m.totals.gross for m in memos), currency) == invoice.totals.gross
    assert money_sum((m.totals.tax for m in memos), currency) == invoice.totals.tax
    assert invoice.outstanding.is_zero()


def _left(invoice: Invoice, line_no: int) -> bool:
    line = invoice.line(line_no)
    return any(invoice.creditable(line_no, a.source)[0] > 0 for a in line.allocations)
