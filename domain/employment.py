"""Which legal entity a resource (consultant) belongs to, and from when.

A resource belongs to one legal entity at a time. Its employment history is a list of spells,
oldest first, each in one entity from a first day to an optional last day (included); a
transfer between entities ends one spell and starts the next. Intercompany recharges
(`domain.intercompany`, ADR 0031) ask the history which entity employed the resource on each
work date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import pairwise

import attrs

from domain.errors import DomainError
from domain.ids import LegalEntityId, ResourceId


class InvalidEmploymentHistoryError(DomainError):
    """A resource belongs to one legal entity at a time: spells are ordered and never overlap."""

    code = "invalid_employment_history"


@attrs.frozen
class Employment:
    """A spell of a resource in one legal entity, from `start` to `end` (inclusive; open
    when None)."""

    legal_entity_id: LegalEntityId
    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        """The spell covers the days from its start to its end, both included."""
        return self.start <= day and (self.end is None or day <= self.end)


@attrs.frozen
class EmploymentHistory:
    """The legal entities a resource belonged to, oldest first. Build it with `of`."""

    resource_id: ResourceId
    employments: tuple[Employment, ...]

    @classmethod
    def of(cls, resource_id: ResourceId, employments: Iterable[Employment]) -> EmploymentHistory:
        """Spells are given oldest first, start on distinct dates, end no earlier than they
        start, and never overlap; only the last may be open-ended."""
        spells = tuple(employments)
        if not spells:
            raise InvalidEmploymentHistoryError(
                f"resource {resource_id}: an employment history has at least one spell"
            )
        for number, spell in enumerate(spells, start=1):
            where = f"resource {resource_id}, spell {number}"
            if not spell.legal_entity_id.strip():
                raise InvalidEmploymentHistoryError(f"{where}: name the legal entity")
            if spell.end is not None and spell.end < spell.start:
                raise InvalidEmploymentHistoryError(
                    f"{where}: ends on {spell.end}, before it starts on {spell.start}"
                )
        for number, (before, after) in enumerate(pairwise(spells), 2):
            where = f"resource {resource_id}, spell {number}"
            if after.start <= before.start:
                raise InvalidEmploymentHistoryError(
                    f"{where}: starts on {after.start}, not after the spell before it "
                    f"({before.start}); give the spells oldest first, each on its own date"
                )
            if before.end is None or after.start <= before.end:
                ends = "is open-ended" if before.end is None else f"ends on {before.end}"
                raise InvalidEmploymentHistoryError(
                    f"{where}: starts on {after.start} while the spell before it {ends}; "
                    "a resource belongs to one legal entity at a time"
                )
        return cls(resource_id, spells)

    @classmethod
    def transferred(
        cls,
        resource_id: ResourceId,
        first: LegalEntityId,
        since: date,
        transfers: Iterable[tuple[date, LegalEntityId]] = (),
    ) -> EmploymentHistory:
        """A resource in `first` from `since`, moved to another entity on each transfer date
        (the spell before ends the day before)."""
        starts = [(since, first), *transfers]
        spells = [
            Employment(entity, start, None if following is None else _day_before(following[0]))
            for (start, entity), following in zip(starts, [*starts[1:], None], strict=True)
        ]
        return cls.of(resource_id, spells)

    def entity_on(self, day: date) -> LegalEntityId | None:
        """The legal entity the resource belonged to on `day` (None outside every spell)."""
        for spell in self.employments:
            if spell.covers(day):
                return spell.legal_entity_id
        return None


def _day_before(day: date) -> date:
    return date.fromordinal(day.toordinal() - 1)
