"""The vocabulary of billing: sources, allocations, proposed lines and what a rule returns.

Every billing model is a pure function `bill(terms history, context) -> ObligationBilling`;
the billing run (`domain.billing_run`) calls one per obligation and assembles the documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import ClassVar, Generic, TypeVar

import attrs

from domain.errors import CurrencyMismatchError, DomainError
from domain.ids import CustomerId, ObligationId
from domain.kinds import OpenKind as OpenKind
from domain.money import EXACT, Currency, Money
from domain.period import Period


class SourceKind(OpenKind):
    """What kind of delivery or schedule item an invoice line bills: the kinds of the models
    that came first, declared here; a billing model's module registers its own
    (`SourceKind.register("...")`, docs/adr/0009)."""

    __slots__ = ()
    TIME_ENTRY: ClassVar[SourceKind]
    EXPENSE: ClassVar[SourceKind]
    MILESTONE: ClassVar[SourceKind]
    RETENTION: ClassVar[SourceKind]
    INSTALLMENT: ClassVar[SourceKind]
    RETAINER_PERIOD: ClassVar[SourceKind]
    RECURRING_PERIOD: ClassVar[SourceKind]


@attrs.frozen(order=True, cache_hash=True)
class SourceRef:
    """A billable source item: its kind and its id (time entry id, `obligation:2026-03`, ...)."""

    kind: SourceKind
    source_id: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.source_id}"


@attrs.frozen
class Allocation:
    """Which quantity of which source item a line billed, at what exact value, under which terms
    and, when the obligation is split between payers, to which payer (None: the customer)."""

    source: SourceRef
    quantity: Decimal
    amount: Money
    terms: str = ""
    payer: CustomerId | None = None


class LineKind(OpenKind):
    """What an invoice line bills. A billing model's module registers its own
    (`LineKind.register("...")`, docs/adr/0009)."""

    __slots__ = ()
    TIME: ClassVar[LineKind]
    TIME_OVER_CAP: ClassVar[LineKind]
    EXPENSE: ClassVar[LineKind]
    INSTALLMENT: ClassVar[LineKind]
    RETAINER_FEE: ClassVar[LineKind]
    RETAINER_OVERAGE: ClassVar[LineKind]
    MILESTONE: ClassVar[LineKind]
    RETENTION_WITHHELD: ClassVar[LineKind]
    RETENTION_RELEASE: ClassVar[LineKind]
    RECURRING: ClassVar[LineKind]
    ADJUSTMENT: ClassVar[LineKind]


@attrs.frozen
class ProposedLine:
    """An invoice line before tax: quantity x unit price, its rounded amount and its provenance."""

    obligation_id: ObligationId
    kind: LineKind
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    allocations: tuple[Allocation, ...]
    service_period: Period | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def from_allocations(
        cls,
        obligation_id: ObligationId,
        kind: LineKind,
        description: str,
        unit_price: Money,
        allocations: Iterable[Allocation],
        service_period: Period | None = None,
        flags: tuple[str, ...] = (),
    ) -> ProposedLine:
        """A line whose amount is the rounded sum of its allocations' exact values."""
        allocs = tuple(allocations)
        if not allocs:
            raise DomainError("a line must bill at least one source quantity")
        currency = unit_price.currency
        # dsum and money_sum in one pass: every billing model builds its lines here.
        quantity, exact = Decimal(0), Decimal(0)
        for allocation in allocs:
            quantity = EXACT.add(quantity, allocation.quantity)
            amount = allocation.amount
            if amount.currency is not currency and amount.currency != currency:
                raise CurrencyMismatchError(f"cannot combine {currency} with {amount.currency}")
            exact = EXACT.add(exact, amount.amount)
        return cls(
            obligation_id,
            kind,
            description,
            quantity,
            unit_price,
            Money(exact, currency).quantized(),
            allocs,
            service_period,
            flags,
        )

    @classmethod
    def summed(
        cls,
        obligation_id: ObligationId,
        kind: LineKind,
        description: str,
        unit_price: Money,
        allocations: tuple[Allocation, ...],
        sums: tuple[Decimal, Decimal],
        flags: tuple[str, ...] = (),
    ) -> ProposedLine:
        """`from_allocations` for a model that summed its allocations as it made them: the
        quantities and the exact values, each from `Decimal(0)` in the allocations' order, all
        in the unit price's currency (what `from_allocations` would sum and check)."""
        quantity, exact = sums
        amount = Money(exact, unit_price.currency).quantized()
        return cls(obligation_id, kind, description, quantity, unit_price, amount, allocations,
                   None, flags)  # fmt: skip


class Disposition(Enum):
    HELD = "held"
    WRITTEN_OFF = "written_off"
    REJECTED = "rejected"


@attrs.frozen
class Exclusion:
    """A quantity the run did not bill, and why (held over a cap, written off, blocked)."""

    obligation_id: ObligationId
    source: SourceRef
    quantity: Decimal
    value: Money
    disposition: Disposition
    reason: str


@attrs.frozen
class ObligationBilling:
    """What one obligation contributes to a billing run."""

    lines: tuple[ProposedLine, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()


@attrs.frozen
class LedgerEntry:
    """One allocation as it stands on a committed document: positive on invoices and debit
    memos, negative on credit memos. `credit` marks what a credit memo took back (a withheld
    retention is negative too, but billed by an invoice); `write_off` marks credits that do
    not release (ADR 0026)."""

    document_id: str
    obligation_id: ObligationId
    source: SourceRef
    quantity: Decimal
    amount: Money
    terms: str = ""
    write_off: bool = False
    #: The payer billed (or credited) by the document; None: the contract's customer.
    payer: CustomerId | None = None
    credit: bool = False

    @property
    def takes_back(self) -> bool:
        """The entry is a credit (a write-off is always one)."""
        return self.credit or self.write_off


@attrs.frozen
class SourceStanding:
    """How one source stands on the ledger, split by what did it: its first billing (the
    documents that billed it before any credit), every invoice or debit memo, releasing credits
    and write-off credits."""

    first_billed: Decimal = Decimal(0)
    first_quantity: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)
    released: Decimal = Decimal(0)
    conceded: Decimal = Decimal(0)
    first_document: str | None = None

    @property
    def is_invoiced(self) -> bool:
        """Some invoice or debit memo billed the source (whatever credits took back since)."""
        return self.first_document is not None

    @property
    def open_release(self) -> Decimal:
        """Value released by credits and not billed again yet: what was first billed plus
        what credits released, less every invoice since (never below zero)."""
        open_value = EXACT.subtract(EXACT.add(self.first_billed, self.released), self.invoiced)
        return max(open_value, Decimal(0))


@attrs.frozen
class BilledLedger:
    """What has already been billed, per source item, net of credits.

    Built from the allocations of every committed (draft, approved or issued) invoice and every
    credit memo; discarded drafts are simply left out.
    """

    entries: tuple[LedgerEntry, ...] = ()
    _billed_qty: Mapping[SourceRef, Decimal] = attrs.field(init=False, repr=False, eq=False)
    _billed_amount: Mapping[SourceRef, Decimal] = attrs.field(init=False, repr=False, eq=False)
    _written_off: Mapping[SourceRef, Decimal] = attrs.field(init=False, repr=False, eq=False)
    _by_obligation: Mapping[ObligationId, tuple[Decimal, Decimal, Decimal]] = attrs.field(
        init=False, repr=False, eq=False
    )
    _entries_by_obligation: Mapping[ObligationId, tuple[LedgerEntry, ...]] = attrs.field(
        init=False, repr=False, eq=False
    )
    _standing: Mapping[SourceRef, SourceStanding] = attrs.field(init=False, repr=False, eq=False)
    #: Entry positions per source, built on first use (re-rating asks source by source).
    _by_source: Mapping[SourceRef, list[int]] | None = attrs.field(
        init=False, default=None, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        qty: defaultdict[SourceRef, Decimal] = defaultdict(Decimal)
        amount: defaultdict[SourceRef, Decimal] = defaultdict(Decimal)
        written: defaultdict[SourceRef, Decimal] = defaultdict(Decimal)
        per_obligation: defaultdict[ObligationId, list[Decimal]] = defaultdict(
            lambda: [Decimal(0), Decimal(0), Decimal(0)]
        )
        grouped: defaultdict[ObligationId, list[LedgerEntry]] = defaultdict(list)
        for e in self.entries:
            grouped[e.obligation_id].append(e)
            if e.write_off:
                # A write-off credit settles the quantity for good: no longer billed, never again.
                written[e.source] = EXACT.subtract(written[e.source], e.quantity)
            qty[e.source] = EXACT.add(qty[e.source], e.quantity)
            amount[e.source] = EXACT.add(amount[e.source], e.amount.amount)
            totals = per_obligation[e.obligation_id]
            totals[0] = EXACT.add(totals[0], e.amount.amount)
            if e.source.kind is SourceKind.TIME_ENTRY:
                totals[1] = EXACT.add(totals[1], e.quantity)
                totals[2] = EXACT.add(totals[2], e.amount.amount)
        object.__setattr__(
            self, "_entries_by_obligation", {k: tuple(v) for k, v in grouped.items()}
        )
        object.__setattr__(self, "_billed_qty", dict(qty))
        object.__setattr__(self, "_billed_amount", dict(amount))
        object.__setattr__(self, "_written_off", dict(written))
        object.__setattr__(
            self, "_by_obligation", {k: (v[0], v[1], v[2]) for k, v in per_obligation.items()}
        )
        object.__setattr__(self, "_standing", _standings(self.entries))

    def billed_quantity(self, source: SourceRef) -> Decimal:
        """Net quantity of a source billed so far (invoices minus credits)."""
        return self._billed_qty.get(source, Decimal(0))

    def billed_value(self, source: SourceRef) -> Decimal:
        """Net exact value billed for a source so far."""
        return self._billed_amount.get(source, Decimal(0))

    def credited_off(self, source: SourceRef) -> Decimal:
        """Quantity credited with `write_off`: settled, never billable again."""
        return self._written_off.get(source, Decimal(0))

    def settled(self, source: SourceRef) -> Decimal:
        """Quantity no longer open for billing: billed plus written off by credit."""
        return EXACT.add(self.billed_quantity(source), self.credited_off(source))

    def is_billed(self, source: SourceRef) -> bool:
        return self.settled(source) > 0

    def amount_credited_in(self, source: SourceRef) -> Decimal:
        """Value that amount credits took off the quantity still billed: what the net billed
        value lacks to be that quantity at the rates billed (a quantity credited later took
        its share of the credit with it)."""
        embedded, hours = Decimal(0), Decimal(0)
        for e in self.for_sources([source]):
            if e.takes_back and e.quantity == 0:
                embedded = EXACT.subtract(embedded, e.amount.amount)
            elif e.takes_back and hours > 0:
                share = EXACT.divide(EXACT.multiply(embedded, EXACT.minus(e.quantity)), hours)
                embedded = EXACT.subtract(embedded, share)
            hours = EXACT.add(hours, e.quantity)
        return embedded

    def standing(self, source: SourceRef) -> SourceStanding:
        """What invoices billed on a source and what credits took back, releasing or not."""
        return self._standing.get(source, SourceStanding())

    def obligation_billed_amount(self, obligation_id: ObligationId, currency: Currency) -> Money:
        """Net exact value billed under an obligation, every source kind included."""
        return Money(self._totals(obligation_id)[0], currency)

    def obligation_billed_hours(self, obligation_id: ObligationId) -> Decimal:
        """Net time-entry hours billed under an obligation (for hour caps)."""
        return self._totals(obligation_id)[1]

    def obligation_billed_time_value(self, obligation_id: ObligationId) -> Decimal:
        """Net exact value of time billed under an obligation (for not-to-exceed fee caps;
        expenses have their own category caps)."""
        return self._totals(obligation_id)[2]

    def _totals(self, obligation_id: ObligationId) -> tuple[Decimal, Decimal, Decimal]:
        return self._by_obligation.get(obligation_id, (Decimal(0), Decimal(0), Decimal(0)))

    def entries_for(self, obligation_id: ObligationId) -> tuple[LedgerEntry, ...]:
        """Every ledger entry of one obligation, in commit order."""
        return self._entries_by_obligation.get(obligation_id, ())

    def for_sources(self, sources: Iterable[SourceRef]) -> list[LedgerEntry]:
        """The entries of some sources, in commit order."""
        index = self._by_source
        if index is None:
            by_source: defaultdict[SourceRef, list[int]] = defaultdict(list)
            for position, e in enumerate(self.entries):
                by_source[e.source].append(position)
            index = dict(by_source)
            object.__setattr__(self, "_by_source", index)
        found = {p for source in set(sources) for p in index.get(source, ())}
        return [self.entries[p] for p in sorted(found)]

    def plus(self, more: Iterable[LedgerEntry]) -> BilledLedger:
        """The ledger after more documents are committed."""
        return BilledLedger((*self.entries, *more))


def _standings(entries: Iterable[LedgerEntry]) -> dict[SourceRef, SourceStanding]:
    """Each source's standing, folded over the entries in commit order."""
    # [first billed, first quantity, invoiced, released, conceded] and the first document
    sums: dict[SourceRef, list[Decimal]] = {}
    first: dict[SourceRef, str] = {}
    # The first billing is every document that billed the source before any credit touched it:
    # one invoice, or one per payer when a split obligation billed it in one run (ADR 0029).
    credited: set[SourceRef] = set()
    for e in entries:
        row = sums.setdefault(e.source, [Decimal(0)] * 5)
        value = e.amount.amount
        if e.write_off:
            row[4] = EXACT.subtract(row[4], value)
            credited.add(e.source)
        elif e.takes_back:
            row[3] = EXACT.subtract(row[3], value)
            credited.add(e.source)
        else:
            first.setdefault(e.source, e.document_id)
            if e.source not in credited:
                row[0] = EXACT.add(row[0], value)
                row[1] = EXACT.add(row[1], e.quantity)
            row[2] = EXACT.add(row[2], value)
    return {
        source: SourceStanding(row[0], row[1], row[2], row[3], row[4], first.get(source))
        for source, row in sums.items()
    }


TermsT = TypeVar("TermsT")


@attrs.frozen
class TermsInForce(Generic[TermsT]):
    """One obligation's terms as set by one approved contract version, from its effective date."""

    effective_from: date
    contract_version: int
    terms: TermsT

    @property
    def label(self) -> str:
        return f"contract v{self.contract_version}"


@attrs.frozen
class ObligationHistory(Generic[TermsT]):
    """An obligation's terms over time, oldest first: which terms applied on any date."""

    obligation_id: ObligationId
    versions: tuple[TermsInForce[TermsT], ...]

    def on(self, day: date) -> TermsInForce[TermsT] | None:
        """The terms in force on `day`, or None before the obligation existed."""
        found: TermsInForce[TermsT] | None = None
        for version in self.versions:
            if version.effective_from <= day:
                found = version
        return found

    @property
    def latest(self) -> TermsInForce[TermsT]:
        return self.versions[-1]

    def latest_by(self, day: date) -> TermsInForce[TermsT]:
        """Terms in force on `day`, or the first version if `day` precedes them all."""
        return self.on(day) or self.versions[0]
