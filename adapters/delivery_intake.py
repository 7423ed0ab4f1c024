"""Records of a declared delivery kind from what a reporting system sends (ADR 0050): plain
data (a JSON object, a CSV row) built strictly into the kind's record class through the one
converter, for the HTTP route, the webhook and the CSV import alike.

A field that is missing, unknown or of the wrong type is a problem at its path; a record that
is well-formed but that its class refuses (its own validation raising a `DomainError`) is a
rejection with that rule's code, reported with the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from adapters.serialization import SerializationError, structure
from application import commands as c
from domain.delivery_kinds import DeliveryKind, DeliveryRecord
from domain.errors import DomainError
from domain.resent import Rejection


@attrs.frozen
class FieldProblem:
    """A malformed field of one record: the record's place, the field's path, what is wrong."""

    position: int
    path: tuple[str, ...]
    detail: str


@attrs.frozen
class Structured:
    """The records built, the ones their class refused, and the malformed ones."""

    records: tuple[DeliveryRecord, ...]
    refused: tuple[Rejection, ...]
    problems: tuple[FieldProblem, ...]


def structure_records(kind: DeliveryKind[Any], raw: Sequence[object]) -> Structured:
    """Each item built as the kind's record class, strictly (unknown fields refused)."""
    records, refused, problems = [], [], []
    for position, item in enumerate(raw):
        try:
            records.append(structure(item, kind.record_type))
        except SerializationError as error:
            rule = _rule(error.__cause__)
            if rule is not None:
                record_id = item.get("record_id") if isinstance(item, Mapping) else None
                refused.append(Rejection(str(record_id or ""), rule.code, str(rule), position))
            else:
                problems += [FieldProblem(position, _path(p), d) for p, d in error.problems]
    return Structured(tuple(records), tuple(refused), tuple(problems))


def outcomes(
    sent: Sequence[str], report: c.DeliveryRecordsReport
) -> list[tuple[str, str, str | None, str | None]]:
    """One (record id, status, reason code, detail) per record sent, in order: accepted,
    corrected, duplicate or rejected."""
    at = {r.position: r for r in report.rejected}
    first: dict[str, int] = {}
    out = []
    for position, record_id in enumerate(sent):
        first.setdefault(record_id, position)
        if position in at:
            why = at[position]
            out.append((record_id, "rejected", why.reason_code, why.detail))
        elif first[record_id] == position and record_id in report.accepted:
            out.append((record_id, "accepted", None, None))
        elif first[record_id] == position and record_id in report.corrected:
            out.append((record_id, "corrected", None, None))
        else:
            out.append((record_id, "duplicate", None, None))
    return out


def record_ids(raw: Iterable[object]) -> list[str]:
    """The `record_id` of each item sent (empty when it sent none)."""
    return [str(item.get("record_id") or "") if isinstance(item, Mapping) else "" for item in raw]


def _rule(error: BaseException | None) -> DomainError | None:
    """The business rule that refused a well-formed record, when only rules refused it."""
    if isinstance(error, DomainError):
        return error
    if isinstance(error, BaseExceptionGroup):
        found = [_rule(sub) for sub in error.exceptions]
        if found and all(r is not None for r in found):
            return found[0]
    return None


def _path(path: str) -> tuple[str, ...]:
    """`$.units` or `$.tags[0]` as its parts: ("units",), ("tags", "0")."""
    parts: list[str] = []
    for piece in path.removeprefix("$").replace("[", ".").replace("]", "").split("."):
        if piece:
            parts.append(piece.strip("'"))
    return tuple(parts)
