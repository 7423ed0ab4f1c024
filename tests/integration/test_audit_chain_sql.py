"""The audit chain as each database appends to it: on PostgreSQL the records of a commit are
numbered and hashed by the INSERT under the chain's lock (audit_chain.py), on SQLite in Python;
either way `verify_chain` finds the chain intact, whatever text the records hold."""

from __future__ import annotations

import attrs

from application.audit import verify_chain
from application.audit_trail import AuditEntry
from tests.integration.support import SqlApp


@attrs.frozen
class _Stated:
    entry: AuditEntry

    def audit_entry(self) -> AuditEntry:
        return self.entry


_AWKWARD = (
    AuditEntry('invoice:"INV-1"', "approve", "draft", "approved", "checked by fran"),
    AuditEntry("engagement:É-7", "suspend", "active", None, 'client said "pause", \\ wait'),
    AuditEntry("period:2026-03", "close", None, "closed", "ünïcødé ✓ and a\nnewline"),
)


def test_several_records_of_one_commit_chain_verifiably_whatever_text_they_hold(
    app: SqlApp,
) -> None:
    before = len(app.data.audit)
    for _ in range(2):  # the second commit chains onto the first one's last record
        with app.bus.deps.uow(app.as_("fran")) as uow:
            for entry in _AWKWARD:
                uow.record(_Stated(entry))
            uow.commit()
    records = app.data.audit
    assert len(records) == before + 2 * len(_AWKWARD)
    assert [r.sequence for r in records] == list(range(1, len(records) + 1))
    written = records[before:]
    assert [(r.subject, r.after, r.reason) for r in written[: len(_AWKWARD)]] == [
        (e.subject, e.after, e.reason) for e in _AWKWARD
    ]
    assert {r.actor for r in written} == {"fran"}
    assert verify_chain(records).intact
