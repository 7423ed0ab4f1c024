"""Fixed fee: a fee F billed by a schedule of installments, earned by percent complete.

The schedule always sums exactly to F. Installments already billed keep what they billed; the
rest of the fee is split over the installments not yet billed by largest remainder on minor
units, in proportion to their weights (their percentages, or their fixed amounts). So a change
order that changes F from its effective date needs no special handling: issued installments
stay, the remaining ones are re-allocated. Time on a fixed fee is costed, never billed.

A credit on an installment changes that installment only (ADR 0026): a write-off credit is
forgiven, a releasing credit is billed again on the same installment in a later run. What the
other installments bill never moves, before or after the last one is billed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction

import attrs

from domain import billing_kit as kit
from domain.errors import InvalidTermsError
from domain.ids import InstallmentId, ObligationId
from domain.money import EXACT, Currency, Money, dsum
from domain.schedule import FeeBelowBilledError as FeeBelowBilledError
from domain.schedule import UnscheduledFeeError as UnscheduledFeeError
from domain.schedule import (
    billed_again,
    conceded_on,
    fee_value,
    kept_by_parts,
    split_fee,
)
from domain.time_entry import TimeEntry

HUNDRED = Decimal(100)


@attrs.frozen
class Installment:
    """One step of a fixed-fee schedule: due on a date, for a percentage of F or a fixed amount."""

    installment_id: InstallmentId
    due_date: date
    percentage: Decimal | None = None
    amount: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        if (self.percentage is None) == (self.amount is None):
            raise InvalidTermsError(
                f"installment {self.installment_id} needs exactly one of a percentage or an amount"
            )
        if self.percentage is not None and not Decimal(0) < self.percentage <= HUNDRED:
            raise InvalidTermsError(
                f"installment {self.installment_id}: {self.percentage} % is not in (0, 100]"
            )
        if self.amount is not None and self.amount < 0:
            raise InvalidTermsError(
                f"installment {self.installment_id}: an amount cannot be negative"
            )

    @property
    def weight(self) -> Decimal:
        """What the installment's share of the fee is proportional to."""
        return self.percentage if self.percentage is not None else self.amount or Decimal(0)


def _check_schedule(terms: FixedFeeTerms) -> None:
    currency, fee = terms.currency, terms.fee
    if fee < 0:
        raise InvalidTermsError(f"{terms.obligation_id}: a fixed fee cannot be negative")
    if Money(fee, currency).quantized() != Money(fee, currency):
        raise InvalidTermsError(f"{terms.obligation_id}: {fee} is not whole {currency} minor units")
    if not terms.installments:
        raise InvalidTermsError(f"{terms.obligation_id}: a fixed fee needs installments")
    ids = [i.installment_id for i in terms.installments]
    if len(set(ids)) != len(ids):
        raise InvalidTermsError(f"{terms.obligation_id}: installment ids repeat: {sorted(ids)}")
    by_percentage = [i.percentage is not None for i in terms.installments]
    if any(by_percentage) and not all(by_percentage):
        raise InvalidTermsError(
            f"{terms.obligation_id}: installments are all percentages or all amounts, not both"
        )
    total = _exact_sum(i.weight for i in terms.installments)
    if all(by_percentage) and total != HUNDRED:
        raise InvalidTermsError(
            f"{terms.obligation_id}: installment percentages sum to {total}, not 100"
        )
    if not any(by_percentage):
        if total != fee:
            raise InvalidTermsError(
                f"{terms.obligation_id}: installment amounts sum to {total}, not the fee {fee}"
            )
        for i in terms.installments:
            if Money(i.weight, currency).quantized() != Money(i.weight, currency):
                raise InvalidTermsError(
                    f"installment {i.installment_id}: {i.weight} is not whole {currency} units"
                )
    if terms.estimate_hours is not None and terms.estimate_hours <= 0:
        raise InvalidTermsError(f"{terms.obligation_id}: an hours estimate must be positive")


@attrs.frozen
class FixedFeeTerms:
    """A fixed fee F, its installment schedule and, optionally, the estimate at completion."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    fee: Decimal
    installments: tuple[Installment, ...]
    estimate_hours: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        _check_schedule(self)


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def installment_amounts(
    terms: FixedFeeTerms, already_billed: Mapping[InstallmentId, Money]
) -> dict[InstallmentId, Money]:
    """The schedule summing exactly to the fee: billed installments keep what they billed, the
    rest of the fee is split over the others by largest remainder on their weights."""
    fee = Money(terms.fee, terms.currency)
    parts = [(i.installment_id, i.weight) for i in terms.installments]
    return split_fee(str(terms.obligation_id), fee, parts, already_billed)


def installment_source(installment_id: InstallmentId) -> kit.SourceRef:
    """The source an installment line allocates to."""
    return kit.SourceRef(kit.SourceKind.INSTALLMENT, installment_id)


def billed_installments(
    terms: FixedFeeTerms, ledger: kit.BilledLedger
) -> dict[InstallmentId, Money]:
    """Installments already on an invoice, with the amount they keep on the schedule: what
    they were billed, never net of credits (a credit never moves money onto the others)."""
    sources = {i.installment_id: installment_source(i.installment_id) for i in terms.installments}
    for entry in ledger.entries_for(terms.obligation_id):
        # An installment a change order dropped after it was billed keeps its amount.
        if entry.source.kind is kit.SourceKind.INSTALLMENT:
            sources.setdefault(InstallmentId(entry.source.source_id), entry.source)
    return kept_by_parts(ledger, sources, terms.currency)


def bill_fixed_fee(
    history: kit.ObligationHistory[FixedFeeTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill every installment due by the period end and not yet billed, at its share of the fee
    in force at the period end, and again what credits released on a billed one."""
    in_force = history.latest_by(ctx.period.end)
    terms = in_force.terms
    billed = billed_installments(terms, ctx.ledger)
    schedule = installment_amounts(terms, billed)
    due = sorted(
        (
            (i.due_date, position, i)
            for position, i in enumerate(terms.installments)
            if i.due_date <= ctx.period.end
        ),
        key=lambda item: (item[0], item[1]),
    )
    lines = []
    for _, _, installment in due:
        source = installment_source(installment.installment_id)
        description = _describe(terms, installment)
        if installment.installment_id in billed:
            kind = kit.LineKind.INSTALLMENT
            label = in_force.label
            lines += billed_again(
                ctx.ledger, source, terms.currency, label, terms.obligation_id, kind, description
            )
            continue
        amount = schedule[installment.installment_id]
        allocation = kit.Allocation(source, Decimal(1), amount, in_force.label)
        lines.append(
            kit.ProposedLine.from_allocations(
                terms.obligation_id, kit.LineKind.INSTALLMENT, description, amount, [allocation]
            )
        )
    return kit.ObligationBilling(lines=tuple(lines))


def _describe(terms: FixedFeeTerms, installment: Installment) -> str:
    share = f" ({installment.percentage} %)" if installment.percentage is not None else ""
    return (
        f"{terms.name}: installment {installment.installment_id}{share} "
        f"due {installment.due_date.isoformat()}"
    )


def hours_worked(obligation_id: ObligationId, entries: Iterable[TimeEntry], as_of: date) -> Decimal:
    """Approved hours (held and written-off included, billable or not) worked through a date."""
    total = Decimal(0)
    for entry in entries:
        counts = entry.obligation_id == obligation_id and entry.is_billable_state
        if counts and entry.work_date <= as_of:
            total = EXACT.add(total, entry.hours)
    return total


def recognise_fixed_fee(
    history: kit.ObligationHistory[FixedFeeTerms], ctx: kit.RevenueContext
) -> Money:
    """Cumulative revenue: the fee in force, less what write-off credits forgave on its
    installments, × percent complete by hours against the estimate, capped at 100 %; without
    an estimate, the installments fallen due, each less what was forgiven on it."""
    terms = history.latest_by(ctx.as_of).terms
    conceded = {
        i.installment_id: conceded_on(
            ctx.ledger, installment_source(i.installment_id), terms.currency
        )
        for i in terms.installments
    }
    if terms.estimate_hours is None:
        schedule = installment_amounts(terms, {})
        total = Money.zero(terms.currency)
        for i in terms.installments:
            if i.due_date <= ctx.as_of:
                total = total + schedule[i.installment_id] - conceded[i.installment_id]
        return total
    hours = hours_worked(terms.obligation_id, ctx.time_entries, ctx.as_of)
    complete = min(Fraction(1), Fraction(hours) / Fraction(terms.estimate_hours))
    price = EXACT.subtract(terms.fee, dsum(c.amount for c in conceded.values()))
    return _rounded(Fraction(price) * complete, terms.currency)


def _rounded(value: Fraction, currency: Currency) -> Money:
    """An exact fraction of money, rounded half-up to minor units."""
    exact = EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Money(exact, currency).quantized()


FIXED_FEE_MODEL = kit.register_billing_model(
    kit.BillingModel(
        name="fixed_fee",
        terms_type=FixedFeeTerms,
        bill=bill_fixed_fee,
        recognise=recognise_fixed_fee,
        contract_value=fee_value,
        reads_time_entries=False,  # it bills its schedule (ADR 0060)
        summary=(
            "a fee billed by installments on their due dates, always summing to the fee, "
            "earned by percent complete"
        ),
        example={
            "obligation_id": "ff",
            "name": "Implementation",
            "fee": "90000.00",
            "installments": [
                {"installment_id": "ff-1", "due_date": "2026-04-30", "percentage": "50"},
                {"installment_id": "ff-2", "due_date": "2026-06-30", "percentage": "50"},
            ],
            "estimate_hours": "600",
        },
        adr="docs/adr/0026-credits-on-scheduled-fees.md",
        source_kinds=(kit.SourceKind.INSTALLMENT,),
        line_kinds=(kit.LineKind.INSTALLMENT,),
    )
)
