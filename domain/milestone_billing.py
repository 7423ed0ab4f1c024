"""Milestone billing: each milestone bills its amount once accepted, less a retention
(holdback) that is released as its own line at final acceptance.

A milestone's amount is either fixed or a percentage of the obligation's fee; percentages are
split over the fee by largest remainder so the milestones always sum exactly to the fee.

A credit on a milestone, or on its retention release, changes that milestone only (ADR 0026):
a write-off credit is forgiven (and recognised as such), a releasing credit is billed again on
the same milestone (or the same release) in a later run, without a second retention. The
amounts of the other milestones and their holdbacks never move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs

from domain import billing_kit as kit
from domain.errors import InvalidTermsError
from domain.ids import MilestoneId, ObligationId
from domain.milestone import Milestone, MilestoneState
from domain.money import EXACT, Currency, Money, dsum
from domain.schedule import (
    billed_again,
    conceded_on,
    fee_value,
    kept_by_parts,
    split_fee,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@attrs.frozen
class MilestoneSpec:
    """One contractual milestone: a fixed amount or a percentage of the fee."""

    milestone_id: MilestoneId
    name: str
    percentage: Decimal | None = None
    amount: Decimal | None = None
    final: bool = False

    @property
    def weight(self) -> Decimal:
        """What the milestone's share of the fee is proportional to."""
        weight = self.percentage if self.percentage is not None else self.amount
        assert weight is not None  # guaranteed by the check below
        return weight

    def __attrs_post_init__(self) -> None:
        if (self.percentage is None) == (self.amount is None):
            raise InvalidTermsError(
                f"milestone {self.milestone_id} needs either a percentage or an amount"
            )


@attrs.frozen
class MilestoneTerms:
    """A fee billed by milestones on acceptance, with an optional retention percentage."""

    obligation_id: ObligationId
    name: str
    currency: Currency
    fee: Decimal
    milestones: tuple[MilestoneSpec, ...]
    retention_percent: Decimal = ZERO
    passive_acceptance_days: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.milestones:
            raise InvalidTermsError("a milestone obligation needs at least one milestone")
        ids = [m.milestone_id for m in self.milestones]
        if len(set(ids)) != len(ids):
            raise InvalidTermsError("milestone ids repeat")
        if not ZERO <= self.retention_percent < HUNDRED:
            raise InvalidTermsError("retention is a percentage from 0 up to (not including) 100")
        if self.fee < 0:
            raise InvalidTermsError("a fee cannot be negative")
        percents = [m.percentage for m in self.milestones if m.percentage is not None]
        amounts = [m.amount for m in self.milestones if m.amount is not None]
        if percents and amounts:
            raise InvalidTermsError("milestones are all percentages or all amounts, not a mix")
        if percents and dsum(percents) != HUNDRED:
            raise InvalidTermsError(f"milestone percentages sum to {sum(percents)}, not 100")
        if amounts and dsum(amounts) != self.fee:
            raise InvalidTermsError(
                f"milestone amounts sum to {sum(amounts)}, not the fee {self.fee}"
            )
        if self.fee != Money(self.fee, self.currency).quantized().amount:
            raise InvalidTermsError(f"{self.fee} is not a whole number of {self.currency} units")

    def amounts(
        self, already_billed: Mapping[MilestoneId, Money] | None = None
    ) -> dict[MilestoneId, Money]:
        """Each milestone's amount; they sum exactly to the fee. Milestones already billed keep
        what they billed and a changed fee is re-split over the others."""
        fee = Money(self.fee, self.currency)
        parts = [(m.milestone_id, m.weight) for m in self.milestones]
        return split_fee(str(self.obligation_id), fee, parts, already_billed or {})

    def retention_on(self, amount: Money) -> Money:
        """The holdback withheld from one milestone's invoice, rounded half-up."""
        return amount.times(EXACT.divide(self.retention_percent, HUNDRED)).quantized()

    @property
    def final_milestones(self) -> tuple[MilestoneId, ...]:
        """The milestones whose acceptance releases the retention (all of them if none is
        marked final)."""
        marked = tuple(m.milestone_id for m in self.milestones if m.final)
        return marked or tuple(m.milestone_id for m in self.milestones)


ACCEPTED_STATES = (MilestoneState.ACCEPTED, MilestoneState.INVOICED)


def _accepted(milestones: Sequence[Milestone], obligation_id: ObligationId) -> set[MilestoneId]:
    return {
        m.milestone_id
        for m in milestones
        if m.obligation_id == obligation_id and m.state in ACCEPTED_STATES
    }


def milestone_source(milestone_id: MilestoneId) -> kit.SourceRef:
    """The source a milestone line allocates to."""
    return kit.SourceRef(kit.SourceKind.MILESTONE, milestone_id)


def _withheld(milestone_id: MilestoneId) -> kit.SourceRef:
    return kit.SourceRef(kit.SourceKind.RETENTION, f"{milestone_id}:withheld")


def _released(milestone_id: MilestoneId) -> kit.SourceRef:
    return kit.SourceRef(kit.SourceKind.RETENTION, f"{milestone_id}:released")


def billed_milestones(terms: MilestoneTerms, ledger: kit.BilledLedger) -> dict[MilestoneId, Money]:
    """What each milestone already on an invoice keeps on the schedule: what it was billed,
    never net of credits (a credit never moves money onto the other milestones)."""
    sources = {spec.milestone_id: milestone_source(spec.milestone_id) for spec in terms.milestones}
    return kept_by_parts(ledger, sources, terms.currency)


def bill_milestones(
    history: kit.ObligationHistory[MilestoneTerms], ctx: kit.BillingContext
) -> kit.ObligationBilling:
    """Bill every accepted milestone not yet billed, and again what credits released on one;
    release retention at final acceptance."""
    in_force: kit.TermsInForce[MilestoneTerms] = history.latest_by(ctx.period.end)
    terms = in_force.terms
    accepted = _accepted(ctx.milestones, history.obligation_id)
    billed = billed_milestones(terms, ctx.ledger)
    amounts = terms.amounts(billed)
    lines: list[kit.ProposedLine] = []
    for spec in terms.milestones:
        source = milestone_source(spec.milestone_id)
        description = f"{terms.name}: {spec.name}"
        if spec.milestone_id in billed:
            lines += billed_again(
                ctx.ledger,
                source,
                terms.currency,
                in_force.label,
                history.obligation_id,
                kit.LineKind.MILESTONE,
                description,
            )
            continue
        if spec.milestone_id not in accepted:
            continue
        amount = amounts[spec.milestone_id]
        lines.append(
            kit.ProposedLine.from_allocations(
                history.obligation_id,
                kit.LineKind.MILESTONE,
                description,
                amount,
                [kit.Allocation(source, Decimal(1), amount, in_force.label)],
            )
        )
        retention = terms.retention_on(amount)
        if retention.is_positive():
            withheld = kit.Allocation(_withheld(spec.milestone_id), Decimal(1), -retention,
                                  in_force.label)  # fmt: skip
            lines.append(
                kit.ProposedLine.from_allocations(
                    history.obligation_id,
                    kit.LineKind.RETENTION_WITHHELD,
                    f"{terms.name}: retention withheld on {spec.name} "
                    f"({terms.retention_percent:g} %)",
                    -retention,
                    [withheld],
                )
            )
    lines.extend(_retention_releases(history, ctx, terms, accepted, amounts, in_force.label))
    return kit.ObligationBilling(tuple(lines))


def _retention_releases(
    history: kit.ObligationHistory[MilestoneTerms],
    ctx: kit.BillingContext,
    terms: MilestoneTerms,
    accepted: set[MilestoneId],
    amounts: dict[MilestoneId, Money],
    label: str,
) -> list[kit.ProposedLine]:
    """One release line per milestone whose retention was withheld, once the final one is
    accepted; a release a credit gave back is released again, a written-off one is not."""
    if not all(mid in accepted for mid in terms.final_milestones):
        return []
    lines = []
    for spec in terms.milestones:
        released, withheld = _released(spec.milestone_id), _withheld(spec.milestone_id)
        description = f"{terms.name}: retention on {spec.name} released at final acceptance"
        if ctx.ledger.standing(released).is_invoiced:
            kind = kit.LineKind.RETENTION_RELEASE
            oid = history.obligation_id
            lines += billed_again(
                ctx.ledger, released, terms.currency, label, oid, kind, description
            )
            continue
        # Release exactly what was withheld; a milestone billed in this very run withholds
        # at today's amount.
        standing = ctx.ledger.standing(withheld)
        retention = (
            Money(EXACT.minus(standing.first_billed), terms.currency)
            if standing.is_invoiced
            else terms.retention_on(amounts[spec.milestone_id])
        )
        if spec.milestone_id in accepted and retention.is_positive():
            lines.append(
                kit.ProposedLine.from_allocations(
                    history.obligation_id,
                    kit.LineKind.RETENTION_RELEASE,
                    description,
                    retention,
                    [kit.Allocation(released, Decimal(1), retention, label)],
                )
            )
    return lines


def recognise_milestones(
    history: kit.ObligationHistory[MilestoneTerms], ctx: kit.RevenueContext
) -> Money:
    """Revenue on acceptance: the scheduled amount of every milestone accepted by `as_of`, less
    what write-off credits forgave on that milestone (its bill or its retention release)."""
    terms = history.latest_by(ctx.as_of).terms
    amounts = terms.amounts(billed_milestones(terms, ctx.ledger))
    total = Money.zero(ctx.currency)
    for m in ctx.milestones:
        if (
            m.obligation_id == history.obligation_id
            and m.state in ACCEPTED_STATES
            and m.accepted_on is not None
            and m.accepted_on <= ctx.as_of
            and m.milestone_id in amounts
        ):
            conceded = conceded_on(ctx.ledger, milestone_source(m.milestone_id), ctx.currency)
            conceded += conceded_on(ctx.ledger, _released(m.milestone_id), ctx.currency)
            total = total + amounts[m.milestone_id] - conceded
    return total


MILESTONES = kit.register_billing_model(
    kit.BillingModel(
        name="milestones",
        terms_type=MilestoneTerms,
        bill=bill_milestones,
        recognise=recognise_milestones,
        contract_value=fee_value,
        reads_time_entries=False,  # it bills its milestones (ADR 0060)
        summary=(
            "milestone amounts billed on acceptance, with retention withheld and released at "
            "final acceptance"
        ),
        example={
            "obligation_id": "prog",
            "name": "Transformation program",
            "fee": "400000.00",
            "milestones": [
                {"milestone_id": "M1", "name": "Discovery", "percentage": "25"},
                {"milestone_id": "M2", "name": "Design", "percentage": "25"},
                {"milestone_id": "M3", "name": "Build", "percentage": "25"},
                {"milestone_id": "M4", "name": "Go-live", "percentage": "25", "final": True},
            ],
            "retention_percent": "10",
            "passive_acceptance_days": 10,
        },
        adr="docs/adr/0026-credits-on-scheduled-fees.md",
        source_kinds=(kit.SourceKind.MILESTONE, kit.SourceKind.RETENTION),
        line_kinds=(
            kit.LineKind.MILESTONE,
            kit.LineKind.RETENTION_WITHHELD,
            kit.LineKind.RETENTION_RELEASE,
        ),
    )
)
