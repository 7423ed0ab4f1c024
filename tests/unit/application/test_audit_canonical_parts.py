"""A store that numbers audit records as it writes them hashes the canonical JSON around the
sequence number (`canonical_parts`): the hash it gets is the one the application computes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from application.audit import GENESIS, canonical_parts, digest_of, record_transition
from application.records import AuditRecord


class _Log:
    def __init__(self, tail: AuditRecord | None) -> None:
        self.records: list[AuditRecord] = []
        self._tail = tail

    def last(self) -> AuditRecord | None:
        return self.records[-1] if self.records else self._tail

    def append(self, record: AuditRecord) -> None:
        self.records.append(record)

    def all(self) -> list[AuditRecord]:
        return list(self.records)

    def for_subject(self, subject: str) -> list[AuditRecord]:
        return [r for r in self.records if r.subject == subject]


_TEXT = st.text(max_size=40)
_TAIL = AuditRecord(
    41, datetime(2026, 3, 1, tzinfo=UTC), "a", "c", "s", "x", None, None, "", GENESIS, "f" * 64
)


@given(
    actor=_TEXT, correlation=_TEXT, subject=_TEXT, action=_TEXT, reason=_TEXT,
    before=st.none() | _TEXT, after=st.none() | _TEXT,
    at=st.datetimes(timezones=st.just(UTC)), tail=st.sampled_from([None, _TAIL]),
)  # fmt: skip
def test_the_hash_over_the_parts_and_the_sequence_is_the_records_hash(
    actor: str,
    correlation: str,
    subject: str,
    action: str,
    reason: str,
    before: str | None,
    after: str | None,
    at: datetime,
    tail: AuditRecord | None,
) -> None:
    log = _Log(tail)
    record = record_transition(
        log, at=at, actor=actor, correlation_id=correlation, subject=subject, action=action,
        before=before, after=after, reason=reason,
    )  # fmt: skip
    head, rest = canonical_parts(record)
    assert digest_of(record.previous_hash, f"{head}{record.sequence}{rest}") == record.hash


def test_a_quote_or_an_accent_in_a_subject_stays_inside_its_json_string() -> None:
    log = _Log(None)
    record = record_transition(
        log, at=datetime(2026, 3, 2, 9, tzinfo=UTC), actor='fran "the" controller',
        correlation_id="c-1", subject='invoice:"sequence":1,', action="apprové",
        before=None, after="approved",
    )  # fmt: skip
    head, rest = canonical_parts(record)
    assert head.endswith(',"sequence":')
    assert rest == ',"subject":"invoice:\\"sequence\\":1,"}'
    assert digest_of(GENESIS, f"{head}1{rest}") == record.hash
