"""Split billing, worked by hand: an obligation shared between the customer and other payers,
by percentage or a fixed amount per period, one invoice per payer, each taxed by its own
profile, and a partial credit on one payer's invoice that only that payer is billed again for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

import pytest

from domain import ids
from domain.billing import BilledLedger, LedgerEntry, SourceKind, SourceRef
from domain.billing_run import BillingProposal, BillingRunInput, InvoiceProposal, run_billing
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.errors import InvalidTermsError
from domain.invoice import Invoice
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency, Money, dsum
from domain.period import Period
from domain.recurring import RecurringTerms
from domain.split import ObligationPayers, Payer, payer_shares
from domain.tax import REVERSE_CHARGE_NOTE, TaxProfile
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import TimeEntry
from tests.support.builders import (
    APRIL,
    AT,
    CUSTOMER,
    ENTITY,
    MARCH,
    OPEN,
    TAX_RATES,
    TM,
    VAT,
    d,
    entry,
    issued_invoice,
    rate_card,
)

FEE = ids.ObligationId("fee")
PARENT = ids.CustomerId("acme-holding")
GRANT = ids.CustomerId("innovation-grant")


def money(text: str, code: str = "EUR") -> Money:
    return Money(Decimal(text), Currency.of(code))


def fee_terms(amount: str, code: str = "EUR") -> RecurringTerms:
    return RecurringTerms(FEE, "Managed service", Currency.of(code), d(amount), date(2026, 3, 1))


def tm_terms() -> TimeAndMaterialsTerms:
    return TimeAndMaterialsTerms(TM, "Advisory", Currency.of("EUR"), ids.RateCardId("RC"))


def split_contract(
    terms: object, payers: Sequence[Payer], code: str = "EUR", customer: ids.CustomerId = CUSTOMER
) -> Contract:
    currency = Currency.of(code)
    c = Contract(ids.ContractId("C1"), customer, ENTITY, currency, "Shared program")
    oid = terms.obligation_id  # type: ignore[attr-defined]
    c.draft_version(date(2026, 1, 1), [terms], payers=[ObligationPayers(oid, tuple(payers))])
    c.approve_version(1, "legal", AT)
    return c


def profiles(
    payers: Iterable[ids.CustomerId], overrides: dict[ids.CustomerId, TaxProfile] | None = None
) -> dict[tuple[ids.CustomerId, object], TaxProfile]:
    found = {(p, ENTITY): TaxProfile(p, ENTITY, VAT) for p in payers}
    for payer_id, profile in (overrides or {}).items():
        found[(payer_id, ENTITY)] = profile
    return found  # type: ignore[return-value]


def bill(
    period: Period,
    c: Contract,
    entries: Iterable[TimeEntry] = (),
    ledger: BilledLedger | None = None,
    tax_profiles: dict[tuple[ids.CustomerId, object], TaxProfile] | None = None,
    milestones: Iterable[Milestone] = (),
) -> BillingProposal:
    return run_billing(
        BillingRunInput(
            period=period,
            contracts=(c,),
            rate_cards={ids.RateCardId("RC"): rate_card()},
            time_entries=tuple(entries),
            expenses=(),
            milestones=tuple(milestones),
            ledger=ledger or BilledLedger(),
            tax_profiles=tax_profiles or profiles([CUSTOMER, PARENT, GRANT]),  # type: ignore[arg-type]
            tax_rates=TAX_RATES,
        )
    )


def by_payer(proposal: BillingProposal) -> dict[ids.CustomerId, InvoiceProposal]:
    return {invoice.payer: invoice for invoice in proposal.invoices}


def seventy_thirty() -> list[Payer]:
    return [Payer.percentage(CUSTOMER, "70"), Payer.percentage(PARENT, "30")]


PERCENTAGE_SPLITS = [
    # 100001 cents: 70000.7 and 30000.3; the left-over cent goes to the larger remainder
    pytest.param(
        "1000.01",
        [(CUSTOMER, "70", "700.01"), (PARENT, "30", "300.00")],
        id="a_70_30_split_of_an_odd_amount_sums_exactly_to_the_unsplit_line",
    ),
    # 1.5 and 3.5 cents: equal remainders, the first listed payer takes the cent
    pytest.param(
        "0.05",
        [(PARENT, "30", "0.02"), (CUSTOMER, "70", "0.03")],
        id="the_known_answer_five_cents_at_30_70_gives_the_tie_to_the_payer_listed_first",
    ),
    pytest.param(
        "100.01",
        [(CUSTOMER, "33.34", "33.35"), (PARENT, "33.33", "33.33"), (GRANT, "33.33", "33.33")],
        id="three_near_equal_thirds_of_an_odd_amount_sum_exactly",
    ),
    # 0.75, 0.75 and 1.5 cents: floors 0, 0, 1; two cents left, ties to the first listed
    pytest.param(
        "0.03",
        [(CUSTOMER, "25", "0.01"), (PARENT, "25", "0.01"), (GRANT, "50", "0.01")],
        id="equal_thirds_of_one_cent_less_give_the_ties_to_the_first_payers",
    ),
]


@pytest.mark.parametrize(("fee", "shares"), PERCENTAGE_SPLITS)
def test_a_fee_split_by_percentages_is_shared_by_largest_remainder_ties_to_the_first_listed(
    fee: str, shares: list[tuple[ids.CustomerId, str, str]]
) -> None:
    payers = [Payer.percentage(payer, percent) for payer, percent, _ in shares]
    invoices = by_payer(bill(MARCH, split_contract(fee_terms(fee), payers)))
    billed = [invoices[payer].lines[0].amount for payer, _, _ in shares]
    assert billed == [money(amount) for _, _, amount in shares]


def test_a_fixed_amount_payer_takes_its_amount_first_and_the_rest_is_shared() -> None:
    payers = [Payer.fixed(GRANT, money("500.00")), *seventy_thirty()]
    invoices = by_payer(bill(MARCH, split_contract(fee_terms("1200.00"), payers)))
    assert invoices[GRANT].totals.net == money("500.00")
    assert invoices[CUSTOMER].totals.net == money("490.00")  # 70 % of 700.00
    assert invoices[PARENT].totals.net == money("210.00")


def test_a_fixed_amount_is_never_more_than_the_obligations_lines_of_the_period() -> None:
    payers = [Payer.fixed(GRANT, money("5000.00")), Payer.percentage(CUSTOMER, "100")]
    proposal = bill(MARCH, split_contract(fee_terms("1200.00"), payers))
    (invoice,) = proposal.invoices
    assert (invoice.payer, invoice.totals.net) == (GRANT, money("1200.00"))


def test_a_fixed_amount_spreads_over_the_periods_lines_and_bills_exactly_its_amount() -> None:
    payers = [Payer.fixed(GRANT, money("100.00")), Payer.percentage(CUSTOMER, "100")]
    c = split_contract(tm_terms(), payers)
    entries = [
        entry("e1", date(2026, 3, 2), "1.33", role="consultant"),
        entry("e2", date(2026, 3, 3), "2.2", role="consultant"),
    ]
    invoices = by_payer(bill(MARCH, c, entries))
    assert invoices[GRANT].totals.net == money("100.00")
    assert invoices[CUSTOMER].totals.net == money("253.00")  # 353.00 - 100.00


def test_a_fixed_amount_payer_never_pays_the_lines_rounding_cent() -> None:
    """3.36 h at 151.07 is 507.5952, billed 507.60: the fixed 463.75 is taken exactly and the
    rounding cent goes to the percentage payers (it went to the fixed payer: 463.76)."""
    payers = [
        Payer.fixed(GRANT, money("463.75")),
        Payer.percentage(CUSTOMER, "0.03"),
        Payer.percentage(PARENT, "99.97"),
    ]
    proposal = run_billing(
        BillingRunInput(
            period=MARCH,
            contracts=(split_contract(tm_terms(), payers),),
            rate_cards={
                ids.RateCardId("RC"): rate_card(
                    versions=((date(2026, 1, 1), {"senior": "151.07"}),)
                )
            },
            time_entries=(entry("e1", date(2026, 3, 2), "3.36", role="senior"),),
            expenses=(),
            milestones=(),
            ledger=BilledLedger(),
            tax_profiles=profiles([CUSTOMER, PARENT, GRANT]),  # type: ignore[arg-type]
            tax_rates=TAX_RATES,
        )
    )
    nets = {payer: invoice.totals.net for payer, invoice in by_payer(proposal).items()}
    assert nets == {GRANT: money("463.75"), CUSTOMER: money("0.01"), PARENT: money("43.84")}
    assert sum(n.amount for n in nets.values()) == Decimal("507.60")


def test_jpy_splits_on_whole_yen() -> None:
    invoices = by_payer(
        bill(MARCH, split_contract(fee_terms("100001", "JPY"), seventy_thirty(), "JPY"))
    )
    assert invoices[CUSTOMER].lines[0].amount == money("70001", "JPY")
    assert invoices[PARENT].lines[0].amount == money("30000", "JPY")


def test_bhd_splits_on_fils() -> None:
    payers = [Payer.percentage(CUSTOMER, "50"), Payer.percentage(PARENT, "50")]
    invoices = by_payer(bill(MARCH, split_contract(fee_terms("10.001", "BHD"), payers, "BHD")))
    assert invoices[CUSTOMER].lines[0].amount == money("5.001", "BHD")
    assert invoices[PARENT].lines[0].amount == money("5.000", "BHD")


def test_a_run_produces_one_invoice_per_payer_for_the_same_contract() -> None:
    proposal = bill(MARCH, split_contract(fee_terms("1000.00"), seventy_thirty()))
    assert [(i.key, i.payer, i.customer_id) for i in proposal.invoices] == [
        ("C1/2026-03", CUSTOMER, CUSTOMER),
        ("C1/2026-03/acme-holding", PARENT, CUSTOMER),
    ]
    assert all(i.legal_entity_id == ENTITY for i in proposal.invoices)


def test_each_payer_is_taxed_by_its_own_profile() -> None:
    reverse = TaxProfile(PARENT, ENTITY, VAT, reverse_charge=True)
    proposal = bill(
        MARCH,
        split_contract(fee_terms("1000.00"), seventy_thirty()),
        tax_profiles=profiles([CUSTOMER, PARENT], {PARENT: reverse}),
    )
    invoices = by_payer(proposal)
    assert invoices[CUSTOMER].totals.tax == money("140.00")  # 20 % of 700.00
    parent_tax = invoices[PARENT].totals.tax_lines[0]
    assert (parent_tax.amount, parent_tax.note) == (money("0.00"), REVERSE_CHARGE_NOTE)


def test_a_payer_without_a_tax_profile_blocks_the_contract() -> None:
    proposal = bill(
        MARCH,
        split_contract(fee_terms("1000.00"), seventy_thirty()),
        tax_profiles=profiles([CUSTOMER]),
    )
    assert proposal.invoices == ()
    (blocked,) = proposal.blocked
    assert blocked.reason == "missing_tax_profile"
    assert "payer acme-holding" in blocked.detail


def test_every_allocation_records_its_payer_and_the_parts_sum_to_the_source() -> None:
    c = split_contract(tm_terms(), seventy_thirty())
    entries = [entry("e1", date(2026, 3, 2), "1.01"), entry("e2", date(2026, 3, 3), "0.07")]
    proposal = bill(MARCH, c, entries)
    entries_billed = proposal.ledger_entries()
    for source_id, hours in (("e1", d("1.01")), ("e2", d("0.07"))):
        parts = [e for e in entries_billed if e.source.source_id == source_id]
        assert {e.payer for e in parts} == {CUSTOMER, PARENT}
        assert dsum(e.quantity for e in parts) == hours
        assert dsum(e.amount.amount for e in parts) == hours * 100
    for invoice in proposal.invoices:
        for line in invoice.lines:
            exact = dsum(a.amount.amount for a in line.allocations)
            assert Money(exact, line.amount.currency).quantized() == line.amount
    shares = payer_shares(entries_billed, CUSTOMER)
    assert shares[(SourceRef(SourceKind.TIME_ENTRY, "e1"), PARENT)] == d("0.303")


def _issued(proposal: BillingProposal, payer: ids.CustomerId, number: str) -> Invoice:
    return issued_invoice(by_payer(proposal)[payer], f"INV-{number}", number)


def _ledger(*invoices: Invoice, memos: Sequence[CreditMemo] = ()) -> BilledLedger:
    entries: list[LedgerEntry] = []
    for invoice in invoices:
        entries += invoice.ledger_entries()
    for memo in memos:
        entries += memo.ledger_entries()
    return BilledLedger(tuple(entries))


def _both_issued(first: BillingProposal) -> tuple[Invoice, Invoice]:
    """The customer's and then the parent's invoice of a run, issued in that order."""
    return _issued(first, CUSTOMER, "2026-0001"), _issued(first, PARENT, "2026-0002")


def _credited(
    invoice: Invoice, request: CreditRequest, reason: str, write_off: bool = False
) -> CreditMemo:
    """A credit memo on one payer's invoice: drafted by AR, approved by the finance lead and
    issued on 2 April."""
    memo = CreditMemo.against(
        ids.CreditMemoId("CM-1"), invoice, [request], reason, "ar-clerk", write_off
    )
    memo.approve("finance-lead", AT)
    memo.issue(invoice, "CN-0001", date(2026, 4, 2), AT, OPEN)
    return memo


def _ten_hours_split_seventy_thirty() -> tuple[Contract, list[TimeEntry], BillingProposal]:
    """Ten hours on 2 March under time and materials shared 70/30, and March's run."""
    c = split_contract(tm_terms(), seventy_thirty())
    entries = [entry("e1", date(2026, 3, 2), "10")]
    return c, entries, bill(MARCH, c, entries)


def test_a_partial_credit_on_one_payers_invoice_is_billed_again_to_that_payer_only() -> None:
    c, entries, first = _ten_hours_split_seventy_thirty()
    customer, parent = _both_issued(first)
    assert parent.payer == PARENT
    assert parent.totals.net == money("300.00")
    e1 = SourceRef(SourceKind.TIME_ENTRY, "e1")
    memo = _credited(parent, CreditRequest(1, e1, d("1")), "1 h disputed")
    assert memo.totals.net == money("100.00")
    assert customer.outstanding == money("840.00")  # the customer's invoice is untouched
    ledger = _ledger(customer, parent, memos=[memo])
    assert all(e.payer == PARENT for e in memo.ledger_entries())
    rebill = bill(APRIL, c, entries, ledger)
    (invoice,) = rebill.invoices
    assert (invoice.payer, invoice.totals.net) == (PARENT, money("100.00"))
    after = payer_shares(ledger.plus(rebill.ledger_entries()).entries, CUSTOMER)
    assert (after[(e1, CUSTOMER)], after[(e1, PARENT)]) == (d("7"), d("3"))
    assert bill(APRIL, c, entries, ledger.plus(rebill.ledger_entries())).is_empty


def test_a_write_off_credit_on_one_payers_invoice_is_never_billed_again() -> None:
    c, entries, first = _ten_hours_split_seventy_thirty()
    customer, parent = _both_issued(first)
    memo = _credited(parent, CreditRequest(1, quantity=d("1")), "goodwill", write_off=True)
    assert bill(APRIL, c, entries, _ledger(customer, parent, memos=[memo])).is_empty


def test_a_customer_listed_as_the_only_payer_of_part_is_billed_with_the_unsplit_rest() -> None:
    c = Contract(ids.ContractId("C1"), CUSTOMER, ENTITY, Currency.of("EUR"), "Hybrid")
    c.draft_version(
        date(2026, 1, 1),
        [fee_terms("1000.00"), tm_terms()],
        payers=[ObligationPayers(FEE, tuple(seventy_thirty()))],
    )
    c.approve_version(1, "legal", AT)
    invoices = by_payer(bill(MARCH, c, [entry("e1", date(2026, 3, 2), "2")]))
    assert [line.obligation_id for line in invoices[CUSTOMER].lines] == [FEE, TM]
    assert invoices[CUSTOMER].totals.net == money("900.00")  # 700.00 + 200.00
    assert [line.obligation_id for line in invoices[PARENT].lines] == [FEE]


def test_payers_are_commercial_terms_and_an_amendment_can_change_them() -> None:
    c = split_contract(fee_terms("1000.00"), seventy_thirty())
    half = [Payer.percentage(CUSTOMER, "50"), Payer.percentage(PARENT, "50")]
    c.draft_version(
        date(2026, 4, 1), [fee_terms("1000.00")], payers=[ObligationPayers(FEE, tuple(half))]
    )
    c.approve_version(2, "legal", AT)
    assert c.diff(1, 2).changed == (FEE,)
    march = bill(MARCH, c)
    assert by_payer(march)[PARENT].totals.net == money("300.00")
    april = bill(APRIL, c, ledger=BilledLedger(tuple(march.ledger_entries())))
    assert by_payer(april)[PARENT].totals.net == money("500.00")


def test_an_obligation_without_payers_bills_the_customer_exactly_as_before() -> None:
    c = Contract(ids.ContractId("C1"), CUSTOMER, ENTITY, Currency.of("EUR"), "Plain")
    c.draft_version(date(2026, 1, 1), [fee_terms("1000.01")])
    c.approve_version(1, "legal", AT)
    (invoice,) = bill(MARCH, c, tax_profiles=profiles([CUSTOMER])).invoices
    assert (invoice.key, invoice.payer_id, invoice.totals.net) == (
        "C1/2026-03",
        None,
        money("1000.01"),
    )
    assert all(a.payer is None for a in invoice.lines[0].allocations)


@pytest.mark.parametrize(
    ("payers", "message"),
    [
        ([Payer.percentage(CUSTOMER, "70"), Payer.percentage(PARENT, "20")], "sum to 90"),
        ([Payer.fixed(GRANT, money("100.00"))], "at least one payer needs a percentage"),
        ([Payer.percentage(CUSTOMER, "50"), Payer.percentage(CUSTOMER, "50")], "listed twice"),
        ([Payer.percentage(CUSTOMER, "0"), Payer.percentage(PARENT, "100")], "more than 0"),
        (
            [Payer.fixed(GRANT, money("100.00", "USD")), Payer.percentage(CUSTOMER, "100")],
            "pays in USD",
        ),
        (
            [Payer.fixed(GRANT, money("100.001")), Payer.percentage(CUSTOMER, "100")],
            "whole EUR minor units",
        ),
        ([Payer(CUSTOMER)], "either a percentage or a fixed amount"),
        ([], "at least one payer"),
    ],
)
def test_payers_that_do_not_add_up_are_refused_with_the_rule_they_break(
    payers: list[Payer], message: str
) -> None:
    with pytest.raises(InvalidTermsError, match=message):
        split_contract(fee_terms("1000.00"), payers)


def test_payers_for_an_obligation_the_version_does_not_hold_are_refused() -> None:
    c = Contract(ids.ContractId("C1"), CUSTOMER, ENTITY, Currency.of("EUR"), "Plain")
    with pytest.raises(InvalidTermsError, match="does not hold"):
        c.draft_version(
            date(2026, 1, 1),
            [fee_terms("1000.00")],
            payers=[ObligationPayers(TM, tuple(seventy_thirty()))],
        )


def test_a_fixed_amount_never_leaves_another_payer_a_negative_period() -> None:
    program = MilestoneTerms(
        FEE, "Program", Currency.of("EUR"), d("1000.00"),
        (MilestoneSpec(ids.MilestoneId("m1"), "Phase 1", percentage=d("25")),
         MilestoneSpec(ids.MilestoneId("m2"), "Phase 2", percentage=d("75"), final=True)),
        retention_percent=d("10"),
    )  # fmt: skip
    payers = [Payer.fixed(GRANT, money("300.00")), Payer.percentage(CUSTOMER, "100")]
    c = split_contract(program, payers)
    m1 = Milestone.plan(ids.MilestoneId("m1"), FEE, "Phase 1", AT)
    m1.complete("signed", date(2026, 3, 10), AT)
    m1.accept("sponsor", date(2026, 3, 10), AT)
    proposal = bill(MARCH, c, tax_profiles=profiles([CUSTOMER, GRANT]), milestones=[m1])
    invoices = by_payer(proposal)
    # 250.00 billed less 25.00 withheld: the grant takes the period's net of 225.00, not 250.00
    assert invoices[GRANT].totals.net == money("225.00")
    assert invoices[CUSTOMER].totals.net == money("0.00")


def a_programme_split_seventy_thirty_with_its_milestone_accepted() -> tuple[Contract, Milestone]:
    """A 1,000.00 programme of one milestone, shared 70/30, accepted on 2 March."""
    program = ids.ObligationId("program")
    terms = MilestoneTerms(
        program, "Programme", Currency.of("EUR"), d("1000.00"),
        (MilestoneSpec(ids.MilestoneId("m1"), "Phase 1", amount=d("1000.00")),),
    )  # fmt: skip
    m1 = Milestone.plan(ids.MilestoneId("m1"), program, "Phase 1", AT)
    m1.complete("signed deliverable", date(2026, 3, 2), AT)
    m1.accept("client-sponsor", date(2026, 3, 2), AT)
    return split_contract(terms, seventy_thirty()), m1


def test_an_amount_released_on_one_payers_milestone_is_billed_again_to_that_payer_only() -> None:
    c, m1 = a_programme_split_seventy_thirty_with_its_milestone_accepted()

    def run(period: Period, ledger: BilledLedger) -> BillingProposal:
        return bill(period, c, (), ledger, profiles([CUSTOMER, PARENT]), milestones=[m1])

    customer, parent = _both_issued(run(MARCH, BilledLedger()))
    assert (customer.totals.net, parent.totals.net) == (money("700.00"), money("300.00"))
    memo = _credited(
        parent,
        CreditRequest(1, amount=d("100.00"), releases=True),
        "invoiced against the wrong purchase order",
    )
    ledger = _ledger(customer, parent, memos=[memo])
    rebill = run(APRIL, ledger)
    (invoice,) = rebill.invoices
    assert (invoice.payer, invoice.totals.net) == (PARENT, money("100.00"))
    assert run(APRIL, ledger.plus(rebill.ledger_entries())).is_empty


def test_a_milestone_split_between_payers_bills_nothing_more_once_billed() -> None:
    c, m1 = a_programme_split_seventy_thirty_with_its_milestone_accepted()
    payers = profiles([CUSTOMER, PARENT])
    first = bill(MARCH, c, tax_profiles=payers, milestones=[m1])
    assert len(first.invoices) == 2
    # The milestone's first billing is both payers' documents, not the first of them alone:
    # nothing is left over to block the contract with `fee_not_scheduled`.
    again = bill(
        APRIL,
        c,
        ledger=BilledLedger(tuple(first.ledger_entries())),
        tax_profiles=payers,
        milestones=[m1],
    )
    assert again.blocked == ()
    assert again.is_empty
