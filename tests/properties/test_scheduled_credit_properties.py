"""Credits on scheduled fees (ADR 0026, 0027), over random schedules: fixed fees by
installments and milestone fees with retention, milestones accepted in any order (some
rejected first), credits by quantity and by amount, releasing or written off, before and after
the last bill. At every step:

- what the schedule billed less what credits released never exceeds the fee;
- no milestone, installment or retention release ever bills more than its own scheduled
  amount plus what was released on it, and its first bill is exactly its scheduled amount;
- a billing run never blocks and revenue recognition never raises, and revenue stays within
  the fee less what was forgiven.

Once everything is accepted and billed, the parts billed exactly the fee plus every release,
and nothing is left open.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import attrs
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.billing import BilledLedger, SourceKind, SourceRef
from domain.contract import Contract
from domain.credit_memo import CREDITABLE_STATES, CreditRequest
from domain.errors import OverCreditError
from domain.fixed_fee import FixedFeeTerms, Installment
from domain.ids import InstallmentId, MilestoneId, ObligationId
from domain.invoice import Invoice
from domain.milestone import Milestone, MilestoneState
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency, Money, dsum
from domain.period import Period
from domain.revenue import recognised_to_date
from tests.support.builders import AT, contract
from tests.support.credit_books import Books
from tests.support.model_inputs import revenue_context
from tests.support.strategies import splits

OBLIGATION = ObligationId("o")
currencies = st.sampled_from([Currency.of("USD"), Currency.of("JPY"), Currency.of("BHD")])
SCHEDULED = (SourceKind.MILESTONE, SourceKind.INSTALLMENT, SourceKind.RETENTION)


@attrs.frozen
class Schedule:
    terms: MilestoneTerms | FixedFeeTerms
    currency: Currency
    fee: Decimal

    @property
    def is_milestones(self) -> bool:
        return isinstance(self.terms, MilestoneTerms)

    def contract(self) -> Contract:
        return contract([self.terms], currency=self.currency.code)

    def scheduled(self) -> dict[SourceRef, Money]:
        """Each part's amount on the schedule (no change order here), retention included."""
        if isinstance(self.terms, MilestoneTerms):
            amounts = self.terms.amounts()
            out = {}
            for mid, amount in amounts.items():
                out[SourceRef(SourceKind.MILESTONE, mid)] = amount
                held = self.terms.retention_on(amount)
                out[SourceRef(SourceKind.RETENTION, f"{mid}:withheld")] = -held
                out[SourceRef(SourceKind.RETENTION, f"{mid}:released")] = held
            return out
        from domain.fixed_fee import installment_amounts

        return {
            SourceRef(SourceKind.INSTALLMENT, iid): amount
            for iid, amount in installment_amounts(self.terms, {}).items()
        }


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    currency = draw(currencies)
    parts = draw(st.integers(1, 4))
    fee_minor = draw(st.integers(parts, 2_000_000))
    fee = Money.from_minor(fee_minor, currency).amount
    by_percentage = draw(st.booleans())
    if by_percentage:
        weights = [Decimal(p) for p in draw(splits(100, parts))]
    else:
        weights = [Money.from_minor(m, currency).amount for m in draw(splits(fee_minor, parts))]
    if draw(st.booleans()):
        specs = tuple(
            MilestoneSpec(
                MilestoneId(f"m{n}"), f"Phase {n}",
                percentage=w if by_percentage else None, amount=None if by_percentage else w,
                final=n == parts,
            )
            for n, w in enumerate(weights, 1)
        )  # fmt: skip
        retention = Decimal(draw(st.sampled_from([0, 5, 10, 12.5, 20])))
        terms: MilestoneTerms | FixedFeeTerms = MilestoneTerms(
            OBLIGATION, "Program", currency, fee, specs, retention_percent=retention
        )
    else:
        installments = tuple(
            Installment(
                InstallmentId(f"i{n}"), date(2026, n, 15),
                percentage=w if by_percentage else None, amount=None if by_percentage else w,
            )
            for n, w in enumerate(weights, 1)
        )  # fmt: skip
        terms = FixedFeeTerms(OBLIGATION, "Build", currency, fee, installments)
    return Schedule(terms, currency, fee)


@attrs.define
class World:
    schedule: Schedule
    contract: Contract
    milestones: list[Milestone]
    books: Books = attrs.field(factory=Books)
    month: Period = attrs.field(factory=lambda: Period.month(2026, 1))

    def bill(self) -> None:
        proposal = self.books.preview(self.month, [self.contract], self.milestones)
        assert proposal.blocked == ()
        self.books.bill(self.month, [self.contract], self.milestones)
        self.month = self.month.next()

    def day(self) -> date:
        return self.month.start


def creditable(invoice: Invoice) -> list[tuple[int, SourceRef, Decimal, Decimal]]:
    """(line, source, quantity left, value left) of every positive allocation with value left."""
    out = []
    for line in invoice.lines:
        for a in line.allocations:
            if a.amount.is_positive():
                qty, value = invoice.creditable(line.line_no, a.source)
                if value > 0:
                    out.append((line.line_no, a.source, qty, value))
    return out


def credit(world: World, invoice: Invoice, request: CreditRequest, write_off: bool = False) -> None:
    """Issue the credit; an invoice that withheld retention has less left to credit than its
    milestone lines billed, and a credit beyond that is refused with nothing changed."""
    before = dict(invoice.credit_reservations)
    form = "amount" if request.amount is not None else "quantity"
    releases = request.releases or (request.amount is None and not write_off)
    event(f"credit by {form}, {'releasing' if releases else 'written off'}")
    try:
        world.books.credit(invoice, [request], write_off=write_off, on=world.day())
    except OverCreditError:
        event("credit beyond an invoice that withheld retention, refused")
        assert any(line.amount.is_negative() for line in invoice.lines)
        assert invoice.credit_reservations == before


def credit_something(world: World, data: st.DataObject) -> None:
    choices = [
        (inv, c)
        for inv in world.books.invoices
        if inv.state in CREDITABLE_STATES
        for c in creditable(inv)
    ]
    if not choices:
        return
    invoice, (line_no, source, qty_left, value_left) = data.draw(st.sampled_from(choices))
    currency = world.schedule.currency
    write_off = data.draw(st.booleans())
    by_amount = data.draw(st.booleans())
    value_minor = int(Money(value_left, currency).quantized("ROUND_DOWN").minor)
    if by_amount and value_minor > 0:
        minor = data.draw(st.integers(1, value_minor))
        amount = Money.from_minor(minor, currency).amount
        credit(world, invoice, CreditRequest(line_no, source, amount=amount,
                                             releases=not write_off))  # fmt: skip
    elif qty_left > 0:
        quantity = data.draw(st.sampled_from([qty_left, qty_left / 2, qty_left / 4]))
        credit(world, invoice, CreditRequest(line_no, source, quantity), write_off)


def accept_or_reject(world: World, data: st.DataObject) -> None:
    open_ones = [m for m in world.milestones if m.state is not MilestoneState.ACCEPTED]
    if not open_ones:
        return
    m = data.draw(st.sampled_from(open_ones))
    if m.state is not MilestoneState.COMPLETED:
        m.complete("deliverable", world.day(), AT)
    if data.draw(st.booleans()):
        m.accept("client", world.day(), AT)
    else:
        m.reject("client", "not yet", AT)


def check(world: World) -> None:
    ledger: BilledLedger = world.books.ledger
    currency, fee = world.schedule.currency, world.schedule.fee
    scheduled = world.schedule.scheduled()
    entries = [e for e in ledger.entries if e.source.kind in SCHEDULED]
    invoiced = dsum(e.amount.amount for e in entries if not e.takes_back)
    released = dsum(-e.amount.amount for e in entries if e.credit and not e.write_off)
    # revenue gives up what each part conceded, rounded half-up as its credit lines round it
    conceded = dsum(
        Money(ledger.standing(source).conceded, currency).quantized().amount
        for source in {e.source for e in entries}
    )
    assert invoiced - released <= fee
    for source in {e.source for e in entries}:
        standing = ledger.standing(source)
        assert Money(standing.first_billed, currency) == scheduled[source], source
        assert standing.invoiced <= scheduled[source].amount + standing.released, source
    revenue = recognised_to_date(
        world.contract.obligation_history(OBLIGATION),
        revenue_context(world.month.end, currency, milestones=world.milestones, ledger=ledger),
    )
    assert Money.zero(currency) <= revenue + Money(conceded, currency)
    assert revenue <= Money(fee - conceded, currency)


def finish(world: World) -> None:
    """Accept everything, bill until nothing is left; every part billed exactly its amount
    plus what was released on it."""
    for m in world.milestones:
        if m.state is not MilestoneState.ACCEPTED:
            if m.state is not MilestoneState.COMPLETED:
                m.complete("deliverable", world.day(), AT)
            m.accept("client", world.day(), AT)
    while (
        world.month < Period.month(2026, 6)
        or not world.books.preview(world.month, [world.contract], world.milestones).is_empty
    ):
        world.bill()
        check(world)
        assert world.month <= Period.month(2027, 6)
    ledger = world.books.ledger
    if any(s.released for s in map(ledger.standing, world.schedule.scheduled())):
        event("a part billed again after a releasing credit")
    for source, amount in world.schedule.scheduled().items():
        standing = ledger.standing(source)
        if amount.is_zero() and not standing.is_invoiced:
            continue  # a zero part (or zero retention) bills no line
        assert standing.invoiced == amount.amount + standing.released, source
        assert standing.open_release == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=schedules(), data=st.data())
def test_credits_on_scheduled_fees_never_move_money_between_parts(
    schedule: Schedule, data: st.DataObject
) -> None:
    milestones: Sequence[Milestone] = []
    if isinstance(schedule.terms, MilestoneTerms):
        milestones = [
            Milestone.plan(spec.milestone_id, OBLIGATION, spec.name, AT)
            for spec in schedule.terms.milestones
        ]
    world = World(schedule, schedule.contract(), list(milestones))
    steps = data.draw(st.lists(st.sampled_from(["accept", "bill", "credit", "credit"]),
                               max_size=16))  # fmt: skip
    for step in steps:
        if step == "accept" and world.milestones:
            accept_or_reject(world, data)
        elif step == "bill":
            world.bill()
        elif step == "credit":
            credit_something(world, data)
        check(world)
    finish(world)
    # and credits after the last bill: each changes its own part only
    for _ in range(data.draw(st.integers(0, 3))):
        credit_something(world, data)
        check(world)
    finish(world)
    check(world)
