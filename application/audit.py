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


def digest_of(previous_hash: str, canonical: str) -> str:
    """The hash of a record: SHA-256 over the previous hash and the record's canonical JSON."""
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def _digest(record_fields: dict[str, object], previous_hash: str) -> str:
    canonical = json.dumps(record_fields, sort_keys=True, separators=(",", ":"), default=str)
    return digest_of(previous_hash, canonical)


def _fields(record: AuditRecord) -> dict[str, object]:
    data = attrs.asdict(record)
    data.pop("hash")
    data.pop("previous_hash")
    data["at"] = record.at.isoformat()
    return data


def canonical_parts(record: AuditRecord) -> tuple[str, str]:
    """The canonical JSON a record's hash covers, as the text before its sequence number and
    the text after it: a store that numbers records as it writes them (under the chain's
    lock) hashes `previous_hash|before + str(sequence) + after` and gets the same hash."""
    fields = _fields(record)
    del fields["sequence"]
    subject = fields.pop("subject")  # sorted, "sequence" and "subject" are the last two keys
    rest = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return rest[:-1] + ',"sequence":', ',"subject":' + json.dumps(subject, default=str) + "}"


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
    # `_fields` of the record, written out: a billing run chains a record per draft, and
    # building the record twice and walking it with `attrs.asdict` cost more than the hash.
    fields = {
        "sequence": sequence,
        "at": at.isoformat(),
        "actor": actor,
        "correlation_id": correlation_id,
        "subject": subject,
        "action": action,
        "before": before,
        "after": after,
        "reason": reason,
    }
    digest = _digest(fields, previous_hash)
    record = AuditRecord(
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
        digest,
    )
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
