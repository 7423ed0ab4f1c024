"""Intercompany invariants over random time, transfers, contracts and policies: every journal
entry balances in whole minor units, the provider's intercompany revenue equals the
recipient's intercompany payable, every approved entry is recharged, reported or internal
(never dropped), and the ambient decimal context changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ids
from domain.accounting_period import PeriodLock
from domain.contract import Contract
from domain.employment import EmploymentHistory
from domain.intercompany import (
    IntercompanyStatement,
    RechargeSide,
    TransferPolicy,
    TransferPricing,
    intercompany_recharges,
)
from domain.ledger import Account, trial_balance
from domain.money import EXACT, Currency, Money
from domain.period import Period
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import TimeEntry

MARCH = Period.month(2026, 3)
ENTITIES = [ids.LegalEntityId(name) for name in ("uk", "de", "fr")]
CURRENCIES = ["EUR", "JPY", "BHD"]
RESOURCES = [ids.ResourceId(f"r{n}") for n in range(4)]


def a_contract(number: int, entity: ids.LegalEntityId, code: str) -> Contract:
    currency = Currency.of(code)
    oid = ids.ObligationId(f"ob-{number}")
    contract = Contract(ids.ContractId(f"C{number}"), ids.CustomerId("acme"), entity, currency)
    contract.draft_version(
        date(2026, 1, 1), [TimeAndMaterialsTerms(oid, "T&M", currency, ids.RateCardId("RC"))]
    )
    contract.approve_version(1, "legal", datetime(2026, 1, 1, tzinfo=UTC))
    return contract


contracts = st.lists(
    st.tuples(st.sampled_from(ENTITIES), st.sampled_from(CURRENCIES)), min_size=1, max_size=3
).map(lambda specs: [a_contract(n, entity, code) for n, (entity, code) in enumerate(specs)])

days = st.integers(min_value=0, max_value=30).map(lambda n: MARCH.start + timedelta(days=n))
hours = st.integers(min_value=1, max_value=2400).map(lambda n: Decimal(n).scaleb(-2))
cost_rates = st.one_of(
    st.none(), st.integers(min_value=0, max_value=5_000_000).map(lambda n: Decimal(n).scaleb(-4))
)
markups = st.integers(min_value=0, max_value=100_000).map(lambda n: Decimal(n).scaleb(-3))


@st.composite
def histories(draw: Any) -> dict[ids.ResourceId, EmploymentHistory]:
    found = {}
    for resource in RESOURCES:
        if draw(st.booleans()) and resource != RESOURCES[0]:
            continue  # a resource with no history (its entries are reported)
        first = draw(st.sampled_from(ENTITIES))
        moves = draw(st.lists(st.tuples(days, st.sampled_from(ENTITIES)), max_size=3))
        transfers = sorted({day: entity for day, entity in moves if day > MARCH.start}.items())
        found[resource] = EmploymentHistory.transferred(resource, first, MARCH.start, transfers)
    return found


@st.composite
def pricings(draw: Any) -> TransferPricing:
    pairs = [(p, r) for p in ENTITIES for r in ENTITIES if p != r]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True))
    default = draw(st.one_of(st.none(), markups))
    return TransferPricing.of([TransferPolicy(p, r, draw(markups)) for p, r in chosen], default)


World = tuple[
    list[TimeEntry], list[Contract], dict[ids.ResourceId, EmploymentHistory], TransferPricing
]


@st.composite
def worlds(
    draw: Any,
) -> tuple[
    list[TimeEntry], list[Contract], dict[ids.ResourceId, EmploymentHistory], TransferPricing
]:
    chosen = draw(contracts)
    obligations = [oid for c in chosen for oid in c.obligation_ids()]
    entries = []
    for n in range(draw(st.integers(min_value=0, max_value=25))):
        entry = TimeEntry.received_approved(
            ids.TimeEntryId(f"T{n:03d}"),
            draw(st.sampled_from(obligations)),
            draw(st.sampled_from(RESOURCES)),
            ids.Role("consultant"),
            draw(days),
            draw(hours),
            cost_rate=draw(cost_rates),
        )
        entries.append(entry)
    return entries, chosen, draw(histories()), draw(pricings())


def run(world: World) -> IntercompanyStatement:
    entries, chosen, found, pricing = world
    return intercompany_recharges(MARCH, entries, chosen, found, pricing, PeriodLock())


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_every_recharge_entry_balances_and_both_sides_book_the_same_amount(
    world: World,
) -> None:
    found = run(world)
    for recharge in found.recharges:
        exact = EXACT.multiply(
            recharge.cost.amount, EXACT.add(1, EXACT.divide(recharge.markup_percent, 100))
        )
        half_unit = recharge.currency.exponent / 2
        assert abs(EXACT.subtract(recharge.amount.amount, exact)) <= half_unit
        assert recharge.amount.quantized() == recharge.amount
        if recharge.amount.is_zero():
            assert recharge.postings == ()
            continue
        provider, recipient = recharge.postings
        assert (provider.side, recipient.side) == (RechargeSide.PROVIDER, RechargeSide.RECIPIENT)
        for posting in recharge.postings:
            entry = posting.entry
            debits = sum(line.debit.minor for line in entry.lines)
            credits = sum(line.credit.minor for line in entry.lines)
            assert debits == credits == recharge.amount.minor
        revenue = trial_balance([provider.entry])[Account.INTERCOMPANY_REVENUE]
        payable = trial_balance([recipient.entry])[Account.INTERCOMPANY_PAYABLE]
        assert revenue == payable == -recharge.amount


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_every_approved_entry_is_recharged_reported_or_internal_exactly_once(
    world: World,
) -> None:
    entries, chosen, found_histories, _ = world
    found = run(world)
    recharged = [e.entry_id for r in found.recharges for e in r.entries]
    reported = [p.entry_id for p in found.exceptions]
    entity_of = {oid: c.legal_entity_id for c in chosen for oid in c.obligation_ids()}
    internal = [
        e.entry_id
        for e in entries
        if e.resource_id in found_histories
        and found_histories[e.resource_id].entity_on(e.work_date) == entity_of[e.obligation_id]
    ]
    assert sorted(recharged + reported + internal) == sorted(e.entry_id for e in entries)
    for recharge in found.recharges:
        assert recharge.provider != recharge.recipient
        assert {e.obligation_id for e in recharge.entries} <= set(entity_of)
        assert recharge.cost == sum(
            (e.cost for e in recharge.entries), Money.zero(recharge.currency)
        )


@settings(max_examples=50, deadline=None)
@given(worlds())
def test_the_ambient_decimal_context_changes_nothing(world: World) -> None:
    expected = run(world)
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        ctx.prec = 5
        assert run(world) == expected
