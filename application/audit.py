"""The hash-chained audit trail: append a record per transition; verify the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

import attrs

from application.records import AuditRecord
from application.unit_of_work import AuditLog

GENESIS = "0" * 64


def _digest(record_fields: dict[str, object], previous_hash: str) -> str:
    canonical = json.dumps(record_fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def _fields(record: AuditRecord) -> dict[str, object]:
    data = attrs.asdict(record)
    data.pop("hash")
    data.pop("previous_hash")
    data["at"] = record.at.isoformat()
    return data


def record_transition(
    log: AuditLog,
    *,
    at: datetime,
    actor: str,
    correlation_id: str,
    subject: str,
    action: str,
    before: str | None,
    after: str | None,
    reason: str = "",
) -> AuditRecord:
    """Append one transition to the trail, chained to the previous record."""
    last = log.last()
    previous_hash = last.hash if last else GENESIS
    sequence = last.sequence + 1 if last else 1
    draft = AuditRecord(
        sequence,
        at,
        actor,
        correlation_id,
        subject,
        action,
        before,
        after,
        reason,
        previous_hash,
        "",
    )
    record = attrs.evolve(draft, hash=_digest(_fields(draft), previous_hash))
    log.append(record)
    return record


@attrs.frozen
class ChainReport:
    records: int
    first_broken: int | None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify_chain(records: Sequence[AuditRecord]) -> ChainReport:
    """Recompute every hash in order; report the first record that does not match."""
    previous_hash = GENESIS
    for expected_sequence, record in enumerate(records, 1):
        if record.sequence != expected_sequence:
            return ChainReport(
                len(records), record.sequence, f"expected record {expected_sequence} here"
            )
        if record.previous_hash != previous_hash:
            return ChainReport(len(records), record.sequence, "previous hash does not match")
        if _digest(_fields(record), previous_hash) != record.hash:
            return ChainReport(len(records), record.sequence, "contents do not match its hash")
        previous_hash = record.hash
    return ChainReport(len(records), None)
