"""Invariants of split billing over random amounts, shares and credits: every line's parts sum
exactly to the unsplit line, every source's parts to the source, the payers together are billed
exactly what one customer would be, and a credit on one payer's invoice is billed again to that
payer only, restoring its share, with nothing billed twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.billing import BilledLedger, SourceKind, SourceRef
from domain.billing_run import BillingProposal
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.ids import ContractId, CreditMemoId, CustomerId, RateCardId
from domain.invoice import Invoice
from domain.money import Currency, Money, dsum, money_sum
from domain.period import Period
from domain.split import ObligationPayers, Payer, payer_shares
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import TimeEntry
from tests.support.builders import (
    APRIL,
    AT,
    CUSTOMER,
    ENTITY,
    MARCH,
    OPEN,
    TM,
    entry,
    issued_invoice,
    rate_card,
    run,
)

OTHERS = [CustomerId("holding"), CustomerId("grant"), CustomerId("foundation")]


@st.composite
def shares(draw: st.DrawFn, code: str) -> list[Payer]:
    """The customer and up to three other payers; percentages in hundredths summing to 100,
    perhaps a fixed amount per period first."""
    others = draw(st.integers(1, 3))
    ids = [CUSTOMER, *OTHERS[:others]]
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=others, max_size=others)))
    bounds = [0, *cuts, 10000]
    if len(set(bounds)) != len(bounds):
        cuts = list(range(1, others + 1))
        bounds = [0, *cuts, 10000]
    percents = [Decimal(bounds[i + 1] - bounds[i]) / 100 for i in range(len(ids))]
    payers = [Payer.percentage(p, pct) for p, pct in zip(ids, percents, strict=True)]
    if draw(st.booleans()):
        currency = Currency.of(code)
        minor = draw(st.integers(1, 300_000))
        payers.insert(0, Payer.fixed(CustomerId("sponsor"), Money.from_minor(minor, currency)))
    order = draw(st.permutations(range(len(payers))))
    return [payers[i] for i in order]


@st.composite
def split_deliveries(draw: st.DrawFn) -> tuple[Contract, list[TimeEntry], list[Payer]]:
    code = draw(st.sampled_from(["EUR", "JPY", "BHD"]))
    payers = draw(shares(code))
    currency = Currency.of(code)
    c = Contract(ContractId("C1"), CUSTOMER, ENTITY, currency, "Shared")
    terms = TimeAndMaterialsTerms(TM, "Work", currency, RateCardId("RC"))
    c.draft_version(date(2026, 1, 1), [terms], payers=[ObligationPayers(TM, tuple(payers))])
    c.approve_version(1, "legal", AT)
    entries = []
    for i in range(draw(st.integers(1, 8))):
        day = date(2026, 3, 1) + timedelta(days=draw(st.integers(0, 30)))
        hours = Decimal(draw(st.integers(1, 1000))) / 100
        role = draw(st.sampled_from(["consultant", "senior"]))
        entries.append(entry(f"e{i}", day, str(hours), role=role))
    return c, entries, payers


def bill(
    period: Period, c: Contract, entries: Sequence[TimeEntry], ledger: BilledLedger
) -> BillingProposal:
    code = c.currency.code
    card = rate_card(code, ((date(2026, 1, 1), {"consultant": "97.13", "senior": "151.07"}),))
    return run(period, [c], [card], entries, ledger=ledger)


def billed_split_and_whole(
    c: Contract, entries: Sequence[TimeEntry]
) -> tuple[BillingProposal, Invoice]:
    """March billed with the contract's payers, and the one invoice it makes without them."""
    split = bill(MARCH, c, entries, BilledLedger())
    (whole,) = bill(MARCH, unsplit(c), entries, BilledLedger()).invoices
    return split, whole


def unsplit(c: Contract) -> Contract:
    plain = Contract(c.contract_id, c.customer_id, c.legal_entity_id, c.currency, "Plain")
    plain.draft_version(date(2026, 1, 1), list(c.versions[0].obligations))
    plain.approve_version(1, "legal", AT)
    return plain


@settings(max_examples=150, deadline=None)
@given(split_deliveries())
def test_the_parts_of_every_line_and_every_source_sum_exactly_to_the_unsplit_ones(
    case: tuple[Contract, list[TimeEntry], list[Payer]],
) -> None:
    c, entries, _ = case
    split, one = billed_split_and_whole(c, entries)
    currency = c.currency
    split_lines = {}
    for invoice in split.invoices:
        for line in invoice.lines:
            split_lines.setdefault(line.description, []).append(line)
            exact = money_sum((a.amount for a in line.allocations), currency)
            assert exact.quantized() == line.amount  # a full credit takes back exactly the line
            assert all(a.payer == invoice.payer for a in line.allocations)
    for line in one.lines:
        parts = split_lines[line.description]
        assert money_sum((p.amount for p in parts), currency) == line.amount
        assert dsum(p.quantity for p in parts) == line.quantity
    billed = split.ledger_entries()
    for allocation in (a for line in one.lines for a in line.allocations):
        mine = [e for e in billed if e.source == allocation.source]
        assert dsum(e.quantity for e in mine) == allocation.quantity
        assert dsum(e.amount.amount for e in mine) == allocation.amount.amount
    total = money_sum((i.totals.net for i in split.invoices), currency)
    assert total == one.totals.net


@settings(max_examples=150, deadline=None)
@given(split_deliveries())
def test_fixed_amounts_are_billed_first_and_never_beyond_the_period(
    case: tuple[Contract, list[TimeEntry], list[Payer]],
) -> None:
    c, entries, payers = case
    split, whole = billed_split_and_whole(c, entries)
    nets = {i.payer: i.totals.net for i in split.invoices}
    for payer in payers:
        if payer.fixed_amount is not None:
            expected = min(payer.fixed_amount, whole.totals.net)
            # the fixed payer takes its amount, save what whole-cent lines cannot give it
            got = nets.get(payer.payer_id, Money.zero(c.currency))
            assert got <= expected
            assert expected - got <= Money.from_minor(len(whole.lines), c.currency)


@settings(max_examples=100, deadline=None)
@given(split_deliveries(), st.data())
def test_a_credit_on_one_payers_invoice_is_billed_again_to_that_payer_only(
    case: tuple[Contract, list[TimeEntry], list[Payer]], data: st.DataObject
) -> None:
    c, entries, _ = case
    first = bill(MARCH, c, entries, BilledLedger())
    issued = []
    for n, draft in enumerate(first.invoices, 1):
        issued.append(issued_invoice(draft, f"INV-{n}", f"2026-{n:04d}"))
    ledger = BilledLedger(tuple(e for i in issued for e in i.ledger_entries()))
    before = payer_shares(ledger.entries, CUSTOMER)
    target = data.draw(st.sampled_from(issued))
    line = data.draw(st.sampled_from(target.lines))
    allocation = data.draw(st.sampled_from([a for a in line.allocations if a.quantity > 0]))
    hundredths = int(allocation.quantity * 100)
    quantity = (
        Decimal(data.draw(st.integers(1, hundredths))) / 100
        if hundredths >= 1
        else allocation.quantity
    )
    memo = CreditMemo.against(
        CreditMemoId("CM-1"), target, [CreditRequest(line.line_no, allocation.source, quantity)],
        "disputed", "clerk",
    )  # fmt: skip
    memo.approve("lead", AT)
    memo.issue(target, "CN-1", date(2026, 4, 2), AT, OPEN)
    ledger = ledger.plus(memo.ledger_entries())
    rebill = bill(APRIL, c, entries, ledger)
    assert [i.payer for i in rebill.invoices] == [target.payer]
    ledger = ledger.plus(rebill.ledger_entries())
    assert payer_shares(ledger.entries, CUSTOMER) == before  # every payer back to its share
    for e in entries:
        source = SourceRef(SourceKind.TIME_ENTRY, e.entry_id)
        assert ledger.billed_quantity(source) == e.hours  # billed once, in full, never more
    assert bill(APRIL, c, entries, ledger).is_empty
