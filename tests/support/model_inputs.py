"""What a billing model's own tests hand it: the obligation's terms in force, the run's context
and the ledger once a run is committed. They only assemble domain objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from domain.billing import (
    BilledLedger,
    LedgerEntry,
    ObligationBilling,
    ObligationHistory,
    ProposedLine,
    TermsInForce,
)
from domain.delivery_kinds import DeliveryRecords
from domain.ids import ObligationId
from domain.milestone import Milestone
from domain.money import Currency, Money
from domain.obligation import BillingContext, BillingModel, RevenueContext, no_contract_value
from domain.period import Period
from domain.ratecard import RateCard
from domain.time_entry import TimeEntry

T = TypeVar("T")


def history_of(obligation_id: ObligationId, *versions: tuple[date, T]) -> ObligationHistory[T]:
    """The obligation's terms, version 1 first, each in force from its date."""
    return ObligationHistory(
        obligation_id,
        tuple(TermsInForce(day, n, terms) for n, (day, terms) in enumerate(versions, start=1)),
    )


def billing_context(period: Period, currency: Currency, **delivered: Any) -> BillingContext:
    """A run's context for one obligation: its rate `cards`, time `entries`, `milestones`,
    `ledger` and `delivery` records (none unless given), and no expenses."""
    return BillingContext(period=period, currency=currency, **_delivered(**delivered))


def revenue_context(as_of: date, currency: Currency, **delivered: Any) -> RevenueContext:
    """What revenue recognition reads through `as_of`, given as `billing_context` is."""
    return RevenueContext(as_of=as_of, currency=currency, **_delivered(**delivered))


def _delivered(
    *,
    cards: Iterable[RateCard] = (),
    entries: Sequence[TimeEntry] = (),
    milestones: Sequence[Milestone] = (),
    ledger: BilledLedger | None = None,
    delivery: DeliveryRecords | None = None,
) -> dict[str, Any]:
    return {
        "rate_cards": {card.rate_card_id: card for card in cards},
        "time_entries": tuple(entries),
        "expenses": (),
        "milestones": tuple(milestones),
        "ledger": ledger if ledger is not None else BilledLedger(),
        "delivery": delivery if delivery is not None else DeliveryRecords(),
    }


def committed_documents(
    ledger: BilledLedger, documents: Iterable[tuple[str, Iterable[ProposedLine]]]
) -> BilledLedger:
    """The ledger once each document's lines are committed, allocation by allocation."""
    return ledger.plus(
        LedgerEntry(document, line.obligation_id, a.source, a.quantity, a.amount, a.terms)
        for document, lines in documents
        for line in lines
        for a in line.allocations
    )


def committed(ledger: BilledLedger, billing: ObligationBilling, document: str) -> BilledLedger:
    """The ledger once one obligation's billing is committed as `document`."""
    return committed_documents(ledger, [(document, billing.lines)])


def bill_nothing(history: ObligationHistory[Any], ctx: BillingContext) -> ObligationBilling:
    """A model that never bills."""
    return ObligationBilling()


def earn_nothing(history: ObligationHistory[Any], ctx: RevenueContext) -> Money:
    """A model that never earns."""
    return Money.zero(ctx.currency)


def stub_model(
    name: str,
    terms_type: type,
    recognise: Callable[[ObligationHistory[Any], RevenueContext], Money] = earn_nothing,
    summary: str = "a test-only model",
) -> BillingModel:
    """A test-only billing model that bills nothing, for a test about one other piece."""
    return BillingModel(
        name=name,
        terms_type=terms_type,
        bill=bill_nothing,
        recognise=recognise,
        contract_value=no_contract_value,
        summary=summary,
        example={},
        adr="",
    )
