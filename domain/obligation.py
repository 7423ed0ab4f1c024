"""Obligations and the registry of billing models.

An obligation is a billable component of a contract version (T&M, fixed fee, retainer,
milestones, recurring). Each billing model is a frozen terms class plus a pure billing
function, plus the other pieces `BillingModel` lists, registered here once; the billing run,
revenue, balances, the converter and the HTTP schema look the model up by the terms' type or
walk `registered_models()`. Adding a model is one new module (ending in one
`register_billing_model(BillingModel(...))` call) and one import line in
`domain.billing_models` (see docs/adr/0009-adding-a-billing-model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol, runtime_checkable

import attrs

from domain.billing import (
    BilledLedger,
    LineKind,
    ObligationBilling,
    ObligationHistory,
    ProposedLine,
    SourceKind,
)
from domain.delivery_kinds import DeliveryKind, DeliveryRecords
from domain.errors import DomainError
from domain.ids import ObligationId, RateCardId
from domain.milestone import Milestone
from domain.money import Currency, Money
from domain.period import Period
from domain.ratecard import RateCard
from domain.time_entry import ExpenseItem, TimeEntry
from domain.time_rows import BillableTime


@runtime_checkable
class ObligationTerms(Protocol):
    """What every obligation's frozen terms class offers."""

    @property
    def obligation_id(self) -> ObligationId: ...

    @property
    def name(self) -> str: ...


@attrs.frozen(kw_only=True)
class BillingContext:
    """Everything a billing model may read for one obligation in one run (never written);
    built by keyword."""

    period: Period
    currency: Currency
    rate_cards: Mapping[RateCardId, RateCard]
    #: Entities or rows (a billing run reads rows): billing reads only what both hold.
    time_entries: tuple[BillableTime, ...]
    expenses: tuple[ExpenseItem, ...]
    milestones: tuple[Milestone, ...]
    ledger: BilledLedger
    #: The obligation's records of the delivery kinds models declare (docs/adr/0009).
    delivery: DeliveryRecords = attrs.field(factory=DeliveryRecords)


@attrs.frozen(kw_only=True)
class RevenueContext:
    """Everything a model needs to say how much revenue it has earned through `as_of` for one
    obligation (its own delivery only); built by keyword."""

    as_of: date
    currency: Currency
    rate_cards: Mapping[RateCardId, RateCard]
    time_entries: tuple[TimeEntry, ...]
    expenses: tuple[ExpenseItem, ...]
    milestones: tuple[Milestone, ...]
    #: What has been billed and credited so far (write-off credits reduce revenue).
    ledger: BilledLedger = attrs.field(factory=BilledLedger)
    #: Records of the delivery kinds models declare (docs/adr/0009).
    delivery: DeliveryRecords = attrs.field(factory=DeliveryRecords)
    #: The contexts `for_obligation` narrowed, grouped once on first use.
    _narrowed: dict[ObligationId, RevenueContext] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def for_obligation(self, obligation_id: ObligationId) -> RevenueContext:
        """The same context holding only the delivery of one obligation: a model earns
        revenue on its own obligation's items, never on another's."""
        if not self._narrowed:
            self._narrowed.update(self._group())
        own = self._narrowed.get(obligation_id)
        if own is None:
            own = attrs.evolve(
                self, time_entries=(), expenses=(), milestones=(), delivery=DeliveryRecords()
            )
            self._narrowed[obligation_id] = own
        return own

    def _group(self) -> dict[ObligationId, RevenueContext]:
        items: dict[ObligationId, tuple[list[Any], list[Any], list[Any], list[Any]]] = {}

        def of(obligation_id: ObligationId) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
            found = items.get(obligation_id)
            if found is None:
                found = items[obligation_id] = ([], [], [], [])
            return found

        for entry in self.time_entries:
            of(entry.obligation_id)[0].append(entry)
        for expense in self.expenses:
            of(expense.obligation_id)[1].append(expense)
        for milestone in self.milestones:
            of(milestone.obligation_id)[2].append(milestone)
        for records in self.delivery.by_kind.values():
            for record in records:
                of(record.obligation_id)[3].append(record)
        return {
            oid: attrs.evolve(
                self,
                time_entries=tuple(entries),
                expenses=tuple(expenses),
                milestones=tuple(milestones),
                delivery=DeliveryRecords.of(records) if records else DeliveryRecords(),
            )
            for oid, (entries, expenses, milestones, records) in items.items()
        }


BillFunction = Callable[[ObligationHistory[Any], BillingContext], ObligationBilling]
#: Cumulative revenue earned through `RevenueContext.as_of`, rounded to minor units.
RecogniseFunction = Callable[[ObligationHistory[Any], RevenueContext], Money]
#: What the terms in force on a date are worth in total, or None when they fix no value.
ContractValueFunction = Callable[[ObligationHistory[Any], date], "Money | None"]
#: Lines re-rating items earlier documents billed, by the id of the document they re-rate.
#: Checks one record of a kind the model consumes against the terms in force on its date, and
#: raises a DomainError (its code is the record's rejection) when the model could never bill it.
AdmitFunction = Callable[[Any, Any], None]
RerateFunction = Callable[
    [ObligationHistory[Any], BillingContext], Mapping[str, Sequence[ProposedLine]]
]


def no_contract_value(history: ObligationHistory[Any], as_of: date) -> Money | None:
    """Terms that fix no total value (billed as delivered, open-ended) have none."""
    return None


@attrs.frozen
class BillingModel:
    """Every piece of a billing model, declared once by its module (docs/adr/0009).

    The billing run, revenue, balances, the converter, the HTTP schema and the docs read
    models only through this spec; nothing outside a model's module names its terms class.
    """

    #: The model's registered name: the `model` tag of its terms in JSON and the database.
    name: str
    #: The frozen terms class (one per model).
    terms_type: type
    #: `bill(history, ctx)`: the lines and exclusions of one obligation in one run.
    bill: BillFunction
    #: `recognise(history, ctx)`: cumulative revenue earned through `ctx.as_of`.
    recognise: RecogniseFunction
    #: `contract_value(history, as_of)`: the total the terms fix, or None; the backlog of an
    #: obligation is this value less what has been billed (`application.balances`).
    contract_value: ContractValueFunction
    #: One sentence saying what the model bills and when (the README and docs list it).
    summary: str
    #: The terms of one obligation as the API and the CLM webhook carry them, without the
    #: `model` tag: the example the OpenAPI document and the docs show.
    example: Mapping[str, Any]
    #: The ADR that records the model's semantics, relative to the repository root.
    adr: str
    #: The declared delivery kinds whose records this model bills (docs/adr/0009).
    consumes: tuple[DeliveryKind[Any], ...] = ()
    #: The source kinds its allocations cite and the line kinds its lines carry that this
    #: model introduced (registered in its own module: `SourceKind.register`).
    source_kinds: tuple[SourceKind, ...] = ()
    line_kinds: tuple[LineKind, ...] = ()
    #: Optional: re-rates billed items after an amendment or a dated rate change (T&M's
    #: retroactive repricing, ADR 0008); the run turns its lines into debit and credit memos.
    rerate: RerateFunction | None = None
    #: Optional: refuses at ingestion a record these terms could never bill (a usage record
    #: counted in another unit), so it is rejected with a reason instead of blocking a run.
    admit: AdmitFunction | None = None
    #: Whether `bill` reads the obligation's time entries: a billing run reads entries only
    #: for obligations whose model says it does (ADR 0060). A model that bills from a fixed
    #: schedule (a fee, milestones) says False; the default is the safe answer.
    reads_time_entries: bool = True


class UnknownBillingModelError(DomainError):
    code = "unknown_billing_model"


class DuplicateBillingModelError(DomainError):
    code = "duplicate_billing_model"


_MODELS: dict[type, BillingModel] = {}


def register_billing_model(model: BillingModel) -> BillingModel:
    """Make a terms class billable: called once, at import, by each model's module, with the
    model's whole spec. A name or a terms class is registered by one model only."""
    for known in _MODELS.values():
        if known.name == model.name and known.terms_type is not model.terms_type:
            raise DuplicateBillingModelError(f"two billing models are registered as {model.name!r}")
    _MODELS[model.terms_type] = model
    return model


def billing_model_for(terms: object) -> BillingModel:
    """The billing model that handles these terms."""
    try:
        return _MODELS[type(terms)]
    except KeyError:
        raise UnknownBillingModelError(
            f"no billing model is registered for {type(terms).__name__}"
        ) from None


def registered_models() -> list[BillingModel]:
    """Every registered billing model, by name (a stable order for the docs and OpenAPI)."""
    return sorted(_MODELS.values(), key=lambda model: model.name)
