"""Retroactive changes: a rate-card version or a contract amendment dated in the past.

Issued invoices are never edited. Unbilled items simply rate under the terms in force on their
date (the billing models already do that). Billed items whose value changed produce adjustment
allocations: same source, zero quantity (no hour is billed twice), the value difference, and a
terms label citing both versions ("contract v1, rate card RC v1 -> contract v1, rate card RC v2").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

import attrs

from domain import billing_kit as kit
from domain.ids import RateCardId, TimeEntryId
from domain.money import EXACT, Currency, Money, dsum
from domain.ratecard import RateCard
from domain.time_and_materials import TimeAndMaterialsTerms, rate_in_force
from domain.time_rows import BillableTime

ZERO = Decimal(0)
RATE_QUANTUM = Decimal("0.000001")


@attrs.frozen
class Repricing:
    """One billed source whose value under today's terms differs from what was billed."""

    document_id: str
    source: kit.SourceRef
    hours: Decimal
    old_rate: Decimal
    new_rate: Decimal
    delta: Decimal
    old_terms: str
    new_terms: str


def reprice_billed_time(
    history: kit.ObligationHistory[TimeAndMaterialsTerms],
    rate_cards: Mapping[RateCardId, RateCard],
    entries: Mapping[TimeEntryId, BillableTime],
    ledger: kit.BilledLedger,
) -> list[Repricing]:
    """Billed time of a T&M obligation whose terms in force on the work date have changed."""
    latest: dict[kit.SourceRef, kit.LedgerEntry] = {}
    for entry in ledger.entries_for(history.obligation_id):
        if entry.source.kind is kit.SourceKind.TIME_ENTRY and entry.amount.amount:
            latest[entry.source] = entry
    out = []
    # Every source here is a time entry: in id order, as SourceRef's own order would give.
    for source in sorted(latest, key=lambda ref: ref.source_id):
        hours = ledger.billed_quantity(source)
        time_entry = entries.get(TimeEntryId(source.source_id))
        if hours <= 0 or time_entry is None:
            continue
        billed = latest[source]
        _terms, rate, label = rate_in_force(history, rate_cards, time_entry)
        if label == billed.terms:
            continue
        # A concession by amount stays given: reprice the hours at the rates they were billed.
        value = EXACT.add(ledger.billed_value(source), ledger.amount_credited_in(source))
        new_value = EXACT.multiply(hours, rate.amount)
        delta = EXACT.subtract(new_value, value)
        if delta == 0:
            continue
        old_rate = EXACT.divide(value, hours).quantize(RATE_QUANTUM, ROUND_HALF_UP, EXACT)
        out.append(
            Repricing(
                billed.document_id,
                source,
                hours,
                old_rate,
                rate.amount,
                delta,
                billed.terms,
                label,
            )
        )
    return out


def adjustment_lines(
    history: kit.ObligationHistory[TimeAndMaterialsTerms],
    repricings: Sequence[Repricing],
    currency: Currency,
) -> dict[str, list[kit.ProposedLine]]:
    """Adjustment lines per original document, one per change of rate (old -> new terms)."""
    groups: dict[tuple[str, str, str, Decimal, Decimal], list[Repricing]] = {}
    for r in repricings:
        key = (r.document_id, r.old_terms, r.new_terms, r.old_rate, r.new_rate)
        groups.setdefault(key, []).append(r)
    by_document: dict[str, list[kit.ProposedLine]] = {}
    for (document_id, old, new, old_rate, new_rate), group in sorted(groups.items()):
        allocations = [
            kit.Allocation(
                r.source, ZERO, Money(r.delta, currency), f"{r.old_terms} -> {r.new_terms}"
            )
            for r in group
        ]
        hours = dsum(r.hours for r in group)
        line = kit.ProposedLine.from_allocations(
            history.obligation_id,
            kit.LineKind.ADJUSTMENT,
            f"Retroactive rate change on {document_id}: {old} -> {new} "
            f"({hours} h at {old_rate:f} -> {new_rate:f})",
            Money(EXACT.subtract(new_rate, old_rate), currency),
            allocations,
        )
        # The hours are re-rated, not billed again: the allocations carry zero quantity.
        line = attrs.evolve(line, quantity=hours)
        by_document.setdefault(document_id, []).append(line)
    return by_document


def rerate(
    history: kit.ObligationHistory[TimeAndMaterialsTerms], ctx: kit.BillingContext
) -> dict[str, list[kit.ProposedLine]]:
    """Adjustment lines, per document that billed it, for billed time of a T&M obligation
    whose terms in force on the work date have changed."""
    entries = {entry.entry_id: entry for entry in ctx.time_entries}
    repricings = reprice_billed_time(history, ctx.rate_cards, entries, ctx.ledger)
    if not repricings:
        return {}
    return adjustment_lines(history, repricings, history.latest.terms.currency)
