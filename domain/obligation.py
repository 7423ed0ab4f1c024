"""Obligations and the registry of billing models.

An obligation is a billable component of a contract version (T&M, fixed fee, retainer,
milestones, recurring). Each billing model is a frozen terms class plus a pure billing
function, registered here once; the billing run looks the model up by the terms' type.
Adding a model is one new module and one `register_billing_model` call
(see docs/adr/0009-adding-a-billing-model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Protocol, runtime_checkable

import attrs

from domain.billing import BilledLedger, ObligationBilling, ObligationHistory
from domain.delivery_kinds import DeliveryKind, DeliveryRecords
from domain.errors import DomainError
from domain.ids import ObligationId, RateCardId
from domain.milestone import Milestone
from domain.money import Currency, Money
from domain.period import Period
from domain.ratecard import RateCard
from domain.time_entry import ExpenseItem, TimeEntry


@runtime_checkable
class ObligationTerms(Protocol):
    """What every obligation's frozen terms class offers."""

    @property
    def obligation_id(self) -> ObligationId: ...

    @property
    def name(self) -> str: ...


@attrs.frozen
class BillingContext:
    """Everything a billing model may read for one obligation in one run (never written)."""

    period: Period
    currency: Currency
    rate_cards: Mapping[RateCardId, RateCard]
    time_entries: tuple[TimeEntry, ...]
    expenses: tuple[ExpenseItem, ...]
    milestones: tuple[Milestone, ...]
    ledger: BilledLedger
    #: The obligation's records of the delivery kinds models declare (docs/adr/0009).
    delivery: DeliveryRecords = attrs.field(factory=DeliveryRecords)


@attrs.frozen
class RevenueContext:
    """Everything a model needs to say how much revenue it has earned through `as_of`."""

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


BillFunction = Callable[[ObligationHistory[Any], BillingContext], ObligationBilling]
#: Cumulative revenue earned through `RevenueContext.as_of`, rounded to minor units.
RecogniseFunction = Callable[[ObligationHistory[Any], RevenueContext], Money]


@attrs.frozen
class BillingModel:
    """A billing model: its name, its terms class, how it bills and how it earns revenue."""

    name: str
    terms_type: type
    bill: BillFunction
    recognise: RecogniseFunction
    #: The declared delivery kinds whose records this model bills (docs/adr/0009).
    consumes: tuple[DeliveryKind[Any], ...] = ()


class UnknownBillingModelError(DomainError):
    code = "unknown_billing_model"


_MODELS: dict[type, BillingModel] = {}


def register_billing_model(
    name: str,
    terms_type: type,
    bill: BillFunction,
    recognise: RecogniseFunction,
    *,
    consumes: tuple[DeliveryKind[Any], ...] = (),
) -> BillingModel:
    """Make a terms class billable. Called once, at import, by each model's module."""
    model = BillingModel(name, terms_type, bill, recognise, consumes)
    _MODELS[terms_type] = model
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
    return list(_MODELS.values())
