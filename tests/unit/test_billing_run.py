"""The billing run end to end, worked by hand: milestones with retention, a hybrid contract
with VAT, reverse charge, JPY and BHD, partial credit memos, retroactive rate changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.accounting_period import PeriodLock
from domain.billing import BilledLedger, LedgerEntry, LineKind, SourceKind, SourceRef
from domain.billing_run import (
    AdjustmentKind,
    BillingRunInput,
    diff_against_ledger,
    obligations_billed_from_time,
    run_billing,
)
from domain.credit_memo import CreditMemo, CreditRequest
from domain.credit_plan import CreditRequestError
from domain.document import DocumentLine
from domain.errors import OverCreditError
from domain.ids import CreditMemoId, InvoiceId, MilestoneId, ObligationId, RateCardId
from domain.invoice import Invoice, InvoiceState
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency, Money
from domain.period import Period
from domain.ratecard import RateCardVersion
from domain.tax import REVERSE_CHARGE_NOTE, TaxProfile
from domain.time_and_materials import TimeAndMaterialsTerms
from tests.support.builders import (
    AT,
    CUSTOMER,
    ENTITY,
    TAX_RATES,
    committed,
    contract,
    d,
    entry,
    rate_card,
    run,
)

EUR = Currency.of("EUR")
MARCH = Period.month(2026, 3)
APRIL = Period.month(2026, 4)
PROGRAM = ObligationId("program")
TM = ObligationId("tm")
OPEN = PeriodLock()


def money(text: str, code: str = "EUR") -> Money:
    return Money(Decimal(text), Currency.of(code))


def program_terms(fee: str = "100000.00", retention: str = "10") -> MilestoneTerms:
    return MilestoneTerms(
        PROGRAM,
        "Transformation program",
        EUR,
        d(fee),
        tuple(
            MilestoneSpec(MilestoneId(f"m{n}"), f"Phase {n}", percentage=d("25"), final=n == 4)
            for n in range(1, 5)
        ),
        retention_percent=d(retention),
    )


def milestones() -> dict[str, Milestone]:
    return {
        f"m{n}": Milestone.plan(MilestoneId(f"m{n}"), PROGRAM, f"Phase {n}", AT)
        for n in range(1, 5)
    }


def accept(m: Milestone, day: date) -> None:
    m.complete("signed deliverable", day, AT)
    m.accept("client-sponsor", day, AT)


def test_an_accepted_milestone_bills_its_amount_less_the_retention() -> None:
    ms = milestones()
    accept(ms["m1"], date(2026, 3, 10))
    proposal = run(MARCH, [contract([program_terms()])], milestones=ms.values())
    (invoice,) = proposal.invoices
    bill, withheld = invoice.lines
    assert (bill.kind, bill.amount) == (LineKind.MILESTONE, money("25000.00"))  # 25 % of 100k
    assert (withheld.kind, withheld.amount) == (LineKind.RETENTION_WITHHELD, money("-2500.00"))
    assert invoice.totals.net == money("22500.00")
    assert invoice.totals.tax == money("4500.00")  # 20 % of 22,500


def test_a_milestone_rejected_then_accepted_bills_once_after_acceptance() -> None:
    ms = milestones()
    c = contract([program_terms()])
    ms["m1"].complete("draft report", date(2026, 3, 5), AT)
    ms["m1"].reject("client-sponsor", "incomplete", AT)
    assert run(MARCH, [c], milestones=ms.values()).is_empty
    ms["m1"].complete("final report", date(2026, 3, 20), AT)
    assert run(MARCH, [c], milestones=ms.values()).is_empty  # completed is not accepted
    ms["m1"].accept("client-sponsor", date(2026, 3, 25), AT)
    first = run(MARCH, [c], milestones=ms.values())
    assert first.invoices[0].totals.net == money("22500.00")
    assert run(MARCH, [c], milestones=ms.values(), ledger=committed(None, first)).is_empty


def test_retention_is_released_as_its_own_lines_at_final_acceptance() -> None:
    ms = milestones()
    c = contract([program_terms(fee="1000.01")])
    ledger = None
    for n in range(1, 4):
        accept(ms[f"m{n}"], date(2026, 3, n))
    first = run(MARCH, [c], milestones=ms.values())
    ledger = committed(ledger, first)
    # 1000.01 in four 25 % parts: 250.01 (first gets the extra cent), 250.00, 250.00, 250.00
    bills = [x.amount for x in first.invoices[0].lines if x.kind is LineKind.MILESTONE]
    assert bills == [money("250.01"), money("250.00"), money("250.00")]
    accept(ms["m4"], date(2026, 4, 2))
    final = run(APRIL, [c], milestones=ms.values(), ledger=ledger)
    lines = final.invoices[0].lines
    assert [x.kind for x in lines] == [
        LineKind.MILESTONE,
        LineKind.RETENTION_WITHHELD,
        *[LineKind.RETENTION_RELEASE] * 4,
    ]
    # retention: 10 % of 250.01 = 25.001 -> 25.00; of 250.00 -> 25.00
    assert [x.amount for x in lines[2:]] == [money("25.00")] * 4
    # over the whole program the client is billed exactly the fee
    total = first.invoices[0].totals.net + final.invoices[0].totals.net
    assert total == money("1000.01")
    assert run(APRIL, [c], milestones=ms.values(), ledger=committed(ledger, final)).is_empty


def test_passively_accepted_milestones_bill_like_accepted_ones() -> None:
    m = Milestone.plan(MilestoneId("m1"), PROGRAM, "Phase 1", AT, passive_acceptance_days=10)
    m.complete("deliverable", date(2026, 3, 1), AT)
    m.accept_passively(date(2026, 3, 11), AT)
    proposal = run(MARCH, [contract([program_terms(retention="0")])], milestones=[m])
    assert proposal.invoices[0].totals.net == money("25000.00")


def test_a_hybrid_contract_produces_one_invoice_with_lines_grouped_by_obligation() -> None:
    ms = milestones()
    accept(ms["m1"], date(2026, 3, 31))
    change_request = TimeAndMaterialsTerms(TM, "Change request", EUR, RateCardId("RC"))
    c = contract([program_terms(), change_request])
    entries = [entry("e1", date(2026, 3, 3), "7.5"), entry("e2", date(2026, 3, 4), "2")]
    (invoice,) = run(MARCH, [c], [rate_card()], entries, milestones=ms.values()).invoices
    assert [line.obligation_id for line in invoice.lines] == [PROGRAM, PROGRAM, TM]
    # 25,000 - 2,500 + 9.5 h x 100 = 23,450.00; VAT 20 % = 4,690.00
    assert invoice.totals.net == money("23450.00")
    assert invoice.totals.tax == money("4690.00")
    assert invoice.totals.gross == money("28140.00")
    assert [t.base for t in invoice.totals.tax_lines] == [money("23450.00")]


def test_a_run_needs_the_time_entries_only_of_obligations_billed_from_hours() -> None:
    ms = milestones()
    accept(ms["m1"], date(2026, 3, 31))
    change_request = TimeAndMaterialsTerms(TM, "Change request", EUR, RateCardId("RC"))
    c = contract([program_terms(), change_request])
    assert obligations_billed_from_time([c]) == [TM]
    entries = [entry("e1", date(2026, 3, 3), "7.5"), entry("p1", date(2026, 3, 4), "2", "program")]
    everything = run(MARCH, [c], [rate_card()], entries, milestones=ms.values())
    only_timed = run(MARCH, [c], [rate_card()], entries[:1], milestones=ms.values())
    assert only_timed == everything


def test_reverse_charge_bills_no_tax_and_carries_the_legal_note() -> None:
    profile = TaxProfile(CUSTOMER, ENTITY, "VAT20", reverse_charge=True)
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    proposal = run(MARCH, [c], [rate_card()], [entry("e1", date(2026, 3, 3), "3")], profile=profile)
    totals = proposal.invoices[0].totals
    assert (totals.net, totals.tax, totals.gross) == (money("300"), money("0"), money("300"))
    assert totals.tax_lines[0].note == REVERSE_CHARGE_NOTE


@pytest.mark.parametrize(
    ("code", "rate", "hours", "net", "tax"),
    [
        # JPY has no minor unit: 2.5 h x 12,345 = 30,862.5 -> 30,863; VAT 6,172.6 -> 6,173
        ("JPY", "12345", "2.5", "30863", "6173"),
        # BHD has three: 1.25 h x 45.125 = 56.40625 -> 56.406; VAT 11.2812 -> 11.281
        ("BHD", "45.125", "1.25", "56.406", "11.281"),
    ],
)
def test_amounts_round_half_up_to_the_currency_minor_unit(
    code: str, rate: str, hours: str, net: str, tax: str
) -> None:
    card = rate_card(currency=code, versions=[(date(2026, 1, 1), {"consultant": rate})])
    c = contract(
        [TimeAndMaterialsTerms(TM, "Advisory", Currency.of(code), RateCardId("RC"))], currency=code
    )
    totals = run(MARCH, [c], [card], [entry("e1", date(2026, 3, 3), hours)]).invoices[0].totals
    assert totals.net == money(net, code)
    assert totals.tax == money(tax, code)
    assert str(totals.net.amount) == net  # exactly the currency's number of decimals


def test_a_contract_without_a_tax_profile_is_blocked_not_billed() -> None:
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    proposal = run_billing(
        BillingRunInput(
            period=MARCH,
            contracts=(c,),
            rate_cards={},
            time_entries=(entry("e1", date(2026, 3, 3), "1"),),
            expenses=(),
            milestones=(),
            ledger=BilledLedger(),
            tax_profiles={},
            tax_rates=TAX_RATES,
        )
    )  # fmt: skip
    assert proposal.invoices == ()
    (blocked,) = proposal.blocked
    assert (blocked.contract_id, blocked.reason) == ("C1", "missing_tax_profile")


def _issued_invoice() -> tuple[Invoice, list]:  # type: ignore[type-arg]
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    proposal = run(MARCH, [c], [rate_card()], entries)
    draft = proposal.invoices[0]
    invoice = Invoice.draft(
        InvoiceId("INV-1"), draft.customer_id, draft.contract_id, draft.legal_entity_id,
        draft.period, draft.lines, draft.totals, "billing-clerk", AT,
    )  # fmt: skip
    invoice.approve("finance-lead", AT)
    invoice.issue("2026-0001", date(2026, 3, 31), AT, OPEN)
    return invoice, entries


def test_a_partial_credit_releases_only_the_credited_hours() -> None:
    invoice, entries = _issued_invoice()
    e1 = SourceRef(SourceKind.TIME_ENTRY, "e1")
    memo = CreditMemo.against(
        CreditMemoId("CM-1"), invoice, [CreditRequest(1, e1, d("3"))], "3 h disputed", "ar-clerk"
    )
    memo.approve("finance-lead", AT)
    memo.issue(invoice, "CN-0001", date(2026, 4, 2), AT, OPEN)
    # 3 h x 100 = 300.00 net, VAT 60.00, gross 360.00 taken off the 1,440.00 invoice
    assert (memo.totals.net, memo.totals.tax, memo.totals.gross) == (
        money("300.00"),
        money("60.00"),
        money("360.00"),
    )
    assert invoice.outstanding == money("1080.00")
    ledger = BilledLedger(tuple(invoice.ledger_entries()))
    ledger = ledger.plus(memo.ledger_entries())
    assert ledger.billed_quantity(e1) == d("5")
    assert ledger.billed_quantity(SourceRef(SourceKind.TIME_ENTRY, "e2")) == d("4")
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    rebill = run(APRIL, [c], [rate_card()], entries, ledger=ledger)
    (line,) = rebill.invoices[0].lines
    assert [(a.source, a.quantity) for a in line.allocations] == [(e1, d("3"))]


def test_a_write_off_credit_settles_the_hours_for_good() -> None:
    invoice, entries = _issued_invoice()
    memo = CreditMemo.against(
        CreditMemoId("CM-1"), invoice, [CreditRequest(1, quantity=d("2"))], "goodwill",
        "ar-clerk", write_off=True,
    )  # fmt: skip
    memo.approve("finance-lead", AT)
    memo.issue(invoice, "CN-0001", date(2026, 4, 2), AT, OPEN)
    # a quantity without a source comes off the line's last allocation: e2
    assert [(a.source.source_id, a.quantity) for a in memo.lines[0].allocations] == [("e2", d("2"))]
    ledger = BilledLedger(tuple(invoice.ledger_entries()))
    ledger = ledger.plus(memo.ledger_entries())
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    assert run(APRIL, [c], [rate_card()], entries, ledger=ledger).is_empty


def test_a_credit_can_never_exceed_what_the_line_billed() -> None:
    invoice, _ = _issued_invoice()
    e1 = SourceRef(SourceKind.TIME_ENTRY, "e1")
    CreditMemo.against(CreditMemoId("CM-1"), invoice, [CreditRequest(1, e1, d("6"))], "x", "ar")
    with pytest.raises(OverCreditError):
        CreditMemo.against(CreditMemoId("CM-2"), invoice, [CreditRequest(1, e1, d("3"))], "y", "ar")
    with pytest.raises(OverCreditError):
        CreditMemo.against(
            CreditMemoId("CM-3"), invoice, [CreditRequest(1, quantity=d("7"))], "z", "ar"
        )


def test_an_invoice_and_its_full_credit_net_to_exactly_zero() -> None:
    invoice, _ = _issued_invoice()
    memo = CreditMemo.against(
        CreditMemoId("CM-1"), invoice, [CreditRequest(line.line_no) for line in invoice.lines],
        "issued in error", "ar-clerk",
    )  # fmt: skip
    memo.approve("finance-lead", AT)
    memo.issue(invoice, "CN-0001", date(2026, 4, 2), AT, OPEN)
    assert invoice.totals.gross - memo.totals.gross == money("0")
    assert invoice.state is InvoiceState.CREDITED
    assert invoice.outstanding.is_zero()


def test_a_retroactive_rate_change_produces_a_debit_memo_citing_both_versions() -> None:
    card = rate_card()
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    march = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 20), "2")]
    first = run(MARCH, [c], [card], march)
    assert first.invoices[0].totals.net == money("1000.00")  # 10 h x 100
    ledger = committed(None, first)
    # v2 is published in April but dated back to 15 March: only e2 (20 March) is affected
    card.publish(RateCardVersion(2, date(2026, 3, 15), EUR, {"consultant": d("120")}))
    april = [entry("e3", date(2026, 4, 1), "1")]
    second = run(APRIL, [c], [card], march + april, ledger=ledger)
    # the unbilled April hour rates at the new version: 1 x 120
    assert second.invoices[0].totals.net == money("120.00")
    (adjustment,) = second.adjustments
    assert adjustment.kind is AdjustmentKind.DEBIT_MEMO
    assert adjustment.references == "C1/2026-03"
    (line,) = adjustment.lines
    # e2: 2 h x (120 - 100) = 40.00, with no hour billed twice
    assert (line.quantity, line.unit_price, line.amount) == (d("2"), money("20"), money("40.00"))
    (alloc,) = line.allocations
    assert (alloc.source.source_id, alloc.quantity) == ("e2", d("0"))
    assert "rate card RC v1 -> contract v1, rate card RC v2" in alloc.terms
    assert adjustment.totals.gross == money("48.00")
    third = run(APRIL, [c], [card], march + april, ledger=committed(ledger, second))
    assert third.is_empty


def test_a_rate_cut_dated_back_produces_a_credit_memo() -> None:
    card = rate_card()
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    march = [entry("e1", date(2026, 3, 2), "8")]
    ledger = committed(None, run(MARCH, [c], [card], march))
    card.publish(RateCardVersion(2, date(2026, 3, 1), EUR, {"consultant": d("90")}))
    (adjustment,) = run(APRIL, [c], [card], march, ledger=ledger).adjustments
    assert adjustment.kind is AdjustmentKind.CREDIT_MEMO
    assert adjustment.totals.net == money("-80.00")  # 8 h x (90 - 100)


def test_the_diff_shows_what_is_invoiced_what_is_proposed_and_the_result() -> None:
    card = rate_card()
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    march = [entry("e1", date(2026, 3, 2), "8")]
    ledger = committed(None, run(MARCH, [c], [card], march))
    april = [entry("e2", date(2026, 4, 2), "3")]
    proposal = run(APRIL, [c], [card], march + april, ledger=ledger)
    (row,) = diff_against_ledger(proposal, ledger)
    assert (row.already_invoiced, row.proposed, row.after, row.sources) == (
        money("800.00"),
        money("300.00"),
        money("1100.00"),
        1,
    )


def test_document_lines_keep_their_provenance() -> None:
    invoice, _ = _issued_invoice()
    line: DocumentLine = invoice.lines[0]
    assert {(a.source.source_id, a.quantity) for a in line.allocations} == {
        ("e1", d("8")),
        ("e2", d("4")),
    }
    assert line.quantity == d("12")
    assert line.amount == money("1200.00")


def test_a_retroactive_amendment_moving_the_rate_card_rerates_only_items_it_covers() -> None:
    regional = rate_card(card_id="RC")
    premium = rate_card(card_id="PREMIUM", versions=[(date(2026, 1, 1), {"consultant": "130"})])
    cards = [regional, premium]
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    march = [entry("e1", date(2026, 3, 2), "5"), entry("e2", date(2026, 3, 25), "5")]
    ledger = committed(None, run(MARCH, [c], cards, march))
    # Amendment 1, signed in April, moves the work to the premium card from 20 March
    amended = TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("PREMIUM"))
    c.draft_version(date(2026, 3, 20), [amended])
    c.approve_version(2, "legal", AT)
    proposal = run(APRIL, [c], cards, march, ledger=ledger)
    assert proposal.invoices == ()  # no hour is billed again
    (adjustment,) = proposal.adjustments
    (line,) = adjustment.lines
    # only e2 (25 March) falls under the amendment: 5 h x (130 - 100) = 150.00
    assert [a.source.source_id for a in line.allocations] == ["e2"]
    assert line.amount == money("150.00")
    assert "contract v1, rate card RC v1 -> contract v2, rate card PREMIUM v1" in (
        line.allocations[0].terms
    )


def test_committing_a_proposal_stores_exactly_the_previewed_allocations() -> None:
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    preview = run(MARCH, [c], [rate_card()], entries)
    draft = preview.invoices[0]
    invoice = Invoice.draft(
        InvoiceId(draft.key), draft.customer_id, draft.contract_id, draft.legal_entity_id,
        draft.period, draft.lines, draft.totals, "billing-clerk", AT,
    )  # fmt: skip
    assert invoice.ledger_entries() == preview.ledger_entries()
    assert (invoice.totals, invoice.lines) == (draft.totals, draft.lines)


def test_a_milestone_fee_change_resplits_only_the_unbilled_milestones() -> None:
    ms = milestones()
    c = contract([program_terms(fee="1000.00")])
    accept(ms["m1"], date(2026, 3, 2))
    ledger = committed(None, run(MARCH, [c], milestones=ms.values()))  # m1: 250.00, 25.00 held
    # Amendment 1 raises the fee to 2,000.00 from April: m1 keeps its 250.00, the other three
    # share the remaining 1,750.00 by their 25 % weights: 583.34, 583.33, 583.33
    c.draft_version(date(2026, 4, 1), [program_terms(fee="2000.00")])
    c.approve_version(2, "legal", AT)
    for n in (2, 3, 4):
        accept(ms[f"m{n}"], date(2026, 4, n))
    lines = run(APRIL, [c], milestones=ms.values(), ledger=ledger).invoices[0].lines
    bills = [x.amount for x in lines if x.kind is LineKind.MILESTONE]
    assert bills == [money("583.34"), money("583.33"), money("583.33")]
    releases = [x.amount for x in lines if x.kind is LineKind.RETENTION_RELEASE]
    # m1 releases the 25.00 it withheld, not 10 % of a re-split amount
    assert releases == [money("25.00"), money("58.33"), money("58.33"), money("58.33")]
    net = sum((x.amount.amount for x in lines), Decimal(0)) + Decimal("225.00")
    assert net == Decimal("2000.00")  # the client pays exactly the new fee over both invoices


def test_a_zero_quantity_credit_is_refused_not_read_as_everything() -> None:
    invoice, _ = _issued_invoice()
    e1 = SourceRef(SourceKind.TIME_ENTRY, "e1")
    with pytest.raises(CreditRequestError, match="quantity is positive"):
        CreditMemo.against(CreditMemoId("CM-1"), invoice, [CreditRequest(1, e1, d("0"))], "x", "ar")


def test_a_sources_ledger_entries_come_back_in_commit_order_whatever_else_was_billed() -> None:
    eur = Currency.of("EUR")
    first, second, other = (SourceRef(SourceKind.TIME_ENTRY, f"T-{n}") for n in (1, 2, 3))

    def entry(document: str, source: SourceRef, amount: str) -> LedgerEntry:
        return LedgerEntry(
            document, ObligationId("tm"), source, Decimal(1), Money.of(amount, "EUR")
        )

    entries = (
        entry("INV-1", second, "100"),
        entry("INV-1", other, "50"),
        entry("INV-1", first, "120"),
        entry("CN-1", second, "-100"),
        entry("INV-2", first, "10"),
    )
    ledger = BilledLedger(entries)
    assert ledger.for_sources([first]) == [entries[2], entries[4]]
    assert ledger.for_sources([first, second, first]) == [entries[0], *entries[2:]]
    assert ledger.for_sources([SourceRef(SourceKind.EXPENSE, "T-1")]) == []
    assert ledger.plus([entry("CN-2", first, "-5")]).for_sources([first])[-1].amount == Money(
        Decimal(-5), eur
    )
