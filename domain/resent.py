"""A delivered fact sent again: a replay or a conflict.

Delivery is idempotent by the facts' own ids. An id already recorded (or seen earlier in the
same batch) is a duplicate when it says the same, with no effect, so a re-sent file or a
redelivered webhook changes nothing; it is a conflict, naming the fields that differ, when it
says something else. A change to a recorded fact is an explicit, audited correction, never a
re-send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from domain.money import EXACT

#: A recorded id sent again with other content.
ENTRY_CONFLICT = "entry_conflict"
EXPENSE_CONFLICT = "expense_conflict"

#: Fields compared only when the sender states them (a principal without `rates:read_cost`
#: never sends a cost rate; that is not a different entry).
_OPTIONAL = frozenset({"cost_rate"})
#: Fields whose values a conflict does not repeat back.
_UNSAID = frozenset({"cost_rate"})

Raw = TypeVar("Raw")


@attrs.frozen
class Rejection:
    """A delivered fact refused, with the rule's reason code."""

    item_id: str
    reason_code: str
    detail: str
    #: The item's place in its batch (from 0): tells a refused repeat of an id inside one
    #: batch apart from its first occurrence.
    position: int | None = None


def time_entry_says(entry: Any) -> dict[str, object]:
    """What makes a time entry that entry (the engagement is implied by the obligation)."""
    return {
        "obligation_id": entry.obligation_id,
        "resource_id": entry.resource_id,
        "role": entry.role,
        "work_date": entry.work_date,
        "hours": entry.hours,
        "task_id": entry.task_id,
        "billable": entry.billable,
        "cost_rate": entry.cost_rate,
    }


def expense_says(item: Any) -> dict[str, object]:
    """What makes an expense that expense."""
    return {
        "obligation_id": item.obligation_id,
        "resource_id": item.resource_id,
        "category": item.category,
        "incurred_on": item.incurred_on,
        "cost": item.cost,
        "description": item.description,
    }


def differences(sent: Mapping[str, object], known: Mapping[str, object]) -> list[str]:
    """The fields in which what was sent differs from what is known, each with both values
    (except those a conflict must not repeat back)."""
    found = []
    for name, value in sent.items():
        if name in _OPTIONAL and value is None:
            continue
        if value != known[name]:
            shown = "" if name in _UNSAID else f" {as_text(known[name])} (sent {as_text(value)})"
            found.append(f"{name}{shown}")
    return found


def as_text(value: object) -> str:
    """A value as a conflict names it: ISO dates, plain decimals."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(EXACT), "f")
    return str(value)


@attrs.frozen
class SortedOut(Generic[Raw]):
    """A batch's items by id: new ones (first occurrence, with its position), duplicates
    (same content as recorded or as earlier in the batch) and conflicts (other content)."""

    new: list[tuple[int, Raw]]
    duplicates: list[str]
    conflicts: list[Rejection]


def sort_out(
    items: Sequence[Raw],
    key: Callable[[Raw], str],
    says: Callable[[Any], dict[str, object]],
    recorded: Mapping[str, object],
    code: str,
    what: str,
) -> SortedOut[Raw]:
    """An id recorded or seen before in the batch is a replay when it says the same, else a
    conflict naming what differs; every other item is new."""
    new: list[tuple[int, Raw]] = []
    duplicates: list[str] = []
    conflicts: list[Rejection] = []
    first: dict[str, Raw] = {}
    for position, raw in enumerate(items):
        item_id = key(raw)
        if item_id in recorded:
            known, where = recorded[item_id], "is already recorded"
        elif item_id in first:
            known, where = first[item_id], "appears earlier in this batch"
        else:
            first[item_id] = raw
            new.append((position, raw))
            continue
        differing = differences(says(raw), says(known))
        if not differing:
            duplicates.append(item_id)
            continue
        detail = (
            f"{what} {item_id} {where} with other values: {'; '.join(differing)}. The same id "
            "with the same content is a replay; a change is an explicit correction"
        )
        conflicts.append(Rejection(item_id, code, detail, position))
    return SortedOut(new, duplicates, conflicts)
