"""A store that numbers audit records as it writes them hashes the canonical JSON around the
sequence number (`canonical_parts`): the hash it gets is the one the application computes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import attrs
from hypothesis import given
from hypothesis import strategies as st

from adapters.sqlalchemy.audit_chain import chained
from application.audit import GENESIS, canonical_parts, digest_of, verify_chain
from application.records import AuditRecord

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
    draft = AuditRecord(0, at, actor, correlation, subject, action, before, after, reason, "", "")
    (record,) = chained(tail, [draft]).records  # chained by `record_transition`
    head, rest = canonical_parts(record)
    assert digest_of(record.previous_hash, f"{head}{record.sequence}{rest}") == record.hash
    # `record_transition` writes the fields it hashes out by hand; the verifier reads them
    # off the record: the two agree, whatever the text.
    assert record.previous_hash == (tail.hash if tail else GENESIS)
    assert record.hash == digest_of(record.previous_hash, _canonical(record))
    assert tail is not None or verify_chain([record]).intact


def test_a_quote_or_an_accent_in_a_subject_stays_inside_its_json_string() -> None:
    draft = AuditRecord(
        0, datetime(2026, 3, 2, 9, tzinfo=UTC), 'fran "the" controller', "c-1",
        'invoice:"sequence":1,', "apprové", None, "approved", "", "", "",
    )  # fmt: skip
    (record,) = chained(None, [draft]).records
    head, rest = canonical_parts(record)
    assert head.endswith(',"sequence":')
    assert rest == ',"subject":"invoice:\\"sequence\\":1,"}'
    assert digest_of(GENESIS, f"{head}1{rest}") == record.hash


def _canonical(record: AuditRecord) -> str:
    """The canonical JSON the verifier hashes: every field but the hashes, the time as ISO."""
    fields = {k: v for k, v in attrs.asdict(record).items() if "hash" not in k}
    fields["at"] = record.at.isoformat()
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
