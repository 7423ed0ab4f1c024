"""Priced hours to time lines: the walk along a not-to-exceed cap, and the lines it bills.

Entries are walked in billing order (work date, then id), each with its billable hours, its
rate and the label of the terms that priced it. An entry's open hours (billable hours less what
is settled) bill first as the hours someone released beyond the cap, then within what the cap
leaves; the part above the cap follows the overage policy (ADR 0007): billed and flagged, held,
written off, or held as blocked. What bills is grouped into one line per (over the cap or not,
role, rate, terms label), in that order, each allocation citing its entry.

The walk carries tuples, not value objects: it runs once per entry of every billing run and
every revenue measurement, and only its lines and exclusions leave this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

from domain import billing_kit as kit
from domain.ids import ObligationId
from domain.money import EXACT, Currency, Money
from domain.overage import NotToExceed, OveragePolicy
from domain.time_rows import BillableTime

ZERO = Decimal(0)
#: Hours are recorded to the micro-hour when an entry is split exactly at an amount cap.
HOUR_QUANTUM = Decimal("0.000001")

#: An entry in billing order: the entry (an entity or a row), its billable hours, its rate and
#: its terms label.
Priced: TypeAlias = tuple[BillableTime, Decimal, Money, str]
#: A part of an entry that bills: the entry, hours, exact value, over the cap, released
#: beyond it, and the rate amount and terms label it bills at.
Portion: TypeAlias = tuple[BillableTime, Decimal, Decimal, bool, bool, Decimal, str]

#: What an overage policy other than `bill` does with the hours above the cap.
_NOT_BILLED = {
    OveragePolicy.HOLD: (kit.Disposition.HELD, "over_cap_hold"),
    OveragePolicy.WRITE_OFF: (kit.Disposition.WRITTEN_OFF, "over_cap_write_off"),
    OveragePolicy.BLOCK: (kit.Disposition.HELD, "over_cap_blocked"),
}


class _CapMeter:
    """What is left under the cap as a walk takes the entries in order."""

    def __init__(self, cap: NotToExceed, billed_amount: Decimal, billed_hours: Decimal):
        self.amount_left = None if cap.amount is None else EXACT.subtract(cap.amount, billed_amount)
        self.hours_left = None if cap.hours is None else EXACT.subtract(cap.hours, billed_hours)

    def split(self, hours: Decimal, rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """(hours within the cap, their exact value, hours above the cap)."""
        fit_hours, fit_amount = hours, EXACT.multiply(hours, rate)
        if self.hours_left is not None and fit_hours > self.hours_left:
            fit_hours = max(ZERO, self.hours_left)
            fit_amount = EXACT.multiply(fit_hours, rate)
        if self.amount_left is not None and fit_amount > self.amount_left:
            fit_amount = max(ZERO, self.amount_left)
            exact_hours = EXACT.divide(fit_amount, rate)
            fit_hours = exact_hours.quantize(HOUR_QUANTUM, rounding=ROUND_HALF_UP, context=EXACT)
        return fit_hours, fit_amount, EXACT.subtract(hours, fit_hours)

    def consume(self, hours: Decimal, amount: Decimal) -> None:
        if self.hours_left is not None:
            self.hours_left = EXACT.subtract(self.hours_left, hours)
        if self.amount_left is not None:
            self.amount_left = EXACT.subtract(self.amount_left, amount)


def walk_cap(
    cap: NotToExceed | None,
    priced: Sequence[Priced],
    settled: Sequence[Decimal],
    billed: tuple[Decimal, Decimal],
    obligation_id: ObligationId,
    currency: Currency,
) -> tuple[list[Portion], list[kit.Exclusion]]:
    """Split every open entry at the cap, in order; say what bills and what does not.

    `settled[i]` is what of the i-th entry is no longer open; `billed` is the (time value,
    hours) the obligation's documents already billed, which the cap counts first."""
    meter = None if cap is None else _CapMeter(cap, *billed)
    policy = OveragePolicy.BILL if cap is None else cap.policy
    portions: list[Portion] = []
    exclusions: list[kit.Exclusion] = []
    for (entry, billable_hours, rate_money, label), done in zip(priced, settled, strict=True):
        open_hours = EXACT.subtract(billable_hours, done)
        if open_hours <= 0:
            continue
        rate = rate_money.amount
        if entry.released > 0:  # hours a person approved beyond the cap bill first
            released = min(open_hours, entry.released)
            amount = EXACT.multiply(released, rate)
            portions.append((entry, released, amount, True, True, rate, label))
            if meter is not None:
                meter.consume(released, amount)
            open_hours = EXACT.subtract(open_hours, released)
            if open_hours <= 0:
                continue
        if meter is None:  # no cap: every open hour bills within it
            portions.append((entry, open_hours, EXACT.multiply(open_hours, rate), False, False,
                             rate, label))  # fmt: skip
            continue
        fit_hours, fit_amount, over_hours = meter.split(open_hours, rate)
        if fit_hours > 0:
            portions.append((entry, fit_hours, fit_amount, False, False, rate, label))
            meter.consume(fit_hours, fit_amount)
        if over_hours <= 0:
            continue
        over_amount = EXACT.subtract(EXACT.multiply(open_hours, rate), fit_amount)
        if policy is OveragePolicy.BILL:
            portions.append((entry, over_hours, over_amount, True, False, rate, label))
            meter.consume(over_hours, over_amount)
            continue
        disposition, reason = _NOT_BILLED[policy]
        ref = kit.SourceRef(kit.SourceKind.TIME_ENTRY, entry.entry_id)
        value = Money(over_amount, currency)
        exclusions.append(kit.Exclusion(obligation_id, ref, over_hours, value, disposition, reason))
    return portions, exclusions


def time_lines(
    obligation_id: ObligationId, portions: Sequence[Portion], currency: Currency, name: str
) -> list[kit.ProposedLine]:
    """One line per (over the cap or not, role, rate, terms label), in that order; a line over
    the cap is flagged `approved_over_cap` when all of it was released, `over_cap` otherwise."""
    groups: dict[tuple[bool, str, Decimal, str], list[Portion]] = {}
    for portion in portions:
        key = (portion[3], portion[0].role, portion[5], portion[6])
        group = groups.get(key)
        if group is None:
            groups[key] = [portion]
        else:
            group.append(portion)
    lines = []
    # Bound once: the allocations are built once per entry of every run, and summed as they
    # are built (`ProposedLine.summed`), not in a second pass over them.
    allocation, source, time_entry = kit.Allocation, kit.SourceRef, kit.SourceKind.TIME_ENTRY
    add = EXACT.add
    for (over_cap, role, rate, label), group in sorted(groups.items(), key=lambda kv: kv[0]):
        allocations: list[kit.Allocation] = []
        append = allocations.append
        quantity = exact = ZERO
        for entry, hours, amount, _over, _released, _rate, _label in group:
            append(allocation(source(time_entry, entry.entry_id), hours, Money(amount, currency),
                              label))  # fmt: skip
            quantity = add(quantity, hours)
            exact = add(exact, amount)
        flags: tuple[str, ...] = ()
        if over_cap:
            released = all(g[4] for g in group)
            flags = ("approved_over_cap",) if released else ("over_cap",)
        lines.append(
            kit.ProposedLine.summed(
                obligation_id,
                kit.LineKind.TIME_OVER_CAP if over_cap else kit.LineKind.TIME,
                f"{name}: {role}" + (" (over cap)" if over_cap else ""),
                Money(rate, currency),
                tuple(allocations),
                (quantity, exact),
                flags,
            )
        )
    return lines
